#!/bin/sh
# Prometheus metrics against a real nginx: `certwatch check --prometheus`
# and the daemon's metrics-file pass `promtool check metrics`, carry the
# served and on-disk notAfter, stale, the state set, the probe, and (the
# daemon only) reloads by result and pauses; the file is replaced
# atomically and readable by node_exporter.
. "$TESTS_SRCDIR/lib.sh"

server_test 13 nginx openssl promtool

# promtool_ok FILE DESCRIPTION: one test, that promtool accepts the file.
promtool_ok() {
	promtool check metrics <"$1" >"$TEST_TMP/promtool.out" 2>&1
	_rc=$?
	_tap_result "$_rc" "$2"
	[ "$_rc" -eq 0 ] || diag "$(cat "$TEST_TMP/promtool.out")"
}

# sample FILE SERIES: the value of the sample with exactly that name and labels.
sample() {
	awk -v s="$2" 'index($0, s " ") == 1 { print substr($0, length(s) + 2) }' "$1" 2>/dev/null
}

# not_after FILE: notAfter of the certificate as seconds since the epoch.
not_after() {
	date -u -d "$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')" +%s
}

ca_leaves 60 web.test A
ca_leaves 90 web.test B
ca_leaves 80 broken.test C
ca_leaves 90 broken.test D
web_fixture rename web.test=A broken.test=C
live=$(web_live web.test)
live2=$(web_live broken.test)
port=$(web_port web.test)

mdir="$TEST_TMP/textfile"
mkdir -p "$mdir"
metrics="$mdir/certwatch.prom"
conf="$TEST_TMP/etc/certwatch.conf"
{
	cat <<EOF
settle = "200ms"
metrics-file = "$metrics"
state-dir = "$TEST_TMP/state"
EOF
	web_service web web.test "reload-command = $(nginx_reload_argv)" 'verify-timeout = "10s"'
	echo "# Its reload always fails: one failure pauses it."
	web_service broken broken.test 'reload-command = {"/bin/false"}' 'max-failures = 1'
} | write_conf "$conf"

ep='service="web",endpoint="https"'

# ---- certwatch check --prometheus ---------------------------------------------------

cw check --config "$conf" --service web --prometheus
printf '%s\n' "$cw_out" >"$TEST_TMP/check.prom"
is "$cw_rc" 0 "check --prometheus keeps the exit status of check: 0 when all is well"
promtool_ok "$TEST_TMP/check.prom" "promtool check metrics accepts check --prometheus"
is "$(sample "$TEST_TMP/check.prom" "certwatch_served_not_after_seconds{$ep}")" \
	"$(not_after "$TEST_TMP/A.crt")" "served notAfter is A's, in unix seconds"
is "$(sample "$TEST_TMP/check.prom" "certwatch_disk_not_after_seconds{$ep}")" \
	"$(not_after "$TEST_TMP/A.crt")" "disk notAfter is A's too"
is "$(sample "$TEST_TMP/check.prom" "certwatch_endpoint_stale{$ep}")" 0 "stale is 0"
is "$(sample "$TEST_TMP/check.prom" "certwatch_endpoint_state{$ep,state=\"OK\"}")" 1 \
	"the state set has OK at 1"
is "$(grep -c "^certwatch_endpoint_state{$ep,state=\"[A-Z-]*\"} 0$" "$TEST_TMP/check.prom")" 9 \
	"and every other state at 0"
is "$(sample "$TEST_TMP/check.prom" "certwatch_probe_success{$ep}")" 1 "probe success is 1"
like "$(sample "$TEST_TMP/check.prom" "certwatch_probe_duration_seconds{$ep}")" '^0\.[0-9]{6}$' \
	"probe duration is in seconds"
unlike "$cw_out" 'certwatch_reloads_total|certwatch_service_paused' \
	"check has no reloads or pauses to report and leaves them out"
for m in served_not_after_seconds disk_not_after_seconds endpoint_stale endpoint_state \
	probe_duration_seconds probe_success; do
	like "$cw_out" "# HELP certwatch_$m .
# TYPE certwatch_$m gauge" "certwatch_$m has HELP and TYPE gauge"
done

cw check --connect "127.0.0.1:$port" --name web.test --prometheus
printf '%s\n' "$cw_out" >"$TEST_TMP/adhoc.prom"
promtool_ok "$TEST_TMP/adhoc.prom" "promtool accepts check --connect --prometheus"
is "$(sample "$TEST_TMP/adhoc.prom" "certwatch_probe_success{service=\"-\",endpoint=\"127.0.0.1:$port\"}")" 1 \
	"an ad-hoc endpoint is labelled by its address"

cw check --config "$conf" --prometheus --json
is "$cw_rc" 3 "--prometheus and --json together: exit 3"
like "$cw_err" 'exclude each other' "and the error says they exclude each other"

# ---- stale -------------------------------------------------------------------------------

disk_renew rename "$live" "$TEST_TMP/B" || bail_out "cannot renew the certificate"
disk_renew rename "$live2" "$TEST_TMP/D" || bail_out "cannot renew the certificate"
cw check --config "$conf" --prometheus
printf '%s\n' "$cw_out" >"$TEST_TMP/stale.prom"
is "$cw_rc" 1 "renewed on disk, not reloaded: check --prometheus exits 1"
promtool_ok "$TEST_TMP/stale.prom" "promtool accepts the stale case"
is "$(sample "$TEST_TMP/stale.prom" "certwatch_endpoint_stale{$ep}")" 1 "stale is 1"
is "$(sample "$TEST_TMP/stale.prom" "certwatch_endpoint_state{$ep,state=\"STALE\"}")/$(sample "$TEST_TMP/stale.prom" "certwatch_endpoint_state{$ep,state=\"OK\"}")" \
	1/0 "the state set moves from OK to STALE"
is "$(sample "$TEST_TMP/stale.prom" "certwatch_disk_not_after_seconds{$ep}")" \
	"$(not_after "$TEST_TMP/B.crt")" "disk notAfter is now B's"
is "$(grep -c '^certwatch_endpoint_stale{service="[a-z]*",endpoint="https"} 1$' "$TEST_TMP/stale.prom")" 2 \
	"both services' endpoints are reported, each with its own labels"

# ---- the daemon's metrics-file -------------------------------------------------------------

mark=$(log_mark)
daemon_start "$conf"
# The stale endpoints make the daemon reload both; broken's reload fails.
# shellcheck disable=SC2317 # called through wait_for
reloaded() {
	[ "$(sample "$metrics" 'certwatch_reloads_total{service="web",result="ok"}')" = 1 ] &&
	[ "$(sample "$metrics" "certwatch_endpoint_stale{$ep}")" = 0 ] &&
	[ "$(sample "$metrics" 'certwatch_service_paused{service="broken"}')" = 1 ]
}
ok "the daemon writes the metrics-file: a verified reload, a failed one and a pause" \
	wait_for 30 reloaded ||
	diag "$(log_since "$mark")" "$(cat "$metrics" 2>/dev/null)"
cp "$metrics" "$TEST_TMP/daemon.prom" 2>/dev/null
promtool_ok "$TEST_TMP/daemon.prom" "promtool check metrics accepts the daemon's metrics-file"
is "$(sample "$TEST_TMP/daemon.prom" 'certwatch_reloads_total{service="web",result="failed"}')" 0 \
	"web: no failed reloads"
is "$(sample "$TEST_TMP/daemon.prom" 'certwatch_service_paused{service="web"}')" 0 "web is not paused"
is "$(sample "$TEST_TMP/daemon.prom" 'certwatch_reloads_total{service="broken",result="failed"}')/$(sample "$TEST_TMP/daemon.prom" 'certwatch_reloads_total{service="broken",result="ok"}')" \
	1/0 "broken: its failed reload is counted as failed"
is "$(sample "$TEST_TMP/daemon.prom" 'certwatch_endpoint_stale{service="broken",endpoint="https"}')" 1 \
	"broken still serves the old certificate: stale 1"
is "$(sample "$TEST_TMP/daemon.prom" "certwatch_served_not_after_seconds{$ep}")" \
	"$(not_after "$TEST_TMP/B.crt")" "after the reload the served notAfter is B's"
like "$(cat "$TEST_TMP/daemon.prom")" '# TYPE certwatch_reloads_total counter' \
	"reloads are a counter"
is "$(stat -c %a "$metrics")" 644 "the metrics-file is readable by node_exporter (0644)"
is "$(find "$mdir" -mindepth 1 ! -name certwatch.prom | wc -l | tr -d ' ')" 0 \
	"no temporary file is left beside it"

# The file is replaced by rename: a reader holding the old one keeps a whole file.
exec 7<"$metrics"
ino=$(stat -c %i "$metrics")
kill -HUP "$daemon_pid"
ok "after SIGHUP the file is written again, as a new inode" \
	wait_for 20 sh -c "[ \"\$(stat -c %i '$metrics')\" != '$ino' ]"
ok "the old file, still open, is whole" grep -q '^certwatch_probe_success' /dev/fd/7
exec 7<&-
is "$(sample "$metrics" 'certwatch_reloads_total{service="web",result="ok"}')" 1 \
	"the reload counter is not reset by SIGHUP"

daemon_stop
is "$daemon_rc" 0 "the daemon stops cleanly"

# ---- certwatch@NAME: instances sharing one configuration ----------------------------------

# Each instance writes a file of its own beside the shared name; neither
# replaces the other's, and the collector reads both (*.prom).
rm -f "$metrics"
daemon_start "$conf" --service web
web_pid=$daemon_pid
daemon_start "$conf" --service broken
# shellcheck disable=SC2317 # called through wait_for
both_written() {
	[ -n "$(sample "$mdir/certwatch-web.prom" "certwatch_endpoint_stale{$ep}")" ] &&
	[ -n "$(sample "$mdir/certwatch-broken.prom" 'certwatch_service_paused{service="broken"}')" ]
}
ok "run --service NAME writes certwatch-NAME.prom, one file per instance" \
	wait_for 30 both_written || diag "$(ls -l "$mdir")"
is "$(grep -c 'service="broken"' "$mdir/certwatch-web.prom")/$(grep -c 'service="web"' "$mdir/certwatch-broken.prom")" \
	0/0 "each instance's file holds its own service only"
ok "and the shared name is not written by an instance" test ! -e "$metrics"
daemon_stop
daemon_pid=$web_pid
daemon_stop
is "$daemon_rc" 0 "both instances stop cleanly"
daemon_log_clean

done_testing
