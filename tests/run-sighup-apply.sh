#!/bin/sh
# SIGHUP is transactional.  A configuration that parses, and that
# --test-config accepts, but that cannot be applied leaves the running
# setup untouched, and the log says why: the service of `run --service`
# renamed, then removed; a state directory that cannot be made; a state
# directory too long for the control socket.  After each, the daemon keeps
# guarding: a renewal is reloaded and verified, `certwatch status` answers.
. "$TESTS_SRCDIR/lib.sh"

server_test 31 nginx openssl

ca_leaves 60 a.test a0 a1 a2 a3 a4
web_fixture rename a.test=a0
live=$(web_live a.test)
port=$(web_port a.test)

conf="$TEST_TMP/etc/certwatch.conf"
global=$(daemon_conf)
service_a=$(web_service a a.test "reload-command = $(nginx_reload_argv)")
printf '%s\n%s\n' "$global" "$service_a" | write_conf "$conf"
# What `certwatch status` reads to find the running daemon's state: the
# configuration it runs with, whatever the refused one says.
running="$TEST_TMP/running/certwatch.conf"
printf '%s\n%s\n' "$global" "$service_a" | write_conf "$running"

daemon_start "$conf" --service a
ok "certwatch run --service a starts and settles" wait_for 30 status_all_ok "$conf" --service a

# apply_fails WHAT REGEX RENEWAL: SIGHUP with the configuration just written
# is refused with REGEX in the log; the daemon runs on and RENEWAL is still
# reloaded and verified.
apply_fails() {
	ok "$1: --test-config accepts the new configuration" \
		"$CERTWATCH" --config "$conf" --test-config
	mark=$(log_mark)
	kill -HUP "$daemon_pid"
	ok "$1: SIGHUP keeps the running setup and says why" \
		wait_log "$mark" "SIGHUP: cannot apply the new configuration, keeping the running one: $2" 20 ||
		diag "$(log_since "$mark")"
	ok "$1: the daemon is still running" kill -0 "$daemon_pid"
	mark=$(log_mark)
	disk_renew rename "$live" "$TEST_TMP/$3"
	ok "$1: a renewal is still reloaded and verified" wait_log "$mark" "a: reload verified" 20 ||
		diag "$(log_since "$mark")"
	is "$(served_fp 127.0.0.1 "$port" - a.test)" "$(leaf_fp "$3")" \
		"$1: nginx serves the renewal (openssl s_client)"
	ok "$1: certwatch status --service a still answers, all OK" \
		wait_for 10 status_all_ok "$running" --service a
}

# ---- the guarded service renamed, then gone ------------------------------------------

printf '%s\n%s\n' "$global" "$(web_service a2 a.test "reload-command = $(nginx_reload_argv)")" |
	write_conf "$conf"
apply_fails "service a renamed to a2" 'no service "a" in the configuration' a1

printf '%s\n' "$global" | write_conf "$conf"
apply_fails "service a removed" 'no service "a" in the configuration' a2

# ---- a state directory that cannot be made -----------------------------------------

: >"$TEST_TMP/a-file"
printf 'interval = "1h"\nsettle = "1s"\nstate-dir = "%s"\n%s\n' "$TEST_TMP/a-file/state" \
	"$service_a" | write_conf "$conf"
apply_fails "state-dir under a regular file" "cannot create the state directory $TEST_TMP/a-file/state: Not a directory" a3

# ---- a state directory too long for the control socket ------------------------------

long="$TEST_TMP/$(printf '%0100d' 0)"
mkdir -p "$long"
printf 'interval = "1h"\nsettle = "1s"\nstate-dir = "%s"\n%s\n' "$long" "$service_a" |
	write_conf "$conf"
apply_fails "state-dir too long for a socket" "cannot listen on $long/a/control" a4

daemon_stop_ok
daemon_log_clean
done_testing
