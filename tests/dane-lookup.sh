#!/bin/sh
# DANE look-ups through libunbound against a real DNSSEC chain on
# loopback (tests/dns.sh: NSD serving zones signed here): secure records
# that match a renewal or do not (3 1 1 of the key in use, current + next,
# only the old key, 2 1 1 of the issuing CA), secure proof of no records
# (NXDOMAIN and NODATA), an insecure zone, a bogus one, a resolver that
# refuses and one that never answers (the deadline), and trust anchor
# files that cannot be used.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/dns.sh"

server_test 30 openssl nsd nsd-checkconf ldns-keygen ldns-signzone drill
TOOL="$TESTS_BUILDDIR/dane-tool"
[ -x "$TOOL" ] || bail_out "$TOOL is not built"

# Two keys for the same names: the one served (cur) and the renewal's (next).
hosts="mx1.example mx2.example mx3.example mx4.example"
# shellcheck disable=SC2086
ca_leaf "$TEST_TMP/cur" 60 $hosts || bail_out "cannot make a certificate"
# shellcheck disable=SC2086
ca_leaf "$TEST_TMP/next" 60 $hosts || bail_out "cannot make a certificate"
cur="$TEST_TMP/cur.fullchain.pem"
next="$TEST_TMP/next.fullchain.pem"

dns_init
dns_tlsa example mx1.example 3 "$cur"                 # the key in use
dns_tlsa example mx2.example 3 "$cur"                 # current + next
dns_tlsa example mx2.example 3 "$next"
dns_tlsa example mx3.example 3 "$cur"                 # only the old key
dns_tlsa example mx4.example 2 "$CA_DIR/root.pem"     # the issuing CA
dns_add example 'mx1.example. IN A 127.0.0.1'
dns_add example '_25._tcp.nodata.example. IN TXT "a name with no TLSA record"'
dns_tlsa insecure mx.insecure.example 3 "$cur"
dns_tlsa bogus mx.bogus.example 3 "$cur"
dns_serve

# no_sanitizer_report WHAT: under --enable-sanitizers a report does not
# always change the exit status, so it counts as a failure of its own.
no_sanitizer_report() {
	if printf '%s\n' "$out" | grep -Eq 'Sanitizer|runtime error:'; then
		_tap_result 1 "$1: no sanitizer report"
		diag "$out"
	fi
}

# look NAME [CHAIN] [TOOL-OPTIONS...]: one look-up; the answer in $out.
look() {
	_name=$1
	_chain=${2:-}
	shift
	[ $# -gt 0 ] && shift
	if [ -n "$_chain" ]; then
		set -- "$@" -m "$_chain"
	fi
	out=$("$TOOL" -a "$DNS_ANCHOR" -r "$DNS_RESOLVER" -t 5s "$@" "$_name" 25 2>&1)
	rc=$?
	no_sanitizer_report "dane-tool $_name"
}

# field KEY: the first value of "KEY: value" in $out.
field() {
	printf '%s\n' "$out" | sed -n "s/^$1: //p" | head -n 1
}

look mx1.example "$cur"
is "$(field status)" secure "3 1 1 of the key in use: a secure answer"
is "$(field records)" 1 "3 1 1 of the key in use: one record"
is "$(field ttl)" 300 "3 1 1 of the key in use: the zone's TTL"
is "$(field record)" "3 1 1 $(spki_sha256 "$cur")" "3 1 1 of the key in use: the record as published"
is "$(field match)" match "3 1 1 of the key in use: the served chain matches"
look mx1.example "$next"
is "$(field match)" mismatch "3 1 1 of the key in use: a renewal with a new key does not match"

look mx2.example "$cur"
is "$(field records)/$(field match)" 2/match "current + next: the current key matches"
look mx2.example "$next"
is "$(field match)" match "current + next: the next key matches"

look mx3.example "$next"
is "$(field status)/$(field match)" secure/mismatch "only the old key published: the renewal does not match"
like "$(field match-detail)" "none of the 1 usable records" "only the old key published: the detail says so"

look mx4.example "$next"
is "$(field record)" "2 1 1 $(spki_sha256 "$CA_DIR/root.pem")" "2 1 1 on the issuing CA: the record as published"
is "$(field match)" match "2 1 1 on the issuing CA: a leaf it issued matches"
like "$(field match-detail)" "certificate 1 of the chain" "2 1 1 on the issuing CA: matched above the leaf"
look mx4.example "$TEST_TMP/next.crt"
is "$(field match)" mismatch "2 1 1 on the issuing CA: a server that sends no chain does not match"

look nodane.example
is "$(field status)" secure-none "no TLSA records: secure proof that there are none"
like "$(field reason)" "_25._tcp.nodane.example. does not exist" "no TLSA records: NXDOMAIN, said so"
look nodata.example
is "$(field status)" secure-none "a name with no TLSA record: secure NODATA"
like "$(field reason)" "has no TLSA records" "a name with no TLSA record: said so"

look mx.insecure.example "$cur"
is "$(field status)" insecure "an unsigned zone: insecure, DANE cannot apply"
is "$(field records)" 1 "an unsigned zone: its records are shown for what they are"
like "$(field reason)" "not signed with DNSSEC" "an unsigned zone: said so"

look mx.bogus.example "$cur"
is "$(field status)" bogus "an altered signed record: bogus"
is "$(field records)" 0 "an altered signed record: no record is kept"
like "$(field reason)" "DNSSEC validation of _25._tcp.mx.bogus.example. failed: .+" \
	"an altered signed record: unbound's reason is given"

# The decision on real answers: the served chain (cur) and the renewal on
# disk (next) judged against what DNS says.
decide() {    # NAME [TOOL-OPTIONS...]: judged with served cur, disk next
	_name=$1
	shift
	look "$_name" "$cur" -d "$next" "$@"
}
decide mx3.example
is "$(field action)/$(field severity)" hold/WARNING "only the old key published: the reload is held"
like "$(field verdict)" "the renewal on disk would break DANE for mx3.example" "only the old key published: said so"
like "$(field verdict)" "publish \`_25\\._tcp\\.mx3\\.example\\. IN TLSA 3 1 1 $(spki_sha256 "$next")\`" \
	"only the old key published: the record to publish, as openssl computes it"
decide mx3.example -C
is "$(field action)/$(field severity)" hold/CRITICAL "only the old key, near expiry: held, CRITICAL"
decide mx3.example -C -O
is "$(field action)/$(field severity)" proceed/CRITICAL "only the old key, near expiry, override: the reload goes ahead"
decide mx2.example
is "$(field action)/$(field severity)/$(field served)/$(field disk)" proceed/OK/match/match \
	"current + next: the reload goes ahead"
decide mx4.example
is "$(field action)/$(field severity)" proceed/OK "2 1 1 on the issuing CA: the reload goes ahead"
look mx1.example "$next" -d "$next"
is "$(field action)/$(field severity)" none/CRITICAL "the served key is not published: CRITICAL"
like "$(field verdict)" "senders that validate DANE refuse this server" "the served key is not published: said so"
decide mx.bogus.example
is "$(field action)/$(field severity)" hold/CRITICAL "bogus: CRITICAL, and a renewal is held"
decide mx.insecure.example
is "$(field action)/$(field severity)" none/OK "insecure, dane = auto: nothing to act on"
decide mx.insecure.example -y
is "$(field action)/$(field severity)" none/CRITICAL "insecure, dane = yes: CRITICAL"

# A resolver that refuses the question (NSD serves no such zone): a
# failure with the resolver's answer, well before the deadline.
start=$(now_ms)
out=$("$TOOL" -a "$DNS_ANCHOR" -r "$DNS_RESOLVER" -t 20s mx.nowhere 25 2>&1)
rc=$?
no_sanitizer_report "dane-tool"
is "$(field status)" failed "a resolver that refuses: a failed look-up"
like "$(field reason)" "through $DNS_RESOLVER failed \\(SERVFAIL\\)" "a resolver that refuses: said so"
ok "a resolver that refuses: known before the deadline" test $(($(now_ms) - start)) -lt 15000

# A resolver that never answers: the deadline ends the look-up.
silent=$(free_port)
start_bg silent "$PYTHON" -c '
import signal, socket, sys
port = int(sys.argv[1])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", port))
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", port))
t.listen(16)
signal.pause()
' "$silent"
silent_pid=$bg_pid
wait_port 127.0.0.1 "$silent" 10 "$silent_pid" || bail_out "the silent resolver did not start"
start=$(now_ms)
out=$("$TOOL" -a "$DNS_ANCHOR" -r "127.0.0.1@$silent" -t 2s mx1.example 25 2>&1)
rc=$?
no_sanitizer_report "dane-tool"
elapsed=$(($(now_ms) - start))
is "$(field status)" failed "a resolver that never answers: a failed look-up"
is "$(field reason)" "no answer for _25._tcp.mx1.example. from 127.0.0.1@$silent within 2s" \
	"a resolver that never answers: the deadline, said so"
ok "a resolver that never answers: ended by the 2 s deadline (${elapsed} ms)" \
	test "$elapsed" -ge 1900 -a "$elapsed" -lt 10000

# Freed with look-ups still running: nothing is called, nothing leaks.
out=$("$TOOL" -a "$DNS_ANCHOR" -r "127.0.0.1@$silent" -t 10s -k 300 mx1.example 25 mx2.example 25 2>&1)
rc=$?
no_sanitizer_report "dane-tool"
is "$rc/$out" "1/freed with 2 look-ups pending" "freed with look-ups pending: they are cancelled"

# Several at once on one resolver, each answered.
out=$("$TOOL" -a "$DNS_ANCHOR" -r "$DNS_RESOLVER" -t 5s mx1.example 25 mx.bogus.example 25 \
	nodane.example 25 mx.insecure.example 25 2>&1)
rc=$?
no_sanitizer_report "dane-tool"
is "$(printf '%s\n' "$out" | grep -c '^owner: ')" 4 "four look-ups at once: four answers"
is "$(printf '%s\n' "$out" | sed -n 's/^status: //p' | sort | tr '\n' ' ')" \
	"bogus insecure secure secure-none " "four look-ups at once: each its own status"

# Trust anchors that cannot be used are refused at start, saying what to do.
out=$("$TOOL" -a "$TEST_TMP/no-such-anchor" -r "$DNS_RESOLVER" mx1.example 25 2>&1)
rc=$?
no_sanitizer_report "dane-tool"
is "$rc" 2 "a missing trust anchor file: refused at start"
like "$out" "cannot read the DNSSEC trust anchor file .*no-such-anchor: No such file.*dns-root-data" \
	"a missing trust anchor file: named, with the package to install"
printf '; nothing here\nexample. IN A 127.0.0.1\n' >"$TEST_TMP/empty-anchor"
out=$("$TOOL" -a "$TEST_TMP/empty-anchor" -r "$DNS_RESOLVER" mx1.example 25 2>&1)
rc=$?
no_sanitizer_report "dane-tool"
like "$out" "holds no DS or DNSKEY record" "an anchor file without an anchor: refused at start"
printf 'example. IN DS 1 2 3 zz\n' >"$TEST_TMP/broken-anchor"
out=$("$TOOL" -a "$TEST_TMP/broken-anchor" -r "$DNS_RESOLVER" mx1.example 25 2>&1)
rc=$?
no_sanitizer_report "dane-tool"
like "$out" "libunbound refuses the trust anchor file .*broken-anchor" \
	"a broken anchor file: refused at start, not at the first look-up"
out=$("$TOOL" -a "$DNS_ANCHOR" -r "not-an-address" mx1.example 25 2>&1)
rc=$?
no_sanitizer_report "dane-tool"
like "$out" "dane-resolver \"not-an-address\" is not an address" "a resolver that is not an address: refused"

# The system's anchor, as Debian installs it, is accepted.
if [ -r /usr/share/dns/root.key ]; then
	out=$("$TOOL" -r "127.0.0.1@$silent" -t 1s mx1.example 25 2>&1)
	no_sanitizer_report "dane-tool"
	is "$(field status)" failed "the default trust anchor /usr/share/dns/root.key is accepted"
else
	skip "dns-root-data is not installed"
fi

done_testing
