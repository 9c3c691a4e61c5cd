#!/bin/sh
# The state file is written a bounded number of times per pass, however
# many services there are: one pass over 400 services (all on one nginx)
# must not rename a new state file into place once per service.  The
# renames are counted from outside, as inotify sees them arrive in the
# state directory.
. "$TESTS_SRCDIR/lib.sh"

server_test 32 nginx openssl inotifywait

services=400
ca_leaves 60 web.test w0
web_fixture rename web.test=w0

# Every file renamed into the state directory, one name a line.
trace="$TEST_TMP/renames"
mkdir -p "$TEST_TMP/state"
start_bg inotifywait inotifywait -m -e moved_to --format '%f' -o "$trace" "$TEST_TMP/state"
wait_for 10 grep -q 'Watches established' "$TEST_TMP/inotifywait.log" ||
	bail_out "inotifywait did not start: $(cat "$TEST_TMP/inotifywait.log")"

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	i=0
	while [ "$i" -lt "$services" ]; do
		web_service "s$i" web.test
		i=$((i + 1))
	done
} | write_conf "$conf"

state_renames() {
	grep -cx state "$trace" 2>/dev/null || echo 0
}
all_known() {
	status_all_ok "$conf" &&
	[ "$(printf '%s' "$cw_out" | "$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)["endpoints"]))')" = "$services" ]
}

daemon_start "$conf"
ok "the daemon settles with all $services services OK" wait_for 120 all_known
n=$(state_renames)
diag "the first pass over $services services wrote the state file $n times"
ok "the first pass wrote the state file at most 10 times (not once per service)" \
	test "$n" -ge 1 -a "$n" -le 10

# Every service looks again at the next periodic pass: SIGHUP with the same
# configuration reconciles every service from scratch, as a tick does.
before=$(state_renames)
mark=$(log_mark)
kill -HUP "$daemon_pid"
ok "SIGHUP re-reads the configuration" \
	wait_log "$mark" "configuration re-read: $services services, $services endpoints" 60
ok "and every service settles again" wait_for 120 all_known
n=$(($(state_renames) - before))
diag "the pass after SIGHUP wrote the state file $n times"
ok "that pass too wrote the state file at most 10 times" test "$n" -le 10

daemon_stop_ok
daemon_log_clean
done_testing
