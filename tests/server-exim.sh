#!/bin/sh
# A private Exim 4.96 (Debian's exim4-daemon-light) on loopback: STARTTLS
# on one port, TLS on connect on another.  Exim's package conflicts with
# Postfix's (both are the mail-transport-agent), so tools/install-deps
# unpacks it with dpkg-deb -x into a root of its own, beside the installed
# Postfix, and this script runs the binary from there with a configuration
# of its own (-C): nothing of it is installed.
#
# Its HELO ACL rejects a client that greets it with its own name or its own
# address literal, a common check that answered certwatch's old EHLO
# (the endpoint's name, or [127.0.0.1]) with 550.  certwatch's default
# EHLO name, this host's own, must get through; the old names must still
# be rejected (the check is real).  Exim reads its certificate files
# again by itself: a certbot renewal is served with no reload, as kind
# "exim" says.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/lib-servers.sh"

EXIM=${CERTWATCH_TEST_ROOT:-/usr/local/lib/certwatch-tests}/usr/sbin/exim4
[ -x "$EXIM" ] || skip_all "$EXIM is missing (tools/install-deps unpacks it)"
server_test 61 openssl

E="$TEST_TMP/exim"
mkdir -p "$E/spool" "$E/log"
chown nobody:nogroup "$E/spool" "$E/log"
# Exim reads the key as its own user, not root: Debian's exim4 README has
# a renewal's hook give the key to Exim's group, as here.
key_to_exim() {
	chgrp nogroup "$LIVE/privkey.pem" && chmod 0640 "$LIVE/privkey.pem"
}
RENEW_HOOK=key_to_exim
server_pairs mx mx.test 2

smtp_port=$(free_port)
smtps_port=$(free_port)
cat >"$E/exim.conf" <<EOF
primary_hostname = mx.test
exim_user = nobody
exim_group = nogroup
spool_directory = $E/spool
log_file_path = $E/log/%slog
pid_file_path = $E/exim.pid
log_selector = +smtp_connection
local_interfaces = 127.0.0.1
daemon_smtp_ports = $smtp_port : $smtps_port
tls_on_connect_ports = $smtps_port
tls_advertise_hosts = *
tls_certificate = $LIVE/fullchain.pem
tls_privatekey = $LIVE/privkey.pem
host_lookup =
rfc1413_hosts =
acl_smtp_helo = acl_check_helo
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_helo:
  deny message = \$sender_helo_name is my own name or address
       condition = \${if or{{eq{\$sender_helo_name}{\$primary_hostname}}\\
                           {eq{\$sender_helo_name}{[\$received_ip_address]}}}}
  accept
acl_check_rcpt:
  deny
EOF
"$EXIM" -C "$E/exim.conf" -bV >"$E/configtest.log" 2>&1 ||
	bail_out "exim refuses its configuration: $(tail -n 3 "$E/configtest.log")"
start_bg exim "$EXIM" -C "$E/exim.conf" -bdf
wait_port 127.0.0.1 "$smtps_port" 10 "$bg_pid" && wait_port 127.0.0.1 "$smtp_port" 10 "$bg_pid" ||
	bail_out "exim did not start: $(tail -n 5 "$TEST_TMP/exim.log" "$E/log/paniclog")"

# The fault: the old EHLO names, the server's own, are rejected.
for old in mx.test 127.0.0.1; do
	cw check --connect "127.0.0.1:$smtp_port" --starttls smtp --name mx.test \
		--ehlo-name "$old" --json
	like "$(json_get "$cw_out" endpoints.0.probe.detail)" "550 .*is my own name or address" \
		"exim rejects EHLO $old, a name of its own (the old default): 550"
done
server_fp_same "exim STARTTLS, default EHLO name" "$smtp_port" smtp smtp mx.test
like "$(grep 'SMTP connection from' "$E/log/mainlog" | tail -n 1)" 'closed by QUIT' \
	"exim logs that certwatch's STARTTLS probe left with QUIT"
server_fp_same "exim TLS on connect" "$smtps_port" - - mx.test
server_fp_same "exim STARTTLS, name given as an address" "$smtp_port" smtp smtp 127.0.0.1

# certwatch discover reads this Exim (exim -bP) and writes a service that
# checks OK as it is.
"$TESTS_BUILDDIR/discover-tool" --exim-conf "$E/exim.conf" --search-path "${EXIM%/*}" \
	>"$TEST_TMP/discovered.conf" 2>"$TEST_TMP/discovered.err" || diag "$(cat "$TEST_TMP/discovered.err")"
discovered=$(sed -n '/^service exim {/,/^}/p' "$TEST_TMP/discovered.conf")
like "$discovered" 'kind = "exim"' "discover: Exim's service names kind exim (no reload)"
like "$discovered" "cert = \"$LIVE/fullchain.pem\"" "discover: ... and its certificate"
like "$(printf '%s\n' "$discovered" | grep -A3 'endpoint smtp {')" "port = $smtp_port" \
	"discover: ... its STARTTLS port"
like "$(printf '%s\n' "$discovered" | grep -A3 'endpoint smtps {')" "port = $smtps_port" \
	"discover: ... and its TLS-on-connect port"
printf '%s\n' "$discovered" | write_conf "$TEST_TMP/discovered/certwatch.conf"
cw --config "$TEST_TMP/discovered/certwatch.conf" check --json
is "$(check_summary "$cw_out")/$cw_rc" "2 endpoints, not OK: none/0" \
	"discover: the service written checks OK as it is" || diag "$discovered" "$cw_err"

server_guarded exim mx.test 0 'kind = "exim"' \
	"endpoint smtp { port = $smtp_port }" "endpoint smtps { port = $smtps_port }"
done_testing
