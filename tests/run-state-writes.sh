#!/bin/sh
# The state file is written a bounded number of times per pass, however
# many services there are: one pass over 400 services (all on one nginx)
# must not rename a new state file into place once per service.  And a
# renewal of one service among them appends its few changed records to
# the file instead of writing all 401 services' whole again.  The renames
# and the appends are counted from outside, as inotify sees them in the
# state directory.
. "$TESTS_SRCDIR/lib.sh"

server_test 32 nginx openssl inotifywait

services=400
ca_leaves 60 web.test w0
ca_leaves 60 lone.test l0 l1
web_fixture rename web.test=w0 lone.test=l0

# Every file renamed into the state directory or written to in place,
# "EVENT NAME" a line.
trace="$TEST_TMP/trace"
mkdir -p "$TEST_TMP/state"
start_bg inotifywait inotifywait -m -e moved_to -e modify --format '%e %f' -o "$trace" \
	"$TEST_TMP/state"
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
	web_service lone lone.test "reload-command = $(nginx_reload_argv)"
} | write_conf "$conf"
services=$((services + 1))

# count EVENT: how many times the trace saw EVENT on the state file.
count() {
	_n=$(grep -cx "$1 state" "$trace" 2>/dev/null)
	echo "${_n:-0}"
}
state_renames() {
	count MOVED_TO
}
state_appends() {
	count MODIFY
}
# Writes: a new file renamed into place, or one append (one write(2)
# with its records, so one MODIFY, for the appends these tests make).
state_writes() {
	echo $(($(state_renames) + $(state_appends)))
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
n=$(state_writes)
diag "the first pass over $services services took $(ms_to_s "$took") s and wrote the state file $n times"
ok "the first pass wrote the state file at most once per 2 s of the pass, not once per service" \
	test "$n" -ge 1 -a "$n" -le "$(bound "$took")" -a "$n" -lt $((services / 4))

# Every service looks again at the next periodic pass: SIGHUP with the same
# configuration reconciles every service from scratch, as a tick does.
before=$(state_writes)
mark=$(log_mark)
t0=$(now_ms)
kill -HUP "$daemon_pid"
ok "SIGHUP re-reads the configuration" \
	wait_log "$mark" "configuration re-read: $services services, $services endpoints" 60
ok "and every service settles again" wait_for 120 all_known
took=$(($(now_ms) - t0))
n=$(($(state_writes) - before))
diag "the pass after SIGHUP took $(ms_to_s "$took") s and wrote the state file $n times"
ok "that pass too wrote the state file at most once per 2 s of the pass" \
	test "$n" -le "$(bound "$took")" -a "$n" -lt $((services / 4))

# A renewal of one service: its verdict before the reload and after it are
# two writes at least (the reload lies between them), each of a service's
# and an endpoint's record.  One of them may write the file whole (when
# what was appended has grown as large as the file), not every one.
renames=$(state_renames)
appends=$(state_appends)
mark=$(log_mark)
disk_renew rename "$(web_live lone.test)" "$TEST_TMP/l1" || bail_out "cannot renew lone.test"
ok "the renewal of one service is verified" \
	wait_log "$mark" "^[0-9]+ certwatch: lone: reload verified" 60
ok "and the state file says so" wait_for 20 status_all_ok "$conf"
renames=$(($(state_renames) - renames))
appends=$(($(state_appends) - appends))
diag "the renewal renamed a new state file into place $renames times and appended to it $appends times"
ok "the renewal appended its records to the state file, not all $services services' again" \
	test "$appends" -ge 1 -a "$renames" -le 1
fp=$(printf '%s' "$cw_out" | "$PYTHON" -c '
import json, sys
for e in json.load(sys.stdin)["endpoints"]:
    if e["service"] == "lone":
        print(e["served_sha256"])')
ok "certwatch status reads the appended record: lone serves the renewed certificate" \
	test -n "$fp" -a "$fp" = "$(leaf_fp l1)"

daemon_stop_ok
daemon_log_clean
done_testing
