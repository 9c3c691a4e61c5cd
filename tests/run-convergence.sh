#!/bin/sh
# SPEC.md's level-triggered rule across restarts: a certificate renewed
# while the daemon is stopped is reloaded and verified shortly after it
# starts; a daemon killed with SIGKILL between a reload and its
# verification, started again, ends verified after at most one further
# reload.  The reload command is a script that counts its runs, reloads
# nginx, and (when told to) then sleeps 5 s so that the kill lands between
# the reload and the verification.
. "$TESTS_SRCDIR/lib.sh"

require_root
require_cmd nginx openssl
require_certwatch_check
port_range 10

ca_init || bail_out "cannot make the test CA"
for c in c0 c1 c2; do
	ca_leaf "$TEST_TMP/$c" 60 web.test || bail_out "cannot make a certificate"
done
fp() {
	cert_fp "$TEST_TMP/$1.crt"
}
live="$TEST_TMP/letsencrypt/live/web.test"
disk_install certbot "$live" "$TEST_TMP/c0" || bail_out "cannot lay out the files"

port=$(free_port)
nginx_start "$port" <<NGINX || bail_out "nginx did not start"
	server {
		listen 127.0.0.1:$port ssl;
		server_name web.test;
		ssl_certificate $live/fullchain.pem;
		ssl_certificate_key $live/privkey.pem;
	}
NGINX

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
runs_reach() {
	[ "$(runs_count)" -ge "$1" ]
}

conf="$TEST_TMP/etc/certwatch.conf"
write_conf "$conf" <<CONF
interval = "1h"
settle = "1s"
state-dir = "$TEST_TMP/state"
service web {
	cert = "$live/fullchain.pem"
	key = "$live/privkey.pem"
	name = "web.test"
	address = "127.0.0.1"
	reload-command = {"$TEST_TMP/reload"}
	endpoint https { port = $port }
}
CONF

daemon_start "$conf"
ok "the daemon starts and settles with the endpoint OK" wait_for 30 status_all_ok "$conf"
daemon_stop
is "$daemon_rc" 0 "the daemon stops on SIGTERM with status 0"

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
	"changed from $(fp c0 | cut -c1-12) to $(fp c1 | cut -c1-12)" \
	"the change made while stopped is logged at start, from the last state"
is "$(runs_count)" 1 "one reload for the renewal made while stopped"
is "$(served_fp 127.0.0.1 "$port" - web.test)" "$(fp c1)" "nginx serves the renewed certificate (openssl s_client)"

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
is "$(json_endpoint "$cw_out" web https served_sha256)" "$(fp c2)" "status: the renewed certificate is served"
isnt "$(json_service "$cw_out" web last_verified)" null "status: the service has a last verification"
is "$(served_fp 127.0.0.1 "$port" - web.test)" "$(fp c2)" "nginx serves the renewed certificate (openssl s_client)"
cw status --config "$conf"
is "$cw_rc" 0 "certwatch status exits 0"

daemon_stop
is "$daemon_rc" 0 "the daemon stops on SIGTERM with status 0"
daemon_log_clean
done_testing
