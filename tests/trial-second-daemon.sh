#!/bin/sh
# Found in a trial: a second `certwatch run` on the same configuration (an
# administrator running it in the foreground to debug while the unit runs)
# is not refused: it unlinks the running daemon's control socket at start,
# binds its own, and removes that at exit.  From then on the first daemon,
# still running and guarding, has no control socket: `certwatch sync` (the
# deploy hook) exits 3 "no daemon is running" and `certwatch status` says
# "certwatch is NOT running" until the first daemon is restarted.
# Expected: the second daemon refuses to start (the state directory is in
# use by pid N), and the first keeps answering.
. "$TESTS_SRCDIR/lib.sh"

server_test 71 nginx openssl

ca_leaves 60 web.test w0 w1
web_fixture certbot web.test=w0

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	web_service web web.test "reload-command = $(nginx_reload_argv)"
} | write_conf "$conf"

daemon_start "$conf"
ok "the daemon settles" wait_for 30 status_all_ok "$conf"
first=$daemon_pid

# The second one, for three seconds.
timeout -s TERM 3 "$CERTWATCH" --config "$conf" run >"$TEST_TMP/second.log" 2>&1 </dev/null
second_rc=$?
diag "the second daemon: exit $second_rc: $(cat "$TEST_TMP/second.log")"
isnt "$second_rc" 124 "a second daemon on the same state directory refuses to start"

ok "the first daemon still runs" kill -0 "$first"
ok "its control socket is still there" test -S "$TEST_TMP/state/control"

cw --config "$conf" sync web
is "$cw_rc" 0 "sync still reaches the running daemon: exit 0"
diag "stderr: $cw_err"

cw --config "$conf" status
unlike "$cw_out" "NOT running" "status does not say the running daemon is not running"

done_testing
