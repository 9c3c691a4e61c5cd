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

# bound MS: how many writes a pass that took MS may make: while probes are
# in flight the state is written at most every 2 s (PERSIST_MAX_DELAY_USEC),
# then once more when the pass ends; a few spare for the engine falling
# quiet between services.  On a loaded machine a pass takes longer, and
# may write more often, but never once per service.
bound() {
	echo $(($1 / 2000 + 4))
}

t0=$(now_ms)
daemon_start "$conf"
ok "the daemon settles with all $services services OK" wait_for 120 all_known
took=$(($(now_ms) - t0))
n=$(state_renames)
diag "the first pass over $services services took $(ms_to_s "$took") s and wrote the state file $n times"
ok "the first pass wrote the state file at most once per 2 s of the pass, not once per service" \
	test "$n" -ge 1 -a "$n" -le "$(bound "$took")" -a "$n" -lt $((services / 4))

# Every service looks again at the next periodic pass: SIGHUP with the same
# configuration reconciles every service from scratch, as a tick does.
before=$(state_renames)
mark=$(log_mark)
t0=$(now_ms)
kill -HUP "$daemon_pid"
ok "SIGHUP re-reads the configuration" \
	wait_log "$mark" "configuration re-read: $services services, $services endpoints" 60
ok "and every service settles again" wait_for 120 all_known
took=$(($(now_ms) - t0))
n=$(($(state_renames) - before))
diag "the pass after SIGHUP took $(ms_to_s "$took") s and wrote the state file $n times"
ok "that pass too wrote the state file at most once per 2 s of the pass" \
	test "$n" -le "$(bound "$took")" -a "$n" -lt $((services / 4))

daemon_stop_ok
daemon_log_clean
done_testing
