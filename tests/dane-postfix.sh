#!/bin/sh
# DANE at the reload, end to end: a real Postfix serves the certificate in
# use over STARTTLS, NSD serves DNSSEC-signed TLSA records on loopback
# (tests/dns.sh), and certwatch asks them through dane-resolver with the
# test zone's key as dane-trust-anchor, never the network.
#
# check and the plugin judge one renewal (a new key) against each kind of
# records: current + next (the reload proceeds), only the old key (held,
# WARNING, with the record to publish), bogus signatures (held, CRITICAL),
# an insecure zone (DANE does not apply), 2 1 1 of the issuing CA
# (proceeds), pins without and with the new key.  Then the daemon: a
# renewal whose key is not published is held (logged with its own
# MESSAGE_ID, the record in the log and in status); the test publishes
# the record, and once two of its short TTLs have passed the daemon
# reloads Postfix by itself and verifies.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/dns.sh"

server_test 64 postfix postconf openssl nsd nsd-checkconf ldns-keygen ldns-signzone drill promtool

names="mx1.example mx2.example mx3.example mx4.example mx.bogus.example mx.insecure.example"
# shellcheck disable=SC2086
ca_leaf "$TEST_TMP/cur" 60 $names || bail_out "cannot make a certificate"
# shellcheck disable=SC2086
ca_leaf "$TEST_TMP/next" 80 $names || bail_out "cannot make a certificate"
cur="$TEST_TMP/cur.fullchain.pem"
next="$TEST_TMP/next.fullchain.pem"
fp_cur=$(cert_fp "$TEST_TMP/cur.crt")
fp_next=$(cert_fp "$TEST_TMP/next.crt")
hex_next=$(spki_sha256 "$next")

mkdir -p "$TEST_TMP/live"
cp "$cur" "$TEST_TMP/live/fullchain.pem" && cp "$TEST_TMP/cur.key" "$TEST_TMP/live/privkey.pem" ||
	bail_out "cannot lay out the files"
postfix_start "$TEST_TMP/live/fullchain.pem" "$TEST_TMP/live/privkey.pem" ||
	bail_out "postfix did not start"

# The records of Postfix's own port; short TTLs, so that a record added
# later is trusted within seconds.
DNS_TLSA_PORT=$pf_smtp
DNS_TTL=2
dns_init
dns_tlsa example mx1.example 3 "$cur"                 # current + next
dns_tlsa example mx1.example 3 "$next"
dns_tlsa example mx2.example 3 "$cur"                 # only the old key (check)
dns_tlsa example mx3.example 3 "$cur"                 # only the old key (daemon)
dns_tlsa example mx4.example 2 "$CA_DIR/root.pem"     # the issuing CA
dns_tlsa bogus mx.bogus.example 3 "$cur"
dns_tlsa insecure mx.insecure.example 3 "$cur"
dns_serve

pin() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
		openssl dgst -sha256 -binary | openssl base64 -A
}

# ---- check and the plugin: one renewal against each kind of records ------------------

# The renewal is on disk, Postfix still serves the certificate in use.
mkdir -p "$TEST_TMP/renewed"
cp "$next" "$TEST_TMP/renewed/fullchain.pem" && cp "$TEST_TMP/next.key" "$TEST_TMP/renewed/privkey.pem"
ep() {    # ENDPOINT DANE-NAME [SETTING...]
	_e=$1
	_n=$2
	shift 2
	printf 'endpoint %s { port = %s starttls = "smtp" dane-name = "%s" %s }' "$_e" "$pf_smtp" "$_n" "$*"
}
conf="$TEST_TMP/etc/check.conf"
{
	printf 'dane-resolver = "%s"\ndane-trust-anchor = "%s"\n' "$DNS_RESOLVER" "$DNS_ANCHOR"
	conf_service mx mx1.example "$TEST_TMP/renewed" \
		"$(ep next mx1.example)" "$(ep old mx2.example)" "$(ep bogus mx.bogus.example)" \
		"$(ep insecure mx.insecure.example)" "$(ep ca mx4.example)" \
		"$(ep unpinned mx.insecure.example "pin-sha256 = {\"$(pin "$cur")\"}")" \
		"$(ep pinned mx.insecure.example "pin-sha256 = {\"$(pin "$cur")\", \"$(pin "$next")\"}")"
} | write_conf "$conf"

cw --config "$conf" check --json
check_json=$cw_out
row() {    # ENDPOINT: "STATE SEVERITY"
	echo "$(json_endpoint "$check_json" mx "$1" state) $(json_endpoint "$check_json" mx "$1" severity)"
}
is "$(row next)" "STALE WARNING" "current + next published: the reload proceeds (STALE)"
is "$(json_endpoint "$check_json" mx next dane.lookup)/$(json_endpoint "$check_json" mx next dane.served)/$(json_endpoint "$check_json" mx next dane.disk)" \
	"secure/match/match" "current + next: a secure answer, both chains match"
is "$(row old)" "DANE-HOLD WARNING" "only the old key published: the reload is held, WARNING"
like "$(json_endpoint "$check_json" mx old reason)" \
	"publish \`_$pf_smtp._tcp.mx2.example. IN TLSA 3 1 1 $hex_next\`" \
	"only the old key: the reason gives the record to publish"
is "$(json_endpoint "$check_json" mx old dane.disk_records.0)" \
	"_$pf_smtp._tcp.mx2.example. IN TLSA 3 1 1 $hex_next" "JSON: the 3 1 1 record of the renewal"
is "$(row bogus)" "DANE-HOLD CRITICAL" "bogus signatures: CRITICAL, no reload into it"
is "$(json_endpoint "$check_json" mx bogus dane.lookup)" bogus "bogus signatures: the look-up says bogus"
is "$(row insecure)" "STALE WARNING" "an insecure zone: DANE does not apply, reload as usual"
is "$(json_endpoint "$check_json" mx insecure dane.lookup)" insecure "an insecure zone: said so"
is "$(row ca)" "STALE WARNING" "2 1 1 of the issuing CA: the reload proceeds"
is "$(row unpinned)" "DANE-HOLD WARNING" "a renewal whose key is not pinned: held"
contains "$(json_endpoint "$check_json" mx unpinned reason)" "add pin-sha256 \"$(pin "$next")\"" \
	"not pinned: the pin to add is printed"
is "$(row pinned)" "STALE WARNING" "a renewal whose key is pinned: the reload proceeds"

PLUGIN="$TEST_TMP/check_certwatch"
ln -s "$CERTWATCH" "$PLUGIN" || bail_out "cannot link check_certwatch"
pl_out=$(timeout -k 5 60 "$PLUGIN" --config "$conf" 2>"$TEST_TMP/pl.err")
pl_rc=$?
check_rc=$(printf '%s' "$check_json" | "$PYTHON" -c '
import json, sys
print({"OK": 0, "WARNING": 1, "CRITICAL": 2}.get(json.load(sys.stdin)["status"], 3))')
is "$pl_rc" "$check_rc" "check and the plugin: the same status"
like "$pl_out" "'mx/old dane'=1;1;2;0;2" "the plugin's perfdata has a dane value: 1 for a held reload"
like "$pl_out" "DANE-HOLD" "the plugin names the hold"

# ---- the daemon: held, then released once the record is published -------------------

state_conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	printf 'dane-resolver = "%s"\ndane-trust-anchor = "%s"\nmetrics-file = "%s"\n' \
		"$DNS_RESOLVER" "$DNS_ANCHOR" "$TEST_TMP/state/certwatch.prom"
	conf_service postfix mx3.example "$TEST_TMP/live" "reload-command = $(postfix_reload_argv)" \
		"endpoint smtp { port = $pf_smtp starttls = \"smtp\" }"
} | write_conf "$state_conf"
mkdir -p "$TEST_TMP/state"

mark=$(log_mark)
daemon_start "$state_conf"
ok "the daemon starts: the served certificate matches its record" wait_for 30 status_all_ok "$state_conf" ||
	diag "$(log_since "$mark")"

mark=$(log_mark)
cp "$TEST_TMP/next.key" "$TEST_TMP/live/privkey.pem.new" && cp "$next" "$TEST_TMP/live/fullchain.pem.new" &&
	mv "$TEST_TMP/live/privkey.pem.new" "$TEST_TMP/live/privkey.pem" &&
	mv "$TEST_TMP/live/fullchain.pem.new" "$TEST_TMP/live/fullchain.pem" ||
	bail_out "cannot renew the files"
ok "a renewal whose key is not published: the reload is held" \
	wait_log "$mark" "certwatch: postfix/smtp: reload held: the renewal on disk would break DANE" 30 ||
	diag "$(log_since "$mark")"
like "$log_line" "publish \`_$pf_smtp._tcp.mx3.example. IN TLSA 3 1 1 $hex_next\`" \
	"the hold's log line gives the record to publish"
is "$(served_fp 127.0.0.1 "$pf_smtp" smtp mx3.example)" "$fp_cur" "held: Postfix still serves the certificate in use"
is "$(reloads_started "$mark" postfix)" 0 "held: no reload"
cw --config "$state_conf" status --json
is "$(json_endpoint "$cw_out" postfix smtp state)" DANE-HOLD "status: DANE-HOLD"
like "$(json_endpoint "$cw_out" postfix smtp reason)" "IN TLSA 3 1 1 $hex_next" "status: the record to publish"
wait_for 10 grep -q 'certwatch_dane_hold{service="postfix",endpoint="smtp"} 1' "$TEST_TMP/state/certwatch.prom"
ok "metrics: certwatch_dane_hold is 1" grep -q 'certwatch_dane_hold{service="postfix",endpoint="smtp"} 1' \
	"$TEST_TMP/state/certwatch.prom"
cp "$TEST_TMP/state/certwatch.prom" "$TEST_TMP/held.prom"
# The family and labels that contrib/prometheus's CertwatchDaneHold reads
# (tests/prometheus-rules.sh feeds that rule samples of this shape).
promtool check metrics <"$TEST_TMP/held.prom" >"$TEST_TMP/promtool.out" 2>&1
is "$?" 0 "promtool check metrics accepts the metrics of a held reload" ||
	diag "$(cat "$TEST_TMP/promtool.out")"

dns_tlsa example mx3.example 3 "$next"
dns_resign
published() {
	drill -p "${DNS_RESOLVER#*@}" @127.0.0.1 "_$pf_smtp._tcp.mx3.example." TLSA | grep -qi "$hex_next"
}
wait_for 10 published || bail_out "NSD does not serve the new record"
ok "the record published: the daemon releases the hold by itself" \
	wait_log "$mark" "certwatch: postfix/smtp: reload no longer held" 120 || diag "$(log_since "$mark")"
ok "and reloads Postfix and verifies" wait_log "$mark" "^[0-9]+ certwatch: postfix: reload verified" 60 ||
	diag "$(log_since "$mark")"
is "$(served_fp 127.0.0.1 "$pf_smtp" smtp mx3.example)" "$fp_next" "Postfix serves the renewal"
ok "status: every endpoint OK again" wait_for 30 status_all_ok "$state_conf"

daemon_stop_ok
done_testing
