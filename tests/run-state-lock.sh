#!/bin/sh
# One daemon per state directory.  A second `certwatch run` on the same
# state directory (an administrator debugging in the foreground while the
# unit runs) refuses to start, naming the directory and the running pid,
# and leaves the first daemon's control socket alone: sync and status
# still reach it.  A SIGHUP keeps the lock and the socket (the new
# configuration is built beside the running one); a daemon killed leaves
# no lock behind; a socket another process listens on is never taken.
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

# second_run DESCRIPTION: a second daemon, at most 20 s; it must end with 1.
second_run() {
	timeout -s TERM 20 "$CERTWATCH" --config "$conf" run >"$TEST_TMP/second.log" 2>&1 </dev/null
	is "$?" 1 "$1: a second daemon on the same state directory refuses to start (exit 1)"
}

second_run "at start"
like "$(cat "$TEST_TMP/second.log")" \
	"the state directory $TEST_TMP/state is in use by certwatch \\(pid $first\\); stop it first, or run with another state-dir or -s NAME" \
	"it names the directory, the running pid and what to do"
ok "the first daemon still runs" kill -0 "$first"
ok "its control socket is still there" test -S "$TEST_TMP/state/control"

cw --config "$conf" sync web
is "$cw_rc" 0 "sync still reaches the running daemon: exit 0"
cw --config "$conf" status
unlike "$cw_out" "NOT running" "status does not say the running daemon is not running"

# SIGHUP: the new setup takes the same directory; the lock must not refuse it.
mark=$(log_mark)
kill -HUP "$first"
ok "SIGHUP: the configuration is re-read, the lock kept" \
	wait_log "$mark" "configuration re-read: 1 services" 20 || diag "$(log_since "$mark")"
is "$(log_count "$mark" "cannot apply")" 0 "and not refused"
disk_renew certbot "$(web_live web.test)" "$TEST_TMP/w1"
cw --config "$conf" sync web
is "$cw_rc" 0 "after the SIGHUP, sync reaches the daemon on its socket: exit 0"
is "$(served_fp 127.0.0.1 "$(web_port web.test)" - web.test)" "$(leaf_fp w1)" \
	"and the renewal is served"
second_run "after a SIGHUP"

# Killed: the kernel drops the lock; the socket left behind is stale.
kill -KILL "$first"
wait_exit "$first" 100
ok "a daemon killed leaves its socket behind" test -S "$TEST_TMP/state/control"
mark=$(log_mark)
daemon_start "$conf"
ok "a new daemon starts after one was killed (no stale lock)" \
	wait_log "$mark" "guarding 1 services" 20 || diag "$(log_since "$mark")"
cw --config "$conf" sync web
is "$cw_rc" 0 "and answers on the socket it replaced"
daemon_stop_ok

# A socket another process listens on (no lock of certwatch's) is not taken.
start_bg listener "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(4)
open(sys.argv[2], "w").close()
while True:
    s.accept()[0].close()
' "$TEST_TMP/state/control" "$TEST_TMP/listener.ready"
wait_for 10 test -e "$TEST_TMP/listener.ready" || bail_out "the other listener does not listen"
ino=$(stat -c %i "$TEST_TMP/state/control")
second_run "beside another listener"
like "$(cat "$TEST_TMP/second.log")" "cannot listen on $TEST_TMP/state/control: another process listens there" \
	"it says another process listens there"
is "$(stat -c %i "$TEST_TMP/state/control")" "$ino" "and leaves that socket in place"

daemon_log_clean
done_testing
