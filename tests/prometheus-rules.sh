#!/bin/sh
# contrib/prometheus/certwatch.rules.yml under `promtool test rules`, fed
# with what Prometheus would scrape from a host: the daemon guards six
# services on a loopback nginx (OK, renewal overdue, expiring, expired,
# stale without a reload method, and one whose reload fails and is
# paused), writes its metrics-file, Debian's node_exporter reads it with
# the textfile collector, and its /metrics becomes promtool's input series
# (each held for four hours, as if the host reported the same all along).
# The tests then say which alerts fire when, with which labels, and with
# the exact annotations an on-call person reads (the host, the service, the
# `certwatch resume` line).
#
# promtool's clock starts at 0: every timestamp-valued sample (notAfter,
# the file's mtime) is shifted by the time the file was written, so that
# "time() - mtime" and "notAfter - time()" are what they were on the host.
# certwatch_dane_hold needs a DNSSEC-signed zone to be 1: its rule is
# tested on samples of the shape tests/dane-postfix.sh sees the daemon
# write.  doc/fleet.md's prometheus.yml snippets pass
# `promtool check config`, and its fleet-wide queries are evaluated on the
# same series.
. "$TESTS_SRCDIR/lib.sh"

server_test 31 nginx openssl promtool prometheus-node-exporter
RULES="$TESTS_SRCDIR/../contrib/prometheus/certwatch.rules.yml"

promtool check rules "$RULES" >"$TEST_TMP/check.out" 2>&1
is "$?" 0 "promtool check rules accepts the rules" || diag "$(cat "$TEST_TMP/check.out")"

# The prometheus.yml snippets of doc/fleet.md (its yaml blocks), with the
# rules where this tree has them.
awk -v dir="$TEST_TMP" '/^```yaml$/ { n++; f = dir "/fleet-" n ".yml"; next }
	/^```$/ { f = ""; next } f { print > f }' "$TESTS_SRCDIR/../doc/fleet.md"
is "$(find "$TEST_TMP" -maxdepth 1 -name 'fleet-*.yml' | wc -l | tr -d ' ')" 2 \
	"doc/fleet.md has its two prometheus.yml snippets"
for f in "$TEST_TMP"/fleet-*.yml; do
	sed -i "s|/usr/share/certwatch/prometheus/certwatch.rules.yml|$RULES|" "$f"
	promtool check config "$f" >"$TEST_TMP/config.out" 2>&1
	is "$?" 0 "promtool check config accepts doc/fleet.md's $(sed -n '1s/^# //p' "$f" | cut -d: -f1)" ||
		diag "$(cat "$TEST_TMP/config.out")"
done

# ---- a host: six services, the daemon, node_exporter ------------------------------

day=86400
ca_leaves 90 ok.test OK
# 90-day certificates with 10 and 3 days left: warning and critical.
CA_NOT_BEFORE=$((-80 * day)) ca_leaf "$TEST_TMP/OVERDUE" 10 overdue.test ||
	bail_out "cannot make a certificate"
CA_NOT_BEFORE=$((-87 * day)) ca_leaf "$TEST_TMP/EXPIRING" 3 expiring.test ||
	bail_out "cannot make a certificate"
ca_leaves -1 expired.test EXPIRED
ca_leaves 60 stale.test S1
ca_leaves 90 stale.test S2
ca_leaves 60 broken.test B1
ca_leaves 90 broken.test B2
web_fixture rename ok.test=OK overdue.test=OVERDUE expiring.test=EXPIRING \
	expired.test=EXPIRED stale.test=S1 broken.test=B1
disk_renew rename "$(web_live stale.test)" "$TEST_TMP/S2" &&
	disk_renew rename "$(web_live broken.test)" "$TEST_TMP/B2" ||
	bail_out "cannot renew the certificates"

mdir="$TEST_TMP/textfile"
mkdir -p "$mdir"
{
	printf 'settle = "200ms"\nmetrics-file = "%s"\nstate-dir = "%s"\n' \
		"$mdir/certwatch.prom" "$TEST_TMP/state"
	for s in ok overdue expiring expired; do
		web_service "$s" "$s.test"
	done
	echo "# No reload method: certwatch only reports it stale."
	web_service stale stale.test
	echo "# Its reload always fails: one failure pauses it."
	web_service broken broken.test 'reload-command = {"/bin/false"}' 'max-failures = 1'
} | write_conf "$TEST_TMP/etc/certwatch.conf"

daemon_start "$TEST_TMP/etc/certwatch.conf"
# shellcheck disable=SC2317 # called through wait_for
reported() {
	[ "$(grep -c '^certwatch_probe_success{' "$mdir/certwatch.prom" 2>/dev/null)" = 6 ] &&
		grep -q '^certwatch_service_paused{service="broken"} 1$' "$mdir/certwatch.prom"
}
ok "the daemon's metrics-file reports all six endpoints and the pause" wait_for 30 reported ||
	diag "$(cat "$DAEMON_LOG")" "$(cat "$mdir/certwatch.prom" 2>/dev/null)"
daemon_stop

port=$(free_port)
start_bg node_exporter prometheus-node-exporter --collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$mdir" --web.listen-address="127.0.0.1:$port"
wait_port 127.0.0.1 "$port" 10 "$bg_pid" || bail_out "node_exporter did not start: $(cat "$TEST_TMP/node_exporter.log")"
"$PYTHON" -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \
	"http://127.0.0.1:$port/metrics" >"$TEST_TMP/scrape.txt" || bail_out "cannot scrape node_exporter"
like "$(cat "$TEST_TMP/scrape.txt")" 'node_textfile_mtime_seconds\{file="[^"]*certwatch\.prom"\}' \
	"node_exporter read the file (node_textfile_mtime_seconds names it)"
is "$(grep -c '^certwatch_' "$TEST_TMP/scrape.txt")" "$(grep -c '^certwatch_' "$mdir/certwatch.prom")" \
	"and exports every certwatch sample of it"

# ---- the scrape as promtool's input ----------------------------------------------------

host=web1.example.com
# series.py: input_series of every certwatch_* and node_textfile_mtime_seconds
# sample, with the scrape's labels instance and job, held for 4 h at 1 m;
# counters start at 0 (the daemon's first pass had no reloads yet).  Prints
# the shift (the file's mtime) on stderr-free fd 3.
"$PYTHON" - "$TEST_TMP/scrape.txt" "$host:9100" >"$TEST_TMP/series.yml" 3>"$TEST_TMP/t0" <<'EOF'
import os, re, sys
scrape, instance = sys.argv[1], sys.argv[2]
samples, counters = [], set()
for line in open(scrape):
    m = re.match(r'# TYPE (\S+) counter', line)
    if m:
        counters.add(m.group(1))
        continue
    m = re.match(r'^(certwatch_\w+|node_textfile_mtime_seconds)(?:\{(.*)\})? (\S+)$', line.strip())
    if m:
        samples.append((m.group(1), m.group(2) or '', float(m.group(3))))
t0 = [v for n, l, v in samples
      if n == 'node_textfile_mtime_seconds' and l.endswith('certwatch.prom"')][0]
os.write(3, b'%d\n' % t0)
def fmt(v):
    return ('%d' % v) if v == int(v) else repr(v)
print('      - series: \'up{instance="%s",job="node"}\'' % instance)
print("        values: '1+0x240'")
for name, labels, v in samples:
    if name.endswith('_not_after_seconds') or name == 'node_textfile_mtime_seconds':
        v -= t0
    labels = (labels + ',' if labels else '') + 'instance="%s",job="node"' % instance
    print("      - series: '%s{%s}'" % (name, labels))
    if name in counters:
        print("        values: '0 %s+0x240'" % fmt(v))
    else:
        print("        values: '%s+0x240'" % fmt(v))
EOF
is "$?" 0 "the scrape converts to input series" || bail_out "no input series"
t0=$(cat "$TEST_TMP/t0")

# humanize SECONDS: Prometheus' humanizeDuration of a whole number of seconds.
humanize() {
	awk -v v="$1" 'BEGIN {
		d = int(v / 86400); h = int(v / 3600) % 24; m = int(v / 60) % 60; s = v % 60
		if (d) printf "%dd %dh %dm %ds\n", d, h, m, s
		else if (h) printf "%dh %dm %ds\n", h, m, s
		else printf "%dm %ds\n", m, s
	}'
}
expiring_left=$(humanize $(($(date -u -d "$(openssl x509 -in "$TEST_TMP/EXPIRING.crt" -noout -enddate |
	sed 's/^notAfter=//')" +%s) - t0 - 30 * 60)))

# The fleet-wide queries of doc/fleet.md, on the same series.
q_states=$(sed -n 's/^    \(count by (site, state) .*\)$/\1/p' "$TESTS_SRCDIR/../doc/fleet.md")
q_ending=$(sed -n 's/^    \(sort((certwatch_served_not_after_seconds .*\)$/\1/p' "$TESTS_SRCDIR/../doc/fleet.md")
[ -n "$q_states" ] && [ -n "$q_ending" ] || bail_out "doc/fleet.md's queries not found"

# ---- the expected alerts ------------------------------------------------------------------

H=$host
# at TIME ALERT: an alert_rule_test of ALERT at TIME; without exp_alerts
# (none follows) it says that ALERT does not fire then.
at() {
	printf '      - eval_time: %s\n        alertname: %s\n' "$1" "$2"
}
# firing SEVERITY LABELS SUMMARY DESCRIPTION ACTION: one expected alert,
# LABELS "name: value" separated by ";", the series' instance and job
# added; the annotation host is the instance's host.
firing() {
	printf '          - exp_labels:\n              severity: %s\n' "$1"
	printf '%s' "$2" | tr ';' '\n' | sed 's/^ */              /'
	printf '\n              instance: %s:9100\n              job: node\n' "$H"
	printf '            exp_annotations:\n              host: %s\n' "$H"
	printf "              summary: '%s'\n              description: '%s'\n" "$3" "$4"
	printf "              action: '%s'\n" "$5"
}
expired_why='Clients that check certificates fail to connect.'
expiring_why='Clients will reject it once it expires.  If a renewal is on disk, certwatch reloads the service; if not, renewal has failed.'
renew_now() {
	echo "On $H: certwatch check --service $1 says why; renew the certificate now."
}
overdue_why='The certificate served and on disk is the same and has little lifetime left; no renewal has arrived on disk.  The ACME client on the host (or whatever delivers this certificate) has stopped renewing it: a failed challenge, a rate limit, a paused account.'
overdue_do="On $H: read the ACME client''s log (certbot: /var/log/letsencrypt/letsencrypt.log; journalctl -u certbot.timer) and try a renewal by hand (certbot renew --dry-run)."
{
	cat <<EOF
rule_files: [$RULES]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
EOF
	cat "$TEST_TMP/series.yml"
	cat <<EOF
    promql_expr_test:
      # Not OK: one expired, two overdue, two stale (one of them paused).
      - expr: '$q_states'
        eval_time: 5m
        exp_samples:
          - labels: '{state="EXPIRED"}'
            value: 1
          - labels: '{state="RENEWAL-OVERDUE"}'
            value: 2
          - labels: '{state="STALE"}'
            value: 2
      # Ending within two weeks: the overdue, the expiring, the expired.
      - expr: 'count by (service) ($q_ending)'
        eval_time: 5m
        exp_samples:
          - labels: '{service="overdue"}'
            value: 1
          - labels: '{service="expiring"}'
            value: 1
          - labels: '{service="expired"}'
            value: 1
    alert_rule_test:
EOF
	# At 5 minutes: the failed reload, the pause, the expired certificate;
	# the others wait for their "for".
	at 5m CertwatchServicePaused
	echo '        exp_alerts:'
	firing critical 'service: broken' \
		"certwatch has paused reloads of broken on $H after repeated failures" \
		'No more automatic reloads of broken: a renewed certificate will not be served until the cause is fixed and the service is resumed (a reload by hand that serves the certificate on disk resumes it too).' \
		"On $H: journalctl -u certwatch -u \"certwatch@*\" for the failures, fix them, then: certwatch resume broken"
	at 5m CertwatchReloadFailed
	echo '        exp_alerts:'
	firing warning 'service: broken;result: failed' \
		"certwatch could not reload broken on $H in the last hour" \
		'A reload failed or its result was not seen; certwatch backs off and retries, and pauses the service after max-failures.' \
		"On $H: journalctl -u certwatch -u \"certwatch@*\" shows the reload''s error."
	at 5m CertwatchCertificateExpired
	echo '        exp_alerts:'
	firing critical 'service: expired;endpoint: https;state: EXPIRED' \
		"expired/https on $H serves an expired certificate" "$expired_why" "$(renew_now expired)"
	at 5m CertwatchStale
	at 5m CertwatchRenewalOverdue
	at 5m CertwatchCertificateExpiring
	# At 30 minutes: the week-old certificate; an OK endpoint never alerts.
	at 30m CertwatchCertificateExpiring
	echo '        exp_alerts:'
	firing critical 'service: expiring;endpoint: https' \
		"expiring/https on $H serves a certificate that expires in $expiring_left" \
		"$expiring_why" "$(renew_now expiring)"
	# At 70 minutes: stale (not the paused service), renewal overdue; the
	# failed reload is more than an hour old.
	at 70m CertwatchStale
	echo '        exp_alerts:'
	firing warning 'service: stale;endpoint: https' \
		"stale/https on $H serves an older certificate than the one on disk" \
		'The renewed certificate has not been served for 30 minutes.  Either no certwatch daemon guards this service (certwatch check writes the metrics), or the service has no reload method, or it waits for its reload-window.' \
		"On $H: certwatch status; systemctl status certwatch@stale (or certwatch); reload stale if nothing will."
	at 70m CertwatchRenewalOverdue
	echo '        exp_alerts:'
	for s in overdue expiring; do
		firing warning "service: $s;endpoint: https;state: RENEWAL-OVERDUE" \
			"$s/https on $H: the certificate is not being renewed" "$overdue_why" "$overdue_do"
	done
	at 70m CertwatchReloadFailed
	# certwatch itself: the file is 2 h old (fine), then 3 h 20 m.
	at 2h CertwatchNotReporting
	at 200m CertwatchNotReporting
	echo '        exp_alerts:'
	firing warning "file: $mdir/certwatch.prom" \
		"certwatch on $H has not written $mdir/certwatch.prom for 3h 20m 0s" \
		'certwatch rewrites its metrics file after every pass (interval, 1h by default); the certificate metrics of this host are out of date.' \
		"On $H: systemctl status certwatch \"certwatch@*\"; journalctl -u certwatch -u \"certwatch@*\"."
	at 200m CertwatchMetricsGone

	# The file disappears after 30 minutes while node_exporter still
	# answers: the same series, cut short.
	cat <<EOF
  - interval: 1m
    input_series:
      - series: 'up{instance="$H:9100",job="node"}'
        values: '1+0x90'
      - series: 'node_textfile_mtime_seconds{file="$mdir/certwatch.prom",instance="$H:9100",job="node"}'
        values: '0+0x30 stale'
    alert_rule_test:
EOF
	at 20m CertwatchMetricsGone
	at 50m CertwatchMetricsGone
	echo '        exp_alerts:'
	firing warning "file: $mdir/certwatch.prom" \
		"certwatch''s metrics file $mdir/certwatch.prom has gone from $H" \
		'node_exporter on the host answers, but no longer finds the file certwatch writes: certwatch was removed, or metrics-file was changed.' \
		"On $H: certwatch --test-config | grep metrics-file; systemctl status certwatch \"certwatch@*\"."

	# DANE hold: samples shaped as in tests/dane-postfix.sh's held.prom.
	cat <<EOF
  - interval: 1m
    input_series:
      - series: 'certwatch_dane_hold{service="postfix",endpoint="smtp",instance="$H:9100",job="node"}'
        values: '1+0x90'
      - series: 'certwatch_dane_hold{service="postfix",endpoint="submissions",instance="$H:9100",job="node"}'
        values: '0+0x90'
    alert_rule_test:
EOF
	at 30m CertwatchDaneHold
	at 70m CertwatchDaneHold
	echo '        exp_alerts:'
	firing warning 'service: postfix;endpoint: smtp' \
		"certwatch holds the reload of postfix/smtp on $H: the renewed key is not in its TLSA records" \
		'The renewed certificate is on disk but its key matches none of the TLSA records in DNS, so certwatch keeps serving the old one.  Publish a TLSA record for the new key beside the current one; certwatch reloads once DNS has it.' \
		"Publish TLSA records for the renewed key of postfix on $H, keeping the old record until the reload."
} >"$TEST_TMP/certwatch.test.yml"

promtool test rules "$TEST_TMP/certwatch.test.yml" >"$TEST_TMP/promtool.out" 2>&1
rc=$?
is "$rc" 0 "promtool test rules: every alert fires when it should, with its labels and annotations, and doc/fleet.md's queries find what they say" ||
	diag "$(cat "$TEST_TMP/promtool.out")"

# The test above must be able to fail: a rule that fires too early does.
sed 's/^        for: 30m$/        for: 1m/' "$RULES" >"$TEST_TMP/early.rules.yml"
sed "s|^rule_files: .*|rule_files: [$TEST_TMP/early.rules.yml]|" "$TEST_TMP/certwatch.test.yml" \
	>"$TEST_TMP/early.test.yml"
promtool test rules "$TEST_TMP/early.test.yml" >"$TEST_TMP/early.out" 2>&1
isnt "$?" 0 "the same test fails when CertwatchStale fires after 1 minute instead of 30"

done_testing
