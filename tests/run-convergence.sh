#!/bin/sh
# The level-triggered rule (doc/design.md) across restarts: a certificate renewed
# while the daemon is stopped is reloaded and verified shortly after it
# starts; a daemon killed with SIGKILL between a reload and its
# verification, started again, ends verified after at most one further
# reload.  The reload command is a script that counts its runs, reloads
# nginx, and (when told to) then sleeps 5 s so that the kill lands between
# the reload and the verification.
. "$TESTS_SRCDIR/lib.sh"

server_test 10 nginx openssl

ca_leaves 60 web.test c0 c1 c2
web_fixture certbot web.test=c0
live=$(web_live web.test)
port=$(web_port web.test)

slow="$TEST_TMP/slow-reload"
runs="$TEST_TMP/reload-runs"
: >"$runs"
cat >"$TEST_TMP/reload" <<SCRIPT
#!/bin/sh
echo reload >>"$runs"
$(command -v nginx) -p "$NGINX_DIR/" -e "$NGINX_DIR/logs/error.log" -c "$NGINX_CONF" -s reload || exit 1
[ -e "$slow" ] && sleep 5
exit 0
SCRIPT
chmod 0755 "$TEST_TMP/reload"
runs_count() {
	wc -l <"$runs" | tr -d ' '
}
# shellcheck disable=SC2317 # called through wait_for
runs_reach() {
	[ "$(runs_count)" -ge "$1" ]
}

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	web_service web web.test "reload-command = {\"$TEST_TMP/reload\"}"
} | write_conf "$conf"

daemon_start "$conf"
ok "the daemon starts and settles with the endpoint OK" wait_for 30 status_all_ok "$conf"
daemon_stop_ok

# ---- renewed while the daemon is stopped -------------------------------------------------

disk_renew certbot "$live" "$TEST_TMP/c1"
mark=$(log_mark)
t_start=$(now_ms)
daemon_start "$conf"
if ok "renewed while stopped: the reload is verified after the start" \
	wait_log "$mark" "web: reload verified" 20; then
	diag "verified $(ms_to_s $((log_ms - t_start))) s after the daemon started"
else
	diag "$(log_since "$mark")"
fi
like "$(log_since "$mark" | grep 'certificate on disk changed')" \
	"changed from $(leaf_fp c0 | cut -c1-12) to $(leaf_fp c1 | cut -c1-12)" \
	"the change made while stopped is logged at start, from the last state"
is "$(runs_count)" 1 "one reload for the renewal made while stopped"
is "$(served_fp 127.0.0.1 "$port" - web.test)" "$(leaf_fp c1)" "nginx serves the renewed certificate (openssl s_client)"

# ---- SIGKILL between the reload and its verification ----------------------------------------

touch "$slow"
mark=$(log_mark)
disk_renew certbot "$live" "$TEST_TMP/c2"
ok "the daemon starts a reload for the next renewal" wait_log "$mark" "web: the pair on disk is valid; reloading to serve" 20 ||
	diag "$(log_since "$mark")"
ok "the reload command has reloaded nginx" wait_for 5 runs_reach 2
kill -KILL "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
is "$(log_count "$mark" 'web: reload verified')" 0 "the daemon was killed before it verified"
cw status --config "$conf" --json
is "$(json_service "$cw_out" web phase)" reloading "the state file of the killed daemon says reloading"
rm -f "$slow"

mark=$(log_mark)
daemon_start "$conf"
ok "started again, the daemon settles with the endpoint OK" wait_for 20 status_all_ok "$conf" ||
	diag "$(log_since "$mark")"
n=$(runs_count)
diag "reload command runs after the restart: $((n - 2))"
ok "at most one further reload after the restart" test "$n" -le 3
is "$(json_endpoint "$cw_out" web https served_sha256)" "$(leaf_fp c2)" "status: the renewed certificate is served"
isnt "$(json_service "$cw_out" web last_verified)" null "status: the service has a last verification"
is "$(served_fp 127.0.0.1 "$port" - web.test)" "$(leaf_fp c2)" "nginx serves the renewed certificate (openssl s_client)"
cw status --config "$conf"
is "$cw_rc" 0 "certwatch status exits 0"

daemon_stop_ok
daemon_log_clean
done_testing
