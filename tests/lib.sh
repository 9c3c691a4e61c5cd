# lib.sh - shared library of certwatch's integration tests.
#
# Sourced by every tests/*.sh after it is started by automake's TAP driver
# with CERTWATCH, TESTS_SRCDIR and TESTS_BUILDDIR in the environment.  It
# gives: TAP helpers (the plan is printed by done_testing at the end, so a
# script that dies half-way is reported as an error), a throw-away CA,
# loopback ports per script, a private temporary directory removed on exit,
# servers started and stopped by pid, a web fixture (certificates on disk
# that a private nginx serves) with the certwatch.conf pieces to guard it,
# and helpers to read what a server serves (openssl s_client) and what
# certwatch reports (JSON).
#
# Scripts run in parallel under make -j: each one calls port_range with its
# own offset so that no two scripts ever pick the same port.

set -u

: "${CERTWATCH:?CERTWATCH must name the certwatch binary}"
: "${TESTS_SRCDIR:?TESTS_SRCDIR must name the tests source directory}"
: "${TESTS_BUILDDIR:=.}"

# The daemons live in sbin, which a non-login shell may lack.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
export PATH

if [ -x /usr/bin/python3 ]; then
	PYTHON=/usr/bin/python3    # Debian's, not whatever shim is first on PATH
else
	PYTHON=python3
fi

# ---- TAP ---------------------------------------------------------------

tap_n=0
tap_failed=0

skip_all() {
	printf '1..0 # SKIP %s\n' "$*"
	exit 0
}

# Setup that must work did not: the whole script is an error, not a skip.
bail_out() {
	printf 'Bail out! %s\n' "$*"
	exit 1
}

diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

_tap_result() {    # RESULT(0 pass) DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		printf 'ok %d - %s\n' "$tap_n" "$2"
	else
		printf 'not ok %d - %s\n' "$tap_n" "$2"
		tap_failed=$((tap_failed + 1))
	fi
}

# skip REASON: one test that cannot run here.
skip() {
	tap_n=$((tap_n + 1))
	printf 'ok %d # SKIP %s\n' "$tap_n" "$1"
}

# ok DESCRIPTION COMMAND [ARG...]: passes when the command succeeds.
ok() {
	_desc=$1
	shift
	"$@"
	_rc=$?
	_tap_result "$_rc" "$_desc"
	[ "$_rc" -eq 0 ] || diag "command failed (exit $_rc): $*"
	return "$_rc"
}

# is GOT EXPECTED DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then
		_tap_result 0 "$3"
		return 0
	fi
	_tap_result 1 "$3"
	diag "     got: '$1'" "expected: '$2'"
	return 1
}

# isnt GOT UNEXPECTED DESCRIPTION
isnt() {
	if [ "$1" != "$2" ]; then
		_tap_result 0 "$3"
		return 0
	fi
	_tap_result 1 "$3"
	diag "     got: '$1'" "expected anything else"
	return 1
}

# like GOT EXTENDED-REGEX DESCRIPTION
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		_tap_result 0 "$3"
		return 0
	fi
	_tap_result 1 "$3"
	diag "     got: '$1'" "expected to match: /$2/"
	return 1
}

# contains GOT STRING DESCRIPTION: GOT holds STRING as it is (no regex:
# base64 and file names carry + . and /).
contains() {
	case $1 in
	*"$2"*)
		_tap_result 0 "$3"
		return 0
		;;
	esac
	_tap_result 1 "$3"
	diag "     got: '$1'" "expected to contain: '$2'"
	return 1
}

# unlike GOT EXTENDED-REGEX DESCRIPTION
unlike() {
	if ! printf '%s\n' "$1" | grep -Eq -- "$2"; then
		_tap_result 0 "$3"
		return 0
	fi
	_tap_result 1 "$3"
	diag "     got: '$1'" "expected not to match: /$2/"
	return 1
}

# same_fp GOT REFERENCE DESCRIPTION: GOT is the reference fingerprint, and
# the reference is one (two empty strings from two failures are no match).
same_fp() {
	if printf '%s\n' "$2" | grep -Eqx '[0-9a-f]{64}' && [ "$1" = "$2" ]; then
		_tap_result 0 "$3"
		return 0
	fi
	_tap_result 1 "$3"
	diag "      got: '$1'" "reference: '$2'"
	return 1
}

done_testing() {
	echo "1..$tap_n"
	exit 0
}

# ---- prerequisites -------------------------------------------------------

require_root() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (private daemon instances)"
}

# require_cmd CMD...: skips the whole script when one is missing.
require_cmd() {
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 || skip_all "$_c is not installed"
	done
}

require_certwatch_check() {
	[ -x "$CERTWATCH" ] || bail_out "$CERTWATCH is not built"
}

# server_test PORT-OFFSET CMD...: the start of a test against servers of
# its own: skips unless root and every CMD is installed, bails out unless
# certwatch is built, takes the script's port range (port_range) and makes
# the throw-away CA.
server_test() {
	_st_offset=$1
	shift
	require_root
	require_cmd "$@"
	require_certwatch_check
	port_range "$_st_offset"
	ca_init || bail_out "cannot make the test CA"
}

# ---- temporary directory and cleanup ------------------------------------

# Commands run at exit, newest first (servers are stopped before the
# directory they live in is removed).
_cleanups=""

at_exit() {
	_cleanups="$*
$_cleanups"
}

_run_cleanups() {
	_status=$?
	trap - EXIT INT TERM HUP
	_ifs=$IFS
	IFS='
'
	for _cmd in $_cleanups; do
		IFS=$_ifs
		eval "$_cmd" >/dev/null 2>&1
	done
	IFS=$_ifs
	if [ -n "${TEST_TMP:-}" ] && [ -d "$TEST_TMP" ]; then
		if [ -n "${KEEP_TEST_TMP:-}" ]; then
			echo "# kept $TEST_TMP" >&2
		else
			rm -rf "$TEST_TMP"
		fi
	fi
	exit "$_status"
}

# Daemons that drop privileges (Dovecot's login processes, Postfix) must be
# able to traverse the directory; nothing secret is kept there but test keys.
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/certwatch-test.XXXXXX") || bail_out "mktemp failed"
chmod 0755 "$TEST_TMP"
trap _run_cleanups EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---- processes -------------------------------------------------------------

# start_bg NAME COMMAND [ARG...]: runs the command in the background with
# its output in $TEST_TMP/NAME.log; sets bg_pid and stops it at exit.  Not
# in a command substitution: the cleanup would be registered in a subshell.
start_bg() {
	_name=$1
	shift
	"$@" >"$TEST_TMP/$_name.log" 2>&1 </dev/null &
	bg_pid=$!
	at_exit "stop_pid $bg_pid"
}

# stop_pid PID: SIGTERM, up to 5 s of patience, then SIGKILL.  Only this pid.
stop_pid() {
	_pid=$1
	kill -0 "$_pid" 2>/dev/null || return 0
	kill -TERM "$_pid" 2>/dev/null
	wait_exit "$_pid" 50 || kill -KILL "$_pid" 2>/dev/null
	wait "$_pid" 2>/dev/null
	return 0
}

# wait_exit PID TENTHS: waits up to TENTHS tenths of a second for PID to
# end; fails when it is still there.
wait_exit() {
	_we_i=0
	while kill -0 "$1" 2>/dev/null; do
		[ "$_we_i" -ge "$2" ] && return 1
		sleep 0.1
		_we_i=$((_we_i + 1))
	done
	return 0
}

# stop_pidfile FILE: stops the process whose pid the file holds.
stop_pidfile() {
	[ -s "$1" ] || return 0
	_p=$(head -n 1 "$1" | tr -dc '0-9')
	[ -n "$_p" ] && stop_pid "$_p"
	return 0
}

# now_ms: monotonic enough wall clock in milliseconds.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# ---- ports -------------------------------------------------------------------

# port_range OFFSET: this script's ports are 21000 + 100*OFFSET and up.
# The next candidate lives in a file so that $(free_port) advances it.
port_range() {
	echo $((21000 + 100 * $1)) >"$TEST_TMP/.next_port"
	_port_end=$((21000 + 100 * $1 + 100))
}

_port_free() {    # HOST PORT
	"$PYTHON" - "$1" "$2" <<'EOF'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
# As the servers do: connections of an earlier run in TIME_WAIT do not make
# the port busy, a listener does.
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind((host, port))
except OSError:
    sys.exit(1)
EOF
}

# free_port: prints the next port of this script's range free on 127.0.0.1.
free_port() {
	_p=$(cat "$TEST_TMP/.next_port")
	while [ "$_p" -lt "$_port_end" ]; do
		echo $((_p + 1)) >"$TEST_TMP/.next_port"
		if _port_free 127.0.0.1 "$_p"; then
			echo "$_p"
			return 0
		fi
		_p=$((_p + 1))
	done
	bail_out "no free port left in this script's range"
}

# wait_port HOST PORT [SECONDS] [PID]: waits until something accepts
# connections there; fails after SECONDS (10), or early when PID has died.
wait_port() {
	"$PYTHON" - "$1" "$2" "${3:-10}" "${4:-0}" <<'EOF'
import os, socket, sys, time
host, port, limit, pid = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
end = time.monotonic() + limit
while time.monotonic() < end:
    if pid:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            sys.exit(2)
    try:
        socket.create_connection((host, port), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

# have_ipv6_loopback: true when a socket can be bound on ::1.
have_ipv6_loopback() {
	"$PYTHON" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null
}

# ---- a throw-away CA ------------------------------------------------------

CA_DIR="$TEST_TMP/ca"

_openssl_date() {    # SECONDS from now -> YYYYMMDDHHMMSSZ
	date -u -d "@$(($(date +%s) + $1))" +%Y%m%d%H%M%SZ
}

# ca_init: a root CA (ECDSA P-256) in $CA_DIR; $CA_DIR/root.pem.
ca_init() {
	mkdir -p "$CA_DIR/newcerts" || return 1
	: >"$CA_DIR/index.txt"
	echo 1000 >"$CA_DIR/serial"
	cat >"$CA_DIR/ca.cnf" <<EOF
[ ca ]
default_ca = testca
[ testca ]
dir = $CA_DIR
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
certificate = \$dir/root.pem
private_key = \$dir/root.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = certwatch test root
EOF
	openssl req -x509 -new -config "$CA_DIR/ca.cnf" \
		-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$CA_DIR/root.key" -out "$CA_DIR/root.pem" -days 3650 \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign \
		>"$CA_DIR/openssl.log" 2>&1
}

# ca_leaf OUT_PREFIX DAYS NAME [NAME...]: a fresh key and a leaf for the
# names (first one is the CN), valid from an hour ago for DAYS days (DAYS
# may be negative: an expired certificate).  Writes OUT_PREFIX.key,
# OUT_PREFIX.crt (the leaf alone) and OUT_PREFIX.fullchain.pem (leaf, root).
# CA_NOT_BEFORE=SECONDS (relative to now) overrides the start; CA_KEY=rsa
# makes an RSA 2048 key instead of ECDSA P-256, CA_KEY_FILE=FILE reuses the
# key in FILE (copied to OUT_PREFIX.key); CA_ISSUER=PREFIX signs with
# the intermediate ca_intermediate made at PREFIX instead of the root, and
# then OUT_PREFIX.fullchain.pem is the leaf and that intermediate.
ca_leaf() {
	_out=$1
	_days=$2
	shift 2
	_cn=$1
	_sans=""
	for _n in "$@"; do
		case $_n in
		*[!0-9.]*) _sans="$_sans,DNS:$_n" ;;
		*) _sans="$_sans,IP:$_n" ;;
		esac
	done
	_sans=${_sans#,}
	_nb=${CA_NOT_BEFORE:--3600}
	if [ "$_days" -lt 0 ]; then
		_nb=$((_days * 86400 - 86400))
	fi
	cat >"$_out.ext" <<EOF
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $_sans
EOF
	if [ -n "${CA_KEY_FILE:-}" ]; then
		cp "$CA_KEY_FILE" "$_out.key.new" && mv -f "$_out.key.new" "$_out.key" || return 1
		set -- -key "$_out.key"
	elif [ "${CA_KEY:-ec}" = rsa ]; then
		set -- -newkey rsa:2048 -nodes -keyout "$_out.key"
	else
		set -- -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$_out.key"
	fi
	_issuer=${CA_ISSUER:-$CA_DIR/root}
	[ -z "${CA_ISSUER:-}" ] && _issuer_crt=$CA_DIR/root.pem || _issuer_crt=$CA_ISSUER.crt
	openssl req -new "$@" -subj "/CN=$_cn" -out "$_out.csr" \
		>>"$CA_DIR/openssl.log" 2>&1 &&
	openssl ca -batch -notext -config "$CA_DIR/ca.cnf" -in "$_out.csr" \
		-cert "$_issuer_crt" -keyfile "$_issuer.key" \
		-out "$_out.crt" -extfile "$_out.ext" \
		-startdate "$(_openssl_date "$_nb")" \
		-enddate "$(_openssl_date $((_days * 86400)))" \
		>>"$CA_DIR/openssl.log" 2>&1 &&
	cat "$_out.crt" "$_issuer_crt" >"$_out.fullchain.pem" &&
	rm -f "$_out.csr" "$_out.ext"
}

# ca_intermediate OUT_PREFIX FROM_DAYS TO_DAYS [KEY]: an intermediate CA
# named "certwatch test intermediate", signed by the root, valid from
# FROM_DAYS to TO_DAYS days from now (both may be negative: an expired
# one), on the key KEY (a new ECDSA P-256 key when not given; the same key
# and name again make a re-issued or cross-signed intermediate).  Writes
# OUT_PREFIX.key and OUT_PREFIX.crt; CA_ISSUER=OUT_PREFIX makes leaves it
# signs.
ca_intermediate() {
	if [ -n "${4:-}" ]; then
		cp "$4" "$1.key" || return 1
	else
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" \
			>>"$CA_DIR/openssl.log" 2>&1 || return 1
	fi
	printf 'basicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n' \
		>"$1.ext"
	openssl req -new -key "$1.key" -subj "/CN=certwatch test intermediate" -out "$1.csr" \
		>>"$CA_DIR/openssl.log" 2>&1 &&
	openssl ca -batch -notext -config "$CA_DIR/ca.cnf" -in "$1.csr" -out "$1.crt" \
		-extfile "$1.ext" -startdate "$(_openssl_date $(($2 * 86400)))" \
		-enddate "$(_openssl_date $(($3 * 86400)))" >>"$CA_DIR/openssl.log" 2>&1 &&
	rm -f "$1.csr" "$1.ext"
}

# cert_fp FILE: the SHA-256 fingerprint of the first certificate in FILE.
cert_fp() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null |
		sed 's/^.*=//; s/://g' | tr 'A-F' 'a-f'
}

# ca_leaves DAYS NAME PREFIX...: ca_leaf $TEST_TMP/PREFIX DAYS NAME for
# each PREFIX; bails out when one cannot be made.
ca_leaves() {
	_cl_days=$1
	_cl_name=$2
	shift 2
	for _cl_prefix in "$@"; do
		ca_leaf "$TEST_TMP/$_cl_prefix" "$_cl_days" "$_cl_name" ||
			bail_out "cannot make a certificate"
	done
}

# leaf_fp PREFIX: the fingerprint of the leaf ca_leaves made at PREFIX.
leaf_fp() {
	cert_fp "$TEST_TMP/$1.crt"
}

# ---- what the server serves -----------------------------------------------

# served_fp HOST PORT [STARTTLS-PROTO|-] [SNI] [extra s_client args...]:
# the fingerprint of the leaf openssl s_client sees; empty on failure.
served_fp() {
	_host=$1
	_port=$2
	_proto=${3:--}
	_sni=${4:-}
	shift 2
	[ $# -gt 0 ] && shift
	[ $# -gt 0 ] && shift
	case $_host in
	*:*) _target="[$_host]:$_port" ;;
	*) _target="$_host:$_port" ;;
	esac
	set -- -connect "$_target" "$@"
	[ "$_proto" != - ] && set -- "$@" -starttls "$_proto"
	[ -n "$_sni" ] && set -- "$@" -servername "$_sni"
	timeout 10 openssl s_client "$@" </dev/null 2>"$TEST_TMP/s_client.err" |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null |
		sed 's/^.*=//; s/://g' | tr 'A-F' 'a-f'
}

# ---- what certwatch says -----------------------------------------------------

# cw ARGS...: runs certwatch with a deadline (a hang is a failure, not a
# stuck test suite); output in $cw_out, stderr in $cw_err, exit in $cw_rc.
cw() {
	timeout -k 5 60 "$CERTWATCH" "$@" >"$TEST_TMP/cw.out" 2>"$TEST_TMP/cw.err"
	cw_rc=$?
	cw_out=$(cat "$TEST_TMP/cw.out")
	cw_err=$(cat "$TEST_TMP/cw.err")
	if [ "$cw_rc" -ge 124 ]; then
		diag "certwatch $* ended with $cw_rc" "stdout: $cw_out" "stderr: $cw_err"
	elif [ "$cw_rc" -eq 3 ] && [ -n "$cw_err" ]; then
		diag "certwatch $* exited 3: $cw_err"
	fi
	# Under --enable-sanitizers a report does not always change the exit
	# status (UBSan recovers): count it as a failure of its own.
	if printf '%s\n' "$cw_err" | grep -Eq 'Sanitizer|runtime error:'; then
		_tap_result 1 "certwatch $*: no sanitizer report"
		diag "$cw_err"
	fi
	return 0
}

# _json_at JSON PATH [LIST FIELD=VALUE...]: prints the value at a dotted
# PATH (list indices are numbers) of the document, or of the first entry of
# its LIST whose FIELDs have those VALUEs: strings as they are, null as
# "null", booleans as true/false, objects and lists as JSON.  Exits 1 if
# the entry or the path is absent or the text is not JSON.
_json_at() {
	_ja_json=$1
	shift
	printf '%s' "$_ja_json" | "$PYTHON" -c '
import json, sys
path, where = sys.argv[1], sys.argv[2:]
try:
    v = json.load(sys.stdin)
except ValueError as e:
    print("# not JSON: %s" % e, file=sys.stderr)
    sys.exit(1)
if where:
    want = [w.split("=", 1) for w in where[1:]]
    try:
        v = next(e for e in v[where[0]] if all(e.get(k) == x for k, x in want))
    except (KeyError, TypeError, AttributeError, StopIteration):
        sys.exit(1)
for k in path.split(".") if path else []:
    try:
        v = v[int(k)] if isinstance(v, list) else v[k]
    except (KeyError, IndexError, ValueError, TypeError):
        sys.exit(1)
if v is None:
    print("null")
elif isinstance(v, bool):
    print("true" if v else "false")
elif isinstance(v, (dict, list)):
    print(json.dumps(v))
else:
    print(v)
' "$@"
}

# json_get JSON PATH: the value at PATH of the whole document (_json_at).
json_get() {
	_json_at "$1" "$2"
}

# json_endpoint JSON SERVICE ENDPOINT PATH: like json_get inside the
# endpoint entry of that service and name (order-independent).
json_endpoint() {
	_json_at "$1" "$4" endpoints "service=$2" "endpoint=$3"
}

# discover_private OUT: `certwatch discover` (tests/discover-tool) pointed
# at this script's private Dovecot, Postfix and nginx; the configuration in
# OUT, the tool's stderr in OUT.err; returns the tool's status.
discover_private() {
	"$TESTS_BUILDDIR/discover-tool" --dovecot-conf "$DOVECOT_CONF" \
		--postfix-dir "$POSTFIX_DIR" --nginx-conf "$NGINX_CONF" \
		--nginx-prefix "$NGINX_DIR/" >"$1" 2>"$1.err"
}

# check_summary JSON: of `certwatch check --json`, "N endpoints, not OK:
# SERVICE/ENDPOINT=STATE ..." ("none" when every one is OK).
check_summary() {
	printf '%s' "$1" | "$PYTHON" -c '
import json, sys
try:
    eps = json.load(sys.stdin)["endpoints"]
except (ValueError, KeyError):
    print("not JSON"); sys.exit(0)
bad = ["%s/%s=%s" % (e.get("service"), e.get("endpoint"), e.get("state")) for e in eps
       if e.get("state") != "OK"]
print("%d endpoints, not OK: %s" % (len(eps), " ".join(bad) or "none"))'
}

# write_conf FILE: stdin to a configuration file certwatch accepts (root's,
# 0600, in a 0700 directory of its own with an empty conf.d beside it).
write_conf() {
	mkdir -p "$(dirname "$1")/conf.d" &&
	chmod 0700 "$(dirname "$1")" "$(dirname "$1")/conf.d" &&
	cat >"$1" &&
	chmod 0600 "$1"
}

# conf_service SERVICE NAME LIVE [LINE...]: a certwatch.conf service of
# that name guarding the pair in the live directory LIVE (fullchain.pem,
# privkey.pem) for NAME at 127.0.0.1, with the LINEs (settings, endpoints)
# one a line.
conf_service() {
	printf 'service %s {\n' "$1"
	printf '\tcert = "%s/fullchain.pem"\n\tkey = "%s/privkey.pem"\n' "$3" "$3"
	printf '\tname = "%s"\n\taddress = "127.0.0.1"\n' "$2"
	shift 3
	for _cs_line in "$@"; do
		printf '\t%s\n' "$_cs_line"
	done
	printf '}\n'
}

# peer MODE PORT [ARGS...]: starts tests/peer.py in that mode on
# 127.0.0.1:PORT with the test certificate; waits until it listens.
peer() {
	_mode=$1
	_pport=$2
	shift 2
	start_bg "peer-$_mode-$_pport" "$PYTHON" "$TESTS_SRCDIR/peer.py" \
		--mode "$_mode" --port "$_pport" \
		--ready-file "$TEST_TMP/peer-$_pport.ready" "$@"
	_ppid=$bg_pid
	_i=0
	while [ ! -e "$TEST_TMP/peer-$_pport.ready" ] && [ $_i -lt 100 ]; do
		kill -0 "$_ppid" 2>/dev/null || break
		sleep 0.05
		_i=$((_i + 1))
	done
	if [ ! -e "$TEST_TMP/peer-$_pport.ready" ]; then
		cat "$TEST_TMP/peer-$_mode-$_pport.log" >&2
		bail_out "peer.py --mode $_mode did not start"
	fi
}

# ---- a private Dovecot ---------------------------------------------------------

# dovecot_start CERT KEY: a Dovecot 2.3 of its own in $TEST_TMP/dovecot,
# listening on 127.0.0.1 only: imap (STARTTLS), imaps, pop3 (STLS), pop3s,
# managesieve (STARTTLS) and lmtp over TCP (STARTTLS).  Sets DOVECOT_CONF
# and the ports dc_imap dc_imaps dc_pop3 dc_pop3s dc_sieve dc_lmtp; stopped
# by its master pid at exit.  The certificate is read with "<", so the
# files can be replaced under it (the stale case).
dovecot_start() {
	_D="$TEST_TMP/dovecot"
	mkdir -p "$_D/run" "$_D/state" "$_D/home"
	dc_imap=$(free_port)
	dc_imaps=$(free_port)
	dc_pop3=$(free_port)
	dc_pop3s=$(free_port)
	dc_sieve=$(free_port)
	dc_lmtp=$(free_port)
	DOVECOT_CONF="$_D/dovecot.conf"
	cat >"$DOVECOT_CONF" <<EOF
base_dir = $_D/run
state_dir = $_D/state
instance_name = certwatch-test-$$
log_path = $_D/dovecot.log
info_log_path = $_D/dovecot.log
protocols = imap pop3 lmtp sieve
listen = 127.0.0.1
ssl = yes
ssl_cert = <$1
ssl_key = <$2
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain
mail_location = maildir:~/Maildir
passdb {
  driver = static
  args = password=test
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$_D/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $dc_imap
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $dc_imaps
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $dc_pop3
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $dc_pop3s
    ssl = yes
  }
}
service managesieve-login {
  inet_listener sieve {
    address = 127.0.0.1
    port = $dc_sieve
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $dc_lmtp
  }
}
protocol lmtp {
  ssl = yes
}
EOF
	dovecot -c "$DOVECOT_CONF" >"$_D/start.log" 2>&1 || {
		cat "$_D/start.log" "$_D/dovecot.log" >&2
		return 1
	}
	at_exit "stop_pidfile $_D/run/master.pid"
	for _p in $dc_imap $dc_imaps $dc_pop3 $dc_pop3s $dc_sieve $dc_lmtp; do
		wait_port 127.0.0.1 "$_p" 10 || {
			cat "$_D/dovecot.log" >&2
			return 1
		}
	done
}

# ---- a private Postfix -----------------------------------------------------------

# postfix_start CERT KEY: a Postfix instance of its own (config, queue and
# data directories under $TEST_TMP/postfix) whose only listener is smtpd on
# 127.0.0.1:$pf_smtp with STARTTLS offered (security level "may").  Sets
# POSTFIX_DIR; `postfix -c DIR stop` runs at exit.  Nothing is delivered:
# no local domains, no relaying.
postfix_start() {
	POSTFIX_DIR="$TEST_TMP/postfix/etc"
	_Q="$TEST_TMP/postfix/spool"
	_DD="$TEST_TMP/postfix/data"
	mkdir -p "$POSTFIX_DIR" "$_Q" "$_DD"
	chown postfix "$_DD"
	pf_smtp=$(free_port)
	# postfix(1) -c: the default main.cf must list the directory.  Another
	# test run may edit it at the same time: serialise the edits.  Debian's
	# "No configuration" install has no main.cf: an empty one (Postfix's
	# defaults) is made and left, since a concurrent run may rely on it.
	at_exit "postfix_unlist $POSTFIX_DIR"
	# shellcheck disable=SC2016 # expanded by the inner shell
	flock "$POSTFIX_LOCK" sh -c '
		[ -e /etc/postfix/main.cf ] || : >/etc/postfix/main.cf || exit 1
		alt=$(postconf -h alternate_config_directories 2>/dev/null)
		postconf -e "alternate_config_directories = ${alt:+$alt, }$1"' sh "$POSTFIX_DIR" ||
		return 1
	cat >"$POSTFIX_DIR/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $_Q
data_directory = $_DD
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.test
mydomain = test
myorigin = mail.test
mydestination =
relay_domains =
mynetworks = 127.0.0.0/8
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
local_transport = error:local delivery is disabled
default_transport = error:outbound mail is disabled
smtpd_relay_restrictions = reject
maillog_file = $TEST_TMP/postfix/maillog
maillog_file_prefixes = $TEST_TMP/postfix
smtpd_tls_cert_file = $1
smtpd_tls_key_file = $2
smtpd_tls_security_level = may
smtp_tls_security_level = none
smtpd_tls_loglevel = 1
EOF
	cat >"$POSTFIX_DIR/master.cf" <<EOF
127.0.0.1:$pf_smtp inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	postfix -c "$POSTFIX_DIR" check >"$TEST_TMP/postfix/check.log" 2>&1 || {
		cat "$TEST_TMP/postfix/check.log" >&2
		return 1
	}
	at_exit "postfix -c $POSTFIX_DIR stop"
	postfix -c "$POSTFIX_DIR" start >"$TEST_TMP/postfix/start.log" 2>&1 || {
		cat "$TEST_TMP/postfix/start.log" "$TEST_TMP/postfix/maillog" >&2
		return 1
	}
	wait_port 127.0.0.1 "$pf_smtp" 15 || {
		cat "$TEST_TMP/postfix/maillog" >&2
		return 1
	}
}

POSTFIX_LOCK=/run/lock/certwatch-test-postfix.lock
[ -d /run/lock ] || POSTFIX_LOCK=/tmp/certwatch-test-postfix.lock

# postfix_unlist DIR: takes DIR out of alternate_config_directories again.
postfix_unlist() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	flock "$POSTFIX_LOCK" sh -c '
		alt=$(postconf -h alternate_config_directories 2>/dev/null |
			tr "," " " | tr -s " " "\n" | grep -vxF "$1" | paste -sd, - | sed "s/,/, /g")
		postconf -e "alternate_config_directories = $alt"' sh "$1"
}

# ---- a private nginx --------------------------------------------------------------

# nginx_start PORT: a private nginx in $TEST_TMP/nginx (master and one
# worker, as root) whose http section holds the server blocks read from
# stdin; waits until 127.0.0.1:PORT accepts.  Sets NGINX_DIR, NGINX_CONF
# and nginx_pid; stopped by pid at exit.
nginx_start() {
	NGINX_DIR="$TEST_TMP/nginx"
	NGINX_CONF="$NGINX_DIR/nginx.conf"
	mkdir -p "$NGINX_DIR/logs" "$NGINX_DIR/tmp" || return 1
	{
		cat <<EOF
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile $((${NGINX_CONNECTIONS:-64} * 2));
user root;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/logs/error.log info;
events { worker_connections ${NGINX_CONNECTIONS:-64}; }
http {
	access_log off;
	client_body_temp_path $NGINX_DIR/tmp/body;
	proxy_temp_path $NGINX_DIR/tmp/proxy;
	fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
	uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
	scgi_temp_path $NGINX_DIR/tmp/scgi;
	ssl_protocols TLSv1.2 TLSv1.3;
	${NGINX_HTTP_EXTRA:-}
EOF
		cat
		echo "}"
	} >"$NGINX_CONF"
	nginx -t -q -p "$NGINX_DIR/" -e "$NGINX_DIR/logs/error.log" -c "$NGINX_CONF" \
		>"$NGINX_DIR/logs/t.log" 2>&1 || {
		cat "$NGINX_DIR/logs/t.log" "$NGINX_DIR/logs/error.log" >&2
		return 1
	}
	start_bg nginx nginx -p "$NGINX_DIR/" -e "$NGINX_DIR/logs/error.log" -c "$NGINX_CONF"
	nginx_pid=$bg_pid
	wait_port 127.0.0.1 "$1" "${NGINX_START_WAIT:-10}" "$nginx_pid" || {
		cat "$NGINX_DIR/logs/error.log" "$TEST_TMP/nginx.log" >&2
		return 1
	}
}

# ---- a web fixture: certificates on disk that a private nginx serves ----------------

# web_fixture [--one-port] STYLE NAME=PREFIX...: for each NAME, the live
# directory $TEST_TMP/live/NAME laid out in STYLE (disk_install) with the
# pair ca_leaves made at PREFIX, and a private nginx (nginx_start) with one
# TLS server per NAME on 127.0.0.1 serving that live directory: each on a
# port of its own, or with --one-port all on one port, told apart by SNI.
# web_live NAME and web_port NAME say where; bails out when a step fails.
web_fixture() {
	_wf_port=""
	if [ "$1" = --one-port ]; then
		_wf_port=$(free_port)
		shift
	fi
	_wf_style=$1
	shift
	: >"$TEST_TMP/.web-ports"
	: >"$TEST_TMP/.web-servers"
	for _wf in "$@"; do
		_wf_name=${_wf%%=*}
		disk_install "$_wf_style" "$(web_live "$_wf_name")" "$TEST_TMP/${_wf#*=}" ||
			bail_out "cannot lay out $_wf_name's files"
		echo "$_wf_name ${_wf_port:-$(free_port)}" >>"$TEST_TMP/.web-ports"
		cat >>"$TEST_TMP/.web-servers" <<EOF
	server {
		listen 127.0.0.1:$(web_port "$_wf_name") ssl;
		server_name $_wf_name;
		ssl_certificate $(web_live "$_wf_name")/fullchain.pem;
		ssl_certificate_key $(web_live "$_wf_name")/privkey.pem;
	}
EOF
	done
	nginx_start "$(web_port "${1%%=*}")" <"$TEST_TMP/.web-servers" ||
		bail_out "nginx did not start"
}

# web_live NAME: web_fixture's live directory of NAME.
web_live() {
	echo "$TEST_TMP/live/$1"
}

# web_port NAME: the port on which web_fixture's nginx serves NAME.
web_port() {
	awk -v n="$1" '$1 == n { print $2 }' "$TEST_TMP/.web-ports"
}

# web_service SERVICE NAME [SETTING...]: conf_service for web_fixture's
# NAME, with the endpoint "https" on NAME's port after the SETTINGs.
web_service() {
	_ws_name=$2
	_ws_service=$1
	shift 2
	conf_service "$_ws_service" "$_ws_name" "$(web_live "$_ws_name")" "$@" \
		"endpoint https { port = $(web_port "$_ws_name") }"
}

# ---- reload commands for certwatch.conf ----------------------------------------------

# conf_argv ARG...: the arguments as a certwatch.conf list of strings.
conf_argv() {
	_s=""
	for _a in "$@"; do
		_s="$_s, \"$_a\""
	done
	printf '{%s}\n' "${_s#, }"
}

# The reload command of each private server above, as a certwatch.conf list.
nginx_reload_argv() {
	conf_argv "$(command -v nginx)" -p "$NGINX_DIR/" -e "$NGINX_DIR/logs/error.log" \
		-c "$NGINX_CONF" -s reload
}
dovecot_reload_argv() {
	conf_argv "$(command -v doveadm)" -c "$DOVECOT_CONF" reload
}
postfix_reload_argv() {
	conf_argv "$(command -v postfix)" -c "$POSTFIX_DIR" reload
}

# ---- on-disk layouts of ACME clients ----------------------------------------------------

# A live directory LIVE holds fullchain.pem and privkey.pem, the paths a
# service is configured with, whatever the layout behind them:
#   certbot  LIVE/{cert,privkey,chain,fullchain}.pem are symbolic links to
#            ../../archive/NAME/*N.pem (LIVE is .../live/NAME); a renewal
#            writes archive/*N+1.pem, then unlinks and re-creates the links
#            one by one: cert, privkey, chain, fullchain
#   rename   regular files; a renewal writes a temporary file in LIVE and
#            renames it over the old one, the certificate first, then the key
#   inplace  regular files rewritten in place (acme.sh: truncate and write),
#            the key first, then the certificate
#   k8s      LIVE/X.pem -> ..data/X.pem, ..data -> ..TIMESTAMP/; a renewal
#            fills a new ..TIMESTAMP directory, links ..data_tmp to it,
#            renames ..data_tmp over ..data and removes the old directory
# The pair comes from ca_leaf's PREFIX.fullchain.pem, PREFIX.key and
# PREFIX.crt.  Between the steps of a renewal the pair on disk is missing
# or mismatched, as with the real clients.

# disk_install STYLE LIVE PREFIX: turns LIVE into STYLE's layout holding
# PREFIX's pair (a layout change, not a renewal).
disk_install() {
	mkdir -p "$2" || return 1
	case $1 in
	certbot | k8s) disk_renew "$@" ;;
	rename | inplace)
		rm -f "$2/fullchain.pem" "$2/privkey.pem" "$2/cert.pem" "$2/chain.pem" &&
		cp "$3.fullchain.pem" "$2/fullchain.pem" &&
		cp "$3.key" "$2/privkey.pem"
		;;
	*) return 1 ;;
	esac
}

# disk_renew STYLE LIVE PREFIX: replaces the pair in LIVE the way STYLE's
# ACME client does.
disk_renew() {
	_live=$2
	case $1 in
	certbot)
		_name=$(basename "$_live")
		_arch="$_live/../../archive/$_name"
		mkdir -p "$_arch" || return 1
		_n=1
		while [ -e "$_arch/cert$_n.pem" ]; do
			_n=$((_n + 1))
		done
		cp "$3.crt" "$_arch/cert$_n.pem" &&
		cp "$3.key" "$_arch/privkey$_n.pem" &&
		cp "$CA_DIR/root.pem" "$_arch/chain$_n.pem" &&
		cp "$3.fullchain.pem" "$_arch/fullchain$_n.pem" || return 1
		for _f in cert privkey chain fullchain; do
			rm -f "$_live/$_f.pem" &&
			ln -s "../../archive/$_name/$_f$_n.pem" "$_live/$_f.pem" || return 1
		done
		;;
	rename)
		cp "$3.fullchain.pem" "$_live/.fullchain.pem.tmp" &&
		mv -f "$_live/.fullchain.pem.tmp" "$_live/fullchain.pem" &&
		cp "$3.key" "$_live/.privkey.pem.tmp" &&
		mv -f "$_live/.privkey.pem.tmp" "$_live/privkey.pem"
		;;
	inplace)
		cat "$3.key" >"$_live/privkey.pem" &&
		cat "$3.fullchain.pem" >"$_live/fullchain.pem"
		;;
	k8s)
		_old=$(readlink "$_live/..data" 2>/dev/null)
		_new="..$(date -u +%Y_%m_%d_%H_%M_%S.%N)"
		mkdir "$_live/$_new" &&
		cp "$3.fullchain.pem" "$_live/$_new/fullchain.pem" &&
		cp "$3.key" "$_live/$_new/privkey.pem" &&
		ln -s "$_new" "$_live/..data_tmp" &&
		mv -T "$_live/..data_tmp" "$_live/..data" || return 1
		[ -n "$_old" ] && rm -rf "${_live:?}/$_old"
		for _f in fullchain privkey; do
			[ "$(readlink "$_live/$_f.pem")" = "..data/$_f.pem" ] && continue
			rm -f "$_live/$_f.pem" &&
			ln -s "..data/$_f.pem" "$_live/$_f.pem" || return 1
		done
		rm -f "$_live/cert.pem" "$_live/chain.pem"
		;;
	*) return 1 ;;
	esac
}

# ---- the daemon (certwatch run) -----------------------------------------------------------

# Every line the daemon wrote, across restarts, each prefixed with the
# wall-clock time in milliseconds at which it was read (as now_ms counts):
# "1767000000123 certwatch: web: reload verified: ...".
DAEMON_LOG="$TEST_TMP/daemon.log"
: >"$DAEMON_LOG"

# daemon_start CONF [ARG...]: `certwatch --config CONF run ARG...` in the
# background, its output stamped into $DAEMON_LOG; sets daemon_pid, stopped
# at exit.  DAEMON_EXEC_PREFIX, when set, names a program that is run with
# the daemon's command line and must exec it (to set WATCHDOG_PID=$$).
# DAEMON_STAMP_PREFIX, when set, is a command the stamper runs under (a
# benchmark's `chrt -f 10`: a line's stamp then says when it was written,
# not when a busy machine let the stamper read it).
daemon_start() {
	_conf=$1
	shift
	_fifo="$TEST_TMP/.daemon-fifo-$(now_ms)"
	mkfifo "$_fifo" || return 1
	# shellcheck disable=SC2086 # a command and its arguments
	${DAEMON_STAMP_PREFIX:-} "$PYTHON" -c '
import sys, time
for line in iter(sys.stdin.buffer.readline, b""):
    sys.stdout.buffer.write(b"%d " % (time.time_ns() // 1000000) + line)
    sys.stdout.buffer.flush()
' <"$_fifo" >>"$DAEMON_LOG" 2>&1 &
	${DAEMON_EXEC_PREFIX:+"$DAEMON_EXEC_PREFIX"} "$CERTWATCH" --config "$_conf" run "$@" \
		>"$_fifo" 2>&1 </dev/null &
	daemon_pid=$!
	at_exit "stop_pid $daemon_pid"
}

# daemon_stop: SIGTERM, then waits up to 20 s; sets daemon_rc (the exit
# status, or "hung" after a SIGKILL).
# shellcheck disable=SC2034 # daemon_rc is read by the scripts
daemon_stop() {
	kill -TERM "$daemon_pid" 2>/dev/null
	if wait_exit "$daemon_pid" 200; then
		wait "$daemon_pid" 2>/dev/null
		daemon_rc=$?
	else
		kill -KILL "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
		daemon_rc=hung
	fi
}

# daemon_conf: the global settings of a daemon test, for certwatch.conf:
# an interval long enough that only inotify tells the daemon of a renewal,
# a short settle, and a state directory in $TEST_TMP.
daemon_conf() {
	printf 'interval = "1h"\nsettle = "1s"\nstate-dir = "%s"\n' "$TEST_TMP/state"
}

# daemon_stop_ok: daemon_stop, and one test that the daemon ended with 0.
daemon_stop_ok() {
	daemon_stop
	is "$daemon_rc" 0 "the daemon stops on SIGTERM with status 0"
}

# log_mark: how many lines the daemon's log has; pass it to wait_log and
# log_count to look only at what comes after.
log_mark() {
	wc -l <"$DAEMON_LOG" | tr -d ' '
}

# log_since FROM: the daemon's lines after line FROM, timestamps removed.
log_since() {
	tail -n "+$(($1 + 1))" "$DAEMON_LOG" | cut -d' ' -f2-
}

# log_count FROM REGEX: how many of the daemon's lines after FROM match.
log_count() {
	log_since "$1" | grep -Ec -- "$2"
}

# reloads_started FROM SERVICE: how many reloads the daemon began for
# SERVICE after line FROM (its "SERVICE: the pair on disk is valid;
# reloading to serve ..." line).
reloads_started() {
	log_count "$1" "^certwatch: $2: the pair on disk is valid.*; reloading to serve"
}

# wait_log FROM REGEX [SECONDS]: waits until a line of the daemon's log
# after line FROM matches the extended regex; sets log_line to it (with its
# timestamp) and log_ms to that timestamp.  Fails after SECONDS (20), or
# as soon as the daemon has ended without writing it.
# shellcheck disable=SC2034 # log_ms is read by the scripts
wait_log() {
	_end=$(($(now_ms) + ${3:-20} * 1000))
	while :; do
		kill -0 "$daemon_pid" 2>/dev/null
		_alive=$?
		log_line=$(tail -n "+$(($1 + 1))" "$DAEMON_LOG" | grep -E -m 1 -- "$2")
		if [ -n "$log_line" ]; then
			log_ms=${log_line%% *}
			return 0
		fi
		if [ "$_alive" -ne 0 ] || [ "$(now_ms)" -ge "$_end" ]; then
			log_ms=""
			return 1
		fi
		sleep 0.1
	done
}

# wait_for SECONDS COMMAND [ARG...]: runs the command every 0.2 s until it
# succeeds; fails when it has not after SECONDS.
wait_for() {
	_end=$(($(now_ms) + $1 * 1000))
	shift
	while ! "$@"; do
		[ "$(now_ms)" -ge "$_end" ] && return 1
		sleep 0.2
	done
	return 0
}

# json_service JSON SERVICE PATH: like json_get inside the entry of that
# service in `certwatch status --json`.
json_service() {
	_json_at "$1" "$3" services "name=$2"
}

# ms_to_s MILLISECONDS: "2.3".
ms_to_s() {
	printf '%d.%d' $(($1 / 1000)) $((($1 % 1000) / 100))
}

# daemon_log_clean: one test, that the daemon's log holds no sanitizer
# report (under --enable-sanitizers UBSan recovers and the exit status
# alone would not tell).
daemon_log_clean() {
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$DAEMON_LOG"; then
		_tap_result 1 "the daemon's log holds no sanitizer report"
		diag "$(grep -E -A20 'AddressSanitizer|LeakSanitizer|runtime error:' "$DAEMON_LOG" | head -40)"
	else
		_tap_result 0 "the daemon's log holds no sanitizer report"
	fi
}

# status_all_ok CONF [STATUS-OPTION...]: the daemon's state file shows every endpoint OK and
# every service idle (what a settled daemon writes); quiet while the
# daemon has not written its state yet.
status_all_ok() {
	_sao_conf=$1
	shift
	cw_out=$(timeout -k 5 60 "$CERTWATCH" --config "$_sao_conf" status --json "$@" \
		2>"$TEST_TMP/status.err")
	cw_rc=$?
	if grep -Eq 'Sanitizer|runtime error:' "$TEST_TMP/status.err"; then
		_tap_result 1 "certwatch status: no sanitizer report"
		diag "$(cat "$TEST_TMP/status.err")"
	fi
	printf '%s' "$cw_out" | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if d["endpoints"] and all(e["state"] == "OK" for e in d["endpoints"])
         and all(s["phase"] == "idle" for s in d["services"]) else 1)
' 2>/dev/null
}

# ---- systemd, a stand-in on a private system bus ------------------------------------------

# fake_systemd_start: a private dbus-daemon as the system bus
# (DBUS_SYSTEM_BUS_ADDRESS, exported) and tests/fake-systemd on it as
# systemd's manager.  A unit's reload or restart runs the program that
# fake_unit wrote for it; every call is appended to $FAKE_UNITS_LOG.
fake_systemd_start() {
	_fs_fake="$TESTS_BUILDDIR/fake-systemd"
	[ -x "$_fs_fake" ] || bail_out "$_fs_fake is not built (make check builds it)"
	FAKE_UNITS_DIR="$TEST_TMP/units"
	FAKE_UNITS_LOG="$TEST_TMP/units.log"
	mkdir -p "$FAKE_UNITS_DIR" && : >"$FAKE_UNITS_LOG" || bail_out "cannot make $FAKE_UNITS_DIR"
	cat >"$TEST_TMP/bus.conf" <<BUS
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$TEST_TMP/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
BUS
	start_bg dbus dbus-daemon --config-file="$TEST_TMP/bus.conf" --nofork --print-address=1
	wait_for 10 grep -q '^unix:' "$TEST_TMP/dbus.log" ||
		{ cat "$TEST_TMP/dbus.log" >&2; bail_out "dbus-daemon did not start"; }
	DBUS_SYSTEM_BUS_ADDRESS=$(grep -m 1 '^unix:' "$TEST_TMP/dbus.log")
	export DBUS_SYSTEM_BUS_ADDRESS
	start_bg fake-systemd "$_fs_fake" "$FAKE_UNITS_LOG" "$FAKE_UNITS_DIR"
	wait_for 10 grep -qx ready "$TEST_TMP/fake-systemd.log" ||
		{ cat "$TEST_TMP/fake-systemd.log" >&2; bail_out "fake-systemd did not start"; }
}

# fake_unit UNIT reload|restart COMMAND [ARG...]: what fake-systemd runs
# for that job of UNIT (its ExecReload=, or the stop and start of a
# restart); the job fails when the command does.
fake_unit() {
	_fu_path="$FAKE_UNITS_DIR/$1.$2"
	shift 2
	{
		echo '#!/bin/sh'
		printf 'exec'
		printf " '%s'" "$@"
		echo
	} >"$_fu_path" && chmod 0755 "$_fu_path"
}

# ---- a private HAProxy -----------------------------------------------------------------

# apache_start PORT: a private Apache 2.4 (Debian's, with mod_ssl) as root,
# its configuration, pid file, mutexes and logs in $TEST_TMP/apache: the
# modules it needs, then stdin (Listen lines and virtual hosts); checked
# with apache2 -t, run in the foreground; waits until 127.0.0.1:PORT
# accepts.  Sets APACHE_DIR, APACHE_CONF and apache_pid; stopped by pid at
# exit.
apache_start() {
	APACHE_DIR="$TEST_TMP/apache"
	APACHE_CONF="$APACHE_DIR/apache2.conf"
	_ap_mods=/usr/lib/apache2/modules
	mkdir -p "$APACHE_DIR" || return 1
	{
		cat <<EOF
ServerRoot $APACHE_DIR
ServerName localhost
PidFile $APACHE_DIR/apache2.pid
DefaultRuntimeDir $APACHE_DIR
Mutex file:$APACHE_DIR default
ErrorLog $APACHE_DIR/error.log
LogLevel warn
User www-data
Group www-data
LoadModule mpm_event_module $_ap_mods/mod_mpm_event.so
LoadModule authz_core_module $_ap_mods/mod_authz_core.so
LoadModule socache_shmcb_module $_ap_mods/mod_socache_shmcb.so
LoadModule ssl_module $_ap_mods/mod_ssl.so
SSLSessionCache shmcb:$APACHE_DIR/ssl_scache(512000)
EOF
		cat
	} >"$APACHE_CONF"
	apache2 -d "$APACHE_DIR" -f "$APACHE_CONF" -t >"$APACHE_DIR/t.log" 2>&1 || {
		cat "$APACHE_DIR/t.log" >&2
		return 1
	}
	start_bg apache2 apache2 -d "$APACHE_DIR" -f "$APACHE_CONF" -DFOREGROUND
	apache_pid=$bg_pid
	wait_port 127.0.0.1 "$1" 20 "$apache_pid" || {
		cat "$TEST_TMP/apache2.log" "$APACHE_DIR/error.log" >&2
		return 1
	}
}

# haproxy_start [--no-admin]: a private HAProxy 2.x in master-worker mode,
# as root, with its configuration, admin socket and pid file in
# $TEST_TMP/haproxy; its frontend's bind lines are read from stdin, and it
# answers 200 to every request.  --no-admin leaves the admin socket out.
# Waits until every port of a bind line accepts.  Sets HAPROXY_DIR,
# HAPROXY_CONF, HAPROXY_SOCK and haproxy_pid; stopped by pid at exit.
haproxy_start() {
	_hp_admin="stats socket $TEST_TMP/haproxy/admin.sock mode 600 level admin"
	[ "${1:-}" = --no-admin ] && _hp_admin=""
	HAPROXY_DIR="$TEST_TMP/haproxy"
	HAPROXY_CONF="$HAPROXY_DIR/haproxy.cfg"
	HAPROXY_SOCK="$HAPROXY_DIR/admin.sock"
	mkdir -p "$HAPROXY_DIR" || return 1
	{
		printf 'global\n\t%s\n\tpidfile %s\n\t%s\n' "$_hp_admin" "$HAPROXY_DIR/haproxy.pid" \
			"${HAPROXY_GLOBAL_EXTRA:-}"
		printf 'defaults\n\tmode http\n\ttimeout connect 5s\n\ttimeout client 30s\n'
		printf '\ttimeout server 30s\n\ttimeout http-keep-alive 30s\nfrontend fe\n'
		cat
		printf '\thttp-request return status 200 content-type text/plain string "ok"\n'
	} >"$HAPROXY_CONF"
	haproxy -c -q -f "$HAPROXY_CONF" >"$HAPROXY_DIR/check.log" 2>&1 || {
		cat "$HAPROXY_DIR/check.log" >&2
		return 1
	}
	start_bg haproxy haproxy -W -db -f "$HAPROXY_CONF"
	haproxy_pid=$bg_pid
	for _hp_port in $(sed -n 's/^[[:space:]]*bind [^:]*:\([0-9]*\).*/\1/p' "$HAPROXY_CONF"); do
		wait_port 127.0.0.1 "$_hp_port" 10 "$haproxy_pid" || {
			cat "$TEST_TMP/haproxy.log" >&2
			return 1
		}
	done
}

# haproxy_api COMMAND: HAProxy's answer to one runtime API command.
haproxy_api() {
	"$PYTHON" - "$HAPROXY_SOCK" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode(errors="replace"))
PY
}
