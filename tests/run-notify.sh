#!/bin/sh
# The systemd notification protocol, without systemd: the test listens on
# NOTIFY_SOCKET (an AF_UNIX datagram socket in its directory) and sees
# READY=1 and a STATUS= summary after start, RELOADING=1 then READY=1
# around a SIGHUP, STOPPING=1 on SIGTERM, and, with WATCHDOG_USEC=2 s and
# WATCHDOG_PID naming the daemon, WATCHDOG=1 at least twice in 3 s.
. "$TESTS_SRCDIR/lib.sh"

server_test 20 nginx openssl

ca_leaves 60 web.test a
web_fixture rename web.test=a

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	web_service web web.test "reload-command = $(nginx_reload_argv)"
} | write_conf "$conf"

# Every datagram on one line of $msgs, its newlines written as " | ".
sock="$TEST_TMP/notify.sock"
msgs="$TEST_TMP/notify.msgs"
: >"$msgs"
start_bg notify "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[1] + ".ready", "w").close()
with open(sys.argv[2], "a") as out:
    while True:
        m = s.recv(65536).decode("utf-8", "replace")
        out.write(m.strip("\n").replace("\n", " | ") + "\n")
        out.flush()
' "$sock" "$msgs"
wait_for 10 test -e "$sock.ready" || bail_out "the notification socket did not start"

# WATCHDOG_PID must be the daemon's own pid: the wrapper execs it.
cat >"$TEST_TMP/with-notify" <<SCRIPT
#!/bin/sh
NOTIFY_SOCKET=$sock WATCHDOG_USEC=2000000 WATCHDOG_PID=\$\$
export NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID
exec "\$@"
SCRIPT
chmod 0755 "$TEST_TMP/with-notify"

msgs_mark() {
	wc -l <"$msgs" | tr -d ' '
}
# msgs_since FROM: the datagrams after line FROM.
msgs_since() {
	tail -n "+$(($1 + 1))" "$msgs"
}
# msg_seen FROM REGEX: a datagram after FROM matches.
# shellcheck disable=SC2317 # called through wait_for
msg_seen() {
	msgs_since "$1" | grep -Eq -- "$2"
}
# shellcheck disable=SC2317 # called through wait_for
watchdogs_since() {
	msgs_since "$1" | grep -c 'WATCHDOG=1'
}
# shellcheck disable=SC2317 # called through wait_for
at_least_two_watchdogs() {
	[ "$(watchdogs_since "$1")" -ge 2 ]
}

DAEMON_EXEC_PREFIX="$TEST_TMP/with-notify"
daemon_start "$conf"
ok "READY=1 after start" wait_for 15 msg_seen 0 '(^| )READY=1' || diag "$(cat "$msgs")"
ok "STATUS= sums up the endpoints: 1 endpoints: 1 ok" \
	wait_for 15 msg_seen 0 'STATUS=1 endpoints: 1 ok' || diag "$(cat "$msgs")"
m=$(msgs_mark)
ok "WATCHDOG=1 at least twice within 3 s (WATCHDOG_USEC = 2 s)" \
	wait_for 3 at_least_two_watchdogs "$m" || diag "$(msgs_since "$m")"

m=$(msgs_mark)
kill -HUP "$daemon_pid"
ok "SIGHUP: RELOADING=1" wait_for 10 msg_seen "$m" 'RELOADING=1' || diag "$(msgs_since "$m")"
r=$(msgs_since "$m" | grep -n 'RELOADING=1' | head -n 1 | cut -d: -f1)
ok "SIGHUP: READY=1 after RELOADING=1" wait_for 10 msg_seen $((m + r)) '(^| )READY=1' ||
	diag "$(msgs_since "$m")"

m=$(msgs_mark)
daemon_stop_ok
ok "SIGTERM: STOPPING=1" msg_seen "$m" 'STOPPING=1' || diag "$(msgs_since "$m")"
unlike "$(msgs_since "$m" | grep -v -e 'STOPPING=1' -e 'STATUS=' -e 'WATCHDOG=1')" . \
	"after STOPPING=1 nothing but STATUS= and WATCHDOG=1"

daemon_log_clean
done_testing
