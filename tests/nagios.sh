#!/bin/sh
# Plugin mode against a real nginx: certwatch run as check_certwatch (and as
# `certwatch nagios`), its output parsed by the Monitoring Plugins
# guidelines' grammar and its exit status checked, for OK, WARNING (a
# renewal on disk that nginx does not serve), CRITICAL (nothing listens)
# and UNKNOWN (a bad option, a timeout).
. "$TESTS_SRCDIR/lib.sh"

server_test 12 nginx openssl

# The plugin under the name the monitoring plugins directory gives it.
PLUGIN="$TEST_TMP/check_certwatch"
ln -s "$CERTWATCH" "$PLUGIN" || bail_out "cannot link check_certwatch"

# plugin ARGS...: runs check_certwatch; stdout in $pl_out, exit in $pl_rc,
# and the parse of the output by the guidelines' grammar in $pl_parse:
# "STATE" on the first line, then "LABEL<TAB>VALUE<TAB>UOM<TAB>WARN<TAB>CRIT"
# per performance datum; or "INVALID: why".
plugin() {
	timeout -k 5 60 "$PLUGIN" "$@" >"$TEST_TMP/pl.out" 2>"$TEST_TMP/pl.err"
	pl_rc=$?
	pl_out=$(cat "$TEST_TMP/pl.out")
	pl_parse=$("$PYTHON" - "$TEST_TMP/pl.out" <<'EOF'
import re, sys
NUM = r"-?[0-9]+(?:\.[0-9]+)?"
RANGE = r"@?(?:(?:~|%s):)?(?:%s)?" % (NUM, NUM)
PERF = re.compile(r"'([^'=]+)'=(%s)(s|ms|us|%%|B|KB|MB|GB|TB|c)?"
                  r"(?:;(%s)(?:;(%s)(?:;(%s)?(?:;(%s)?)?)?)?)?" % (NUM, RANGE, RANGE, NUM, NUM))
text = open(sys.argv[1], "rb").read().decode("utf-8", "strict")
if not text.endswith("\n"):
    sys.exit(print("INVALID: no final newline"))
lines = text[:-1].split("\n")
status, sep, perf = lines[0].partition(" | ")
m = re.fullmatch(r"CERTWATCH (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]+)", status)
if not m:
    sys.exit(print("INVALID: status line %r" % status))
out = [m.group(1)]
pos = 0
while sep and pos < len(perf):
    p = PERF.match(perf, pos)
    if not p:
        sys.exit(print("INVALID: performance data at %r" % perf[pos:]))
    out.append("\t".join([p.group(1), p.group(2), p.group(3) or "", p.group(4) or "",
                          p.group(5) or ""]))
    pos = p.end()
    if pos < len(perf):
        if perf[pos] != " ":
            sys.exit(print("INVALID: no space after %r" % perf[:pos]))
        pos += 1
for l in lines[1:]:
    if "|" in l:
        sys.exit(print("INVALID: '|' in the long output: %r" % l))
print("\n".join(out))
EOF
)
	pl_state=$(printf '%s\n' "$pl_parse" | head -n 1)
	if grep -Eq 'Sanitizer|runtime error:' "$TEST_TMP/pl.err"; then
		_tap_result 1 "check_certwatch $*: no sanitizer report"
		diag "$(cat "$TEST_TMP/pl.err")"
	fi
}

# perf LABEL: "VALUE<TAB>UOM<TAB>WARN<TAB>CRIT" of that datum in the last parse.
perf() {
	printf '%s\n' "$pl_parse" | awk -F '\t' -v l="$1" '$1 == l { print $2 "\t" $3 "\t" $4 "\t" $5 }'
}

ca_leaves 80 web.test A
ca_leaves 90 web.test B
fp_a=$(leaf_fp A)
fp_b=$(leaf_fp B)
web_fixture rename web.test=A
live=$(web_live web.test)
port=$(web_port web.test)
closed=$(free_port)

conf="$TEST_TMP/etc/certwatch.conf"
web_service web web.test | write_conf "$conf"

# ---- OK ------------------------------------------------------------------------

plugin --config "$conf"
is "$pl_rc/$pl_state" 0/OK "nginx serving the certificate on disk: OK, exit 0"
like "$pl_out" '^CERTWATCH OK - 1 endpoint OK, the first expiry in (79\.9|80\.0) days \(web/https\) \| ' \
	"the OK status line says how long the certificate has left"
like "$(perf 'web/https days')" '^(79\.9[0-9]*|80)		21:	7:$' \
	"perfdata: days left on the served certificate, no unit, default thresholds 21: and 7:"
is "$(perf 'web/https stale')" "0			" "perfdata: stale is 0"
like "$(perf 'web/https handshake')" '^0\.[0-9]+	s		$' "perfdata: handshake time in seconds (UOM s)"
like "$pl_out" "
\\[OK\\] web/https \\(127\\.0\\.0\\.1:$port tls\\): OK - " "the long output has the endpoint's line"

plugin -H 127.0.0.1 -p "$port" --name web.test --cert "$live/fullchain.pem" --key "$live/privkey.pem"
is "$pl_rc/$pl_state" 0/OK "one endpoint with -H, -p, --name, --cert and --key: OK"
like "$(perf "127.0.0.1:$port days")" '^(79\.9|80)' "an endpoint given with -H is labelled HOST:PORT"

"$CERTWATCH" --config "$conf" nagios >"$TEST_TMP/cmd.out" 2>&1
is "$?" 0 "certwatch --config FILE nagios: exit 0 as well"
like "$(head -n 1 "$TEST_TMP/cmd.out")" '^CERTWATCH OK - ' "the nagios command prints the same status line"

plugin --config "$conf" -w 90: -c 10:
is "$pl_rc/$pl_state" 1/WARNING "-w 90: with 80 days left: WARNING, exit 1"
like "$pl_out" 'endpoints near expiry: web/https has (79\.9|80\.0) days left, outside 90:' \
	"the status line names the range that was crossed"
like "$(perf 'web/https days')" '	90:	10:$' "the given ranges are the perfdata thresholds"

plugin --config "$conf" -w 90: -c 85:
is "$pl_rc/$pl_state" 2/CRITICAL "-c 85: with 80 days left: CRITICAL, exit 2"

plugin --config "$conf" -w 21
is "$pl_rc/$pl_state" 1/WARNING "a bare -w 21 follows the guidelines literally: 80 > 21 alerts"

# ---- WARNING: renewed on disk, nginx not reloaded -----------------------------------

disk_renew rename "$live" "$TEST_TMP/B" || bail_out "cannot renew the certificate"
is "$(served_fp 127.0.0.1 "$port" - web.test)" "$fp_a" "nginx still serves A after the files changed"
plugin --config "$conf" -v
is "$pl_rc/$pl_state" 1/WARNING "renewed on disk, not reloaded: WARNING, exit 1"
like "$pl_out" "^CERTWATCH WARNING - 1 of 1 endpoints stale: web/https serves $(printf %.12s "$fp_a"), disk has $(printf %.12s "$fp_b") \\| " \
	"the status line names the stale endpoint with both fingerprints"
is "$(perf 'web/https stale')" "1			" "perfdata: stale is 1"
like "$pl_out" "
\\[WARNING\\] web/https \\(127\\.0\\.0\\.1:$port tls\\): STALE - " "the long output says STALE"
like "$pl_out" "
    served $fp_a, expires " "-v shows the served fingerprint in full"
like "$pl_out" "
    disk   $fp_b, expires " "-v shows the fingerprint on disk in full"

# ---- CRITICAL: nothing listens --------------------------------------------------------

plugin -H 127.0.0.1 -p "$closed"
is "$pl_rc/$pl_state" 2/CRITICAL "nothing listening: CRITICAL, exit 2"
like "$pl_out" "^CERTWATCH CRITICAL - 1 of 1 endpoints unreachable: 127\\.0\\.0\\.1:$closed: .*refused" \
	"the status line says the endpoint is unreachable and why"
is "$(perf "127.0.0.1:$closed days")" "" "an unreachable endpoint reports no days"

# ---- UNKNOWN ----------------------------------------------------------------------------

for bad in --no-such-option -x "-w abc" "-c 10:5" "-t soon" "-p 443" "-H 127.0.0.1 --service web" \
	"-H 127.0.0.1 --starttls nope" "-H 127.0.0.1 -p 99999" "--key /k"; do
	# shellcheck disable=SC2086 # word splitting wanted
	plugin $bad
	is "$pl_rc/$pl_state" 3/UNKNOWN "check_certwatch $bad: UNKNOWN, exit 3"
	like "$pl_out" '
Usage: check_certwatch ' "check_certwatch $bad: a usage line follows the status line"
done
plugin --config "$TEST_TMP/no-such.conf"
is "$pl_rc/$pl_state" 3/UNKNOWN "a configuration that cannot be read: UNKNOWN"
like "$pl_out" 'no-such\.conf' "the status line names the configuration file"
plugin --config "$conf" --service nope
is "$pl_rc/$pl_state" 3/UNKNOWN "--service with an unknown name: UNKNOWN"

"$PLUGIN" -V >"$TEST_TMP/v.out" 2>&1
is "$?" 3 "-V exits 3 (UNKNOWN), as the guidelines ask"
like "$(cat "$TEST_TMP/v.out")" '^check_certwatch \(certwatch\) [0-9]' "-V prints the name and version"
"$PLUGIN" -h >"$TEST_TMP/h.out" 2>&1
is "$?" 3 "-h exits 3 (UNKNOWN)"
for opt in -H -p --connect --starttls --name --cert --chain --key --key-type --config --service -w -c -t -v -V; do
	grep -q -- "$opt" "$TEST_TMP/h.out"
	ok "-h documents $opt" test $? -eq 0
done

# -t: a stalled server becomes a CRITICAL endpoint within the deadline; probes
# queued behind it past the deadline make the plugin UNKNOWN.
stall=$(free_port)
peer stall-handshake "$stall"
start=$(now_ms)
plugin -H 127.0.0.1 -p "$stall" -t 1
elapsed=$(($(now_ms) - start))
is "$pl_rc/$pl_state" 2/CRITICAL "-t 1 against a stalled handshake: the endpoint is CRITICAL"
like "$pl_out" "within 1s" "-t 1 is the probe's deadline: the line says it ran out"
ok "-t 1 does not hang (took $(ms_to_s $elapsed) s; the peer holds on for a minute)" \
	test "$elapsed" -lt 20000
# The trust store is set-up, as the configuration is, not part of -t: a
# CA bundle that takes about 3 s to read (copies of the system's) stands
# in for a loaded machine, where reading the real one took the second of
# grace that -t leaves for the report.  How many copies make 3 s is
# measured first, with ten, in this build (a sanitizer build reads far
# slower): the plugin's time with them less its time with the real one.
bundle_of() {    # COPIES FILE
	for _i in $(seq 1 "$1"); do cat /etc/ssl/certs/ca-certificates.crt; done >"$2"
}
bundle_of 10 "$TEST_TMP/bundle10.pem"
start=$(now_ms)
plugin -H 127.0.0.1 -p "$stall" -t 1
base=$(($(now_ms) - start))
start=$(now_ms)
SSL_CERT_FILE="$TEST_TMP/bundle10.pem" plugin -H 127.0.0.1 -p "$stall" -t 1
per_copy=$(( ($(now_ms) - start - base) / 10 ))
[ "$per_copy" -ge 1 ] || per_copy=1
copies=$((3000 / per_copy))
[ "$copies" -ge 10 ] || copies=10
[ "$copies" -le 300 ] || copies=300
diag "a copy of the CA bundle takes about $per_copy ms to read here: $copies copies"
bundle_of "$copies" "$TEST_TMP/big-bundle.pem"
SSL_CERT_FILE="$TEST_TMP/big-bundle.pem" plugin -H 127.0.0.1 -p "$stall" -t 1
is "$pl_rc/$pl_state" 2/CRITICAL "-t 1 against a stalled handshake, a CA bundle slow to read: still CRITICAL"
like "$pl_out" "within 1s" "and the line says the probe's deadline ran out, not the plugin's"
rm -f "$TEST_TMP/big-bundle.pem" "$TEST_TMP/bundle10.pem"
write_conf "$TEST_TMP/etc2/certwatch.conf" <<EOF
max-probes = 1
service stalled {
	cert = "$live/fullchain.pem"
	key = "$live/privkey.pem"
	address = "127.0.0.1"
	endpoint a { port = $stall }
	endpoint b { port = $stall }
	endpoint c { port = $stall }
}
EOF
start=$(now_ms)
plugin --config "$TEST_TMP/etc2/certwatch.conf" -t 1
elapsed=$(($(now_ms) - start))
is "$pl_rc/$pl_state" 3/UNKNOWN "three stalled endpoints one at a time with -t 1: UNKNOWN"
like "$pl_out" '^CERTWATCH UNKNOWN - not every endpoint was probed within -t 1s' \
	"the status line says the time ran out and what to change"
ok "the timeout ends the plugin, no hang (took $(ms_to_s $elapsed) s; three probes one at a time would take 3 s)" \
	test "$elapsed" -lt 20000

done_testing
