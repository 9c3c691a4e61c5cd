#!/bin/sh
# certwatch sync, the ACME client's deploy hook: right after a renewal it
# asks the running daemon to look now and returns once the service is
# verified (exit 0, the new certificate served), failed (exit 1 or 2, with
# what happened), or says there is no daemon (exit 3).
. "$TESTS_SRCDIR/lib.sh"

server_test 34 nginx openssl

ca_leaves 60 web.test w0 w1 w2
ca_leaves 60 bad.test v0 v1
web_fixture --one-port certbot web.test=w0 bad.test=v0
live=$(web_live web.test)
live_bad=$(web_live bad.test)
port=$(web_port web.test)

conf="$TEST_TMP/etc/certwatch.conf"
{
	# settle as long as a deploy hook would never wait: sync must not
	printf 'interval = "1h"\nsettle = "30s"\nstate-dir = "%s"\n' "$TEST_TMP/state"
	web_service web web.test "reload-command = $(nginx_reload_argv)"
	web_service bad bad.test 'reload-command = {"/bin/false"}'
} | write_conf "$conf"

daemon_start "$conf"
ok "the daemon starts and settles" wait_for 30 status_all_ok "$conf"

# ---- a renewal, then the deploy hook ----------------------------------------------------

disk_renew certbot "$live" "$TEST_TMP/w1"
t0=$(now_ms)
cw --config "$conf" sync web
t1=$(now_ms)
is "$cw_rc" 0 "sync web right after the renewal: exit 0"
diag "sync returned $(ms_to_s $((t1 - t0))) s after the renewal (settle is 30 s)"
ok "sync returned well before settle would have let the daemon look" test $((t1 - t0)) -lt 20000
is "$(served_fp 127.0.0.1 "$port" - web.test)" "$(leaf_fp w1)" \
	"when sync returns, nginx serves the renewal (openssl s_client)"
like "$cw_out" "web: idle" "sync says the service is at rest"
like "$cw_out" "https OK: served certificate is the one on disk" "and that the endpoint is OK"

cw --config "$conf" sync
is "$cw_rc" 0 "sync of every service with nothing to do: exit 0"

# ---- a reload that fails -----------------------------------------------------------------

disk_renew certbot "$live_bad" "$TEST_TMP/v1"
cw --config "$conf" sync bad
is "$cw_rc" 1 "sync of a service whose reload fails: exit 1 (the renewal is not served)"
like "$cw_out" "bad: backoff; last reload: reload: exit-failure" "and says the reload failed"
like "$cw_out" "STALE" "and that the endpoint is STALE"

# ---- mistakes ---------------------------------------------------------------------------

cw --config "$conf" sync nosuch
is "$cw_rc" 3 "sync of a service that is not guarded: exit 3"
like "$cw_err" 'no service "nosuch" is guarded' "and says so"

cw --config "$conf" sync --wait 1x web
is "$cw_rc" 3 "a --wait that is not a duration: exit 3"

daemon_stop_ok
cw --config "$conf" sync web
is "$cw_rc" 3 "sync without a running daemon: exit 3"
like "$cw_err" "no daemon is running" "and says there is no daemon"

daemon_log_clean
done_testing
