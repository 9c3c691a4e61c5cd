#!/bin/sh
# The daemon's own files, as an attacker or an unlucky administrator
# leaves them: a state directory or state file that someone else owns or
# may write (a planted paused=1 would stop every reload) is refused at
# start, on SIGHUP, by status and by resume, naming the path and the fix;
# a read-only or forbidden state directory is named with what to do; a
# control socket left by an earlier run is replaced, and removed at exit;
# a service name that climbs out of the state directory makes nothing;
# and a FIFO dropped into conf.d does not freeze the running daemon on
# SIGHUP.
. "$TESTS_SRCDIR/lib.sh"

require_root
require_certwatch_check
port_range 37

etc="$TEST_TMP/etc"
conf="$etc/certwatch.conf"
port=$(free_port)   # nobody listens: the service is unreachable, which is fine here

# write_global STATE-DIR: the configuration, with that state directory.
write_global() {
	write_conf "$conf" <<EOF
interval = "1h"
settle = "1s"
state-dir = "$1"
service web {
	cert = "$TEST_TMP/none.pem"
	key = "$TEST_TMP/none.key"
	address = "127.0.0.1"
	endpoint https { port = $port }
}
EOF
}

# start_fails DESCRIPTION REGEX: the daemon, started, ends with status 1 and
# a line matching REGEX.
start_fails() {
	mark=$(log_mark)
	daemon_start "$conf"
	if wait_exit "$daemon_pid" 200; then
		wait "$daemon_pid" 2>/dev/null
		is "$?" 1 "$1: the daemon does not start (exit 1)"
	else
		ok "$1: the daemon does not start" false
		daemon_stop
	fi
	# The daemon has ended: its last lines may still be on their way to the log.
	ok "$1: it says which path is wrong and the fix" wait_for 5 log_has "$mark" "$2" ||
		diag "$(log_since "$mark")"
}

log_has() {
	[ "$(log_count "$1" "$2")" -gt 0 ]
}

# ---- a state directory or state file someone else could write ----------------

state="$TEST_TMP/foreign"
mkdir -m 0700 "$state" && chown nobody "$state"
write_global "$state"
start_fails "a state directory owned by nobody" \
	"cannot start: state directory $state is owned by uid 65534, not root; whoever may write there can stop certwatch's reloads .*: run \"chown root $state\""

chown root "$state" && chmod 0770 "$state"
start_fails "a state directory writable by its group" \
	"state directory $state is writable by its group \\(mode 0770\\); .*: run \"chmod g-w $state\""

chmod 0700 "$state"
printf 'certwatch-state 1\nservice name=web paused=1 failures=3\n' >"$state/state"
chown nobody "$state/state"
start_fails "a state file of nobody's with a planted pause" \
	"state file $state/state is owned by uid 65534, not root"
cw --config "$conf" status
is "$cw_rc" 3 "certwatch status does not believe that state file (UNKNOWN)"
like "$cw_err" "state file $state/state is owned by uid 65534, not root" "and says why"
cw --config "$conf" resume web
is "$cw_rc" 1 "certwatch resume refuses it too"
like "$cw_err" "state file $state/state is owned by uid 65534" "and says why"
rm -f "$state/state"

# A state directory someone else owns, with a forged state file and a forged
# control socket that answers every sync "ok": the deploy hook must not say OK.
forged="$TEST_TMP/forged"
mkdir -m 0700 "$forged"
printf 'certwatch-state 1\nservice name=web phase=idle\n' >"$forged/state"
start_bg forged "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1] + "/control")
s.listen(4)
open(sys.argv[2], "w").close()
while True:
    c, _ = s.accept()
    c.recv(4096)
    c.sendall(b"ok: synced\n")
    c.close()
' "$forged" "$TEST_TMP/forged.ready"
wait_for 10 test -e "$TEST_TMP/forged.ready" || bail_out "the forged control socket does not listen"
chown nobody "$forged"   # its files stay root's: the directory alone lets nobody replace them
write_global "$forged"
cw --config "$conf" sync
is "$cw_rc" 3 "certwatch sync does not believe a forged state directory and socket (UNKNOWN)"
like "$cw_err" "state directory $forged is owned by uid 65534, not root" "and says why, as status does"
cw --config "$conf" status
like "$cw_err" "state directory $forged is owned by uid 65534, not root" "(status's message)"

parent="$TEST_TMP/shared"
mkdir -m 0777 "$parent" && chmod 0777 "$parent"
write_global "$parent/state"
start_fails "a state directory inside a directory anyone may write to" \
	"state directory $parent/state is in the directory $parent, writable by group and others \\(mode 0777\\)"

# ---- SIGHUP to a foreign state directory; a FIFO in conf.d ----------------------

write_global "$TEST_TMP/state"
mark=$(log_mark)
daemon_start "$conf"
ok "with a state directory of its own the daemon starts" wait_log "$mark" "guarding 1 services" 20 ||
	diag "$(log_since "$mark")"
ok "its control socket is there" test -S "$TEST_TMP/state/control"

write_global "$state"
chmod 0775 "$state"
mark=$(log_mark)
kill -HUP "$daemon_pid"
ok "SIGHUP to a group-writable state directory keeps the running configuration, naming it" \
	wait_log "$mark" "SIGHUP: cannot apply the new configuration, keeping the running one: state directory $state is writable by its group" 20 ||
	diag "$(log_since "$mark")"

write_global "$TEST_TMP/state"
mkfifo "$etc/conf.d/x.conf"
mark=$(log_mark)
kill -HUP "$daemon_pid"
ok "SIGHUP with a FIFO named x.conf in conf.d: refused at once, not waited on" \
	wait_log "$mark" "SIGHUP: .* is not valid, keeping the running configuration: .*conf.d/x.conf: is a FIFO" 10 ||
	diag "$(log_since "$mark")"
t0=$(now_ms)
daemon_stop
is "$daemon_rc" 0 "the daemon, not frozen, stops on SIGTERM with status 0 ($(($(now_ms) - t0)) ms)"
rm -f "$etc/conf.d/x.conf"
ok "the control socket is removed at exit" test ! -e "$TEST_TMP/state/control"

# ---- a control socket left behind -------------------------------------------------

"$PYTHON" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
	"$TEST_TMP/state/control" || bail_out "cannot leave a socket behind"
mark=$(log_mark)
daemon_start "$conf"
ok "a control socket left by an earlier run does not stop the start" \
	wait_log "$mark" "guarding 1 services" 20 || diag "$(log_since "$mark")"
cw --config "$conf" resume web
like "$cw_out" "^ok: web was not paused" "the daemon answers on the replaced socket"
daemon_stop_ok
ok "and removes it at exit" test ! -e "$TEST_TMP/state/control"

# ---- a state directory certwatch cannot make or write ---------------------------

ro="$TEST_TMP/ro"
mkdir -p "$ro/existing"
write_global "$ro/state"
mark=$(log_mark)
# A read-only file system of the test's own: a private mount namespace.
unshare --mount --propagation private sh -c \
	'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' \
	sh "$ro" "$CERTWATCH" --config "$conf" run >"$TEST_TMP/ro.log" 2>&1
is "$?" 1 "a state directory to make on a read-only file system: the daemon does not start"
like "$(cat "$TEST_TMP/ro.log")" "cannot create the state directory $ro/state: Read-only file system; it is on a read-only file system: make it where certwatch may write, or set state-dir" \
	"it names the directory and what to do"
write_global "$ro/existing"
unshare --mount --propagation private sh -c \
	'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' \
	sh "$ro" "$CERTWATCH" --config "$conf" run >"$TEST_TMP/ro.log" 2>&1
is "$?" 1 "an existing state directory on a read-only file system: the daemon does not start"
like "$(cat "$TEST_TMP/ro.log")" "$ro/existing.*Read-only file system" "it names the directory"
unlike "$(cat "$TEST_TMP/ro.log")" "cannot start: Read-only file system" "not the bare error"

# As a user who may not write the parent: EACCES.
if command -v setpriv >/dev/null 2>&1; then
	uetc="$TEST_TMP/uetc"
	mkdir -m 0755 "$TEST_TMP/rootonly"
	conf_u="$uetc/certwatch.conf"
	write_global "$TEST_TMP/rootonly/state"
	mkdir -m 0700 -p "$uetc/conf.d" && cp "$conf" "$conf_u" && chown -R nobody "$uetc"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$CERTWATCH" --config "$conf_u" run \
		>"$TEST_TMP/acc.log" 2>&1
	is "$?" 1 "a state directory the user may not make: the daemon does not start"
	like "$(cat "$TEST_TMP/acc.log")" "cannot create the state directory $TEST_TMP/rootonly/state: Permission denied; certwatch may not write to its parent: run certwatch as root, or make it \\(mode 0700\\) for the user running certwatch" \
		"it names the directory and what to do"
else
	skip "setpriv is not installed"
	skip "setpriv is not installed"
fi

# ---- a service name that climbs out of the state directory -----------------------

write_global "$TEST_TMP/deep/state"
cw --config "$conf" run -s ../../x
is "$cw_rc" 1 "run -s ../../x does not start"
like "$cw_err" '"\.\./\.\./x"' "and names the service it refused"
ok "nothing was made outside the state directory" test ! -e "$TEST_TMP/x"
ok "nor the state directory itself" test ! -e "$TEST_TMP/deep"

daemon_log_clean
done_testing
