#!/bin/sh
# The wall clock moved under a running daemon.  Back-off after a failed
# reload and the retries and deadline of a verification run on
# CLOCK_BOOTTIME, so setting the clock back two hours during a 30 s
# back-off, or forward two hours during a verification, changes neither.
# Only the daemon's own wall clock is moved, by tests/fakeclock.so in its
# LD_PRELOAD (its other clocks and its timers are the kernel's); nothing
# kernel-wide.
. "$TESTS_SRCDIR/lib.sh"

server_test 30 nginx openssl
fakeclock="$TESTS_BUILDDIR/fakeclock.so"
[ -f "$fakeclock" ] || bail_out "$fakeclock is not built (make check builds it)"

# Valid since yesterday: the moved clocks stay inside their lifetime.
CA_NOT_BEFORE=-86400 ca_leaves 60 web.test c0 c1 c2
web_fixture rename web.test=c0
live=$(web_live web.test)
port=$(web_port web.test)

# The daemon's wall clock: an offset in this file, re-read at every call.
clock="$TEST_TMP/clock"
echo 0 >"$clock"
# (ASan wants its runtime first among the preloads; the seam needs none.)
cat >"$TEST_TMP/faked" <<SCRIPT
#!/bin/sh
LD_PRELOAD="$fakeclock" FAKECLOCK_FILE="$clock" \
ASAN_OPTIONS="\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}verify_asan_link_order=0" exec "\$@"
SCRIPT
chmod 0755 "$TEST_TMP/faked"
DAEMON_EXEC_PREFIX="$TEST_TMP/faked"

# The reload: fails until the flag exists; with "late" it reloads nginx
# three seconds after it returns, as a slow server would.
flag="$TEST_TMP/reload-works"
runs="$TEST_TMP/reload-runs"
: >"$runs"
cat >"$TEST_TMP/reload" <<SCRIPT
#!/bin/sh
echo run >>"$runs"
[ -e "$flag" ] || { echo "the test says no" >&2; exit 1; }
reload() { $(command -v nginx) -p "$NGINX_DIR/" -e "$NGINX_DIR/logs/error.log" -c "$NGINX_CONF" -s reload; }
if [ -e "$flag.late" ]; then
	(sleep 3; reload) >/dev/null 2>&1 </dev/null &
	exit 0
fi
reload
SCRIPT
chmod 0755 "$TEST_TMP/reload"
runs_count() {
	wc -l <"$runs" | tr -d ' '
}

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	web_service web web.test "reload-command = {\"$TEST_TMP/reload\"}" 'max-failures = 3'
} | write_conf "$conf"

daemon_start "$conf"
ok "the daemon starts and settles with the endpoint OK" wait_for 30 status_all_ok "$conf"

# ---- back-off: the clock set back two hours ------------------------------------

mark=$(log_mark)
disk_renew rename "$live" "$TEST_TMP/c1"
ok "a failed reload backs off" \
	wait_log "$mark" "web: reload failed \\(failures in a row: 1\\)" 20 ||
	diag "$(log_since "$mark")"
t_fail=$(now_ms)
echo -7200 >"$clock"
touch "$flag"
if ok "with the clock set back two hours, the retry comes after the back-off, verified" \
	wait_log "$mark" "web: reload verified" 60; then
	diag "retried and verified $(ms_to_s $((log_ms - t_fail))) s after the failure (back-off 30 s)"
else
	diag "$(log_since "$mark")"
fi
is "$(runs_count)" 2 "the reload ran twice: the failure and the retry"
is "$(served_fp 127.0.0.1 "$port" - web.test)" "$(leaf_fp c1)" "nginx serves the renewal (openssl s_client)"

# ---- verification: the clock set forward two hours ------------------------------

mark=$(log_mark)
touch "$flag.late"
disk_renew rename "$live" "$TEST_TMP/c2"
ok "the next renewal starts a reload" wait_log "$mark" "web: the pair on disk is valid; reloading" 20
echo 7200 >"$clock"
ok "with the clock set forward two hours, the verification waits for the late reload" \
	wait_log "$mark" "web: reload verified" 60 || diag "$(log_since "$mark")"
is "$(log_count "$mark" 'reload failed')" 0 "no reload failed for the jump of the clock"
is "$(served_fp 127.0.0.1 "$port" - web.test)" "$(leaf_fp c2)" "nginx serves the renewal (openssl s_client)"

daemon_stop_ok
daemon_log_clean
done_testing
