#!/bin/sh
# certwatch sync with no service named (the deploy hook of certwatch(8))
# when no daemon guards every service but a certwatch@NAME instance
# (`certwatch run -s NAME`) guards each: every service is asked of its
# instance, and the exit is 0 once each is verified; when one instance
# stops, sync exits 3 naming that service only.  status without -s says
# which instances run and points at `status -s NAME`.
. "$TESTS_SRCDIR/lib.sh"

server_test 70 nginx openssl

ca_leaves 60 web.test w0 w1
ca_leaves 60 api.test a0 a1
web_fixture certbot web.test=w0 api.test=a0

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	web_service web web.test "reload-command = $(nginx_reload_argv)"
	web_service api api.test "reload-command = $(nginx_reload_argv)"
} | write_conf "$conf"

# One instance per service, as certwatch@web and certwatch@api run them.
daemon_start "$conf" -s web
ok "the web instance settles" wait_for 30 status_all_ok "$conf" -s web
daemon_start "$conf" -s api
api_pid=$daemon_pid
ok "the api instance settles" wait_for 30 status_all_ok "$conf" -s api

disk_renew certbot "$(web_live web.test)" "$TEST_TMP/w1"
disk_renew certbot "$(web_live api.test)" "$TEST_TMP/a1"

cw --config "$conf" sync web api
is "$cw_rc" 0 "sync web api (both named): exit 0"

cw --config "$conf" sync
is "$cw_rc" 0 "sync with no service named, every service guarded by its instance: exit 0"
unlike "$cw_err" "no daemon" "and it does not say that no daemon runs or guards"
like "$cw_out" "web: idle" "it says what web found"
like "$cw_out" "api: idle" "and what api found"
same_fp "$(served_fp 127.0.0.1 "$(web_port web.test)" - web.test)" "$(leaf_fp w1)" \
	"when sync returns, nginx serves web's renewal"
same_fp "$(served_fp 127.0.0.1 "$(web_port api.test)" - api.test)" "$(leaf_fp a1)" \
	"and api's"

cw --config "$conf" status
is "$cw_rc" 3 "status without -s, no daemon guarding every service: exit 3"
like "$cw_err" "certwatch@NAME instances run for: web, api; see certwatch status -s NAME" \
	"it names the instances that run and how to see them"

kill -TERM "$api_pid"
wait_exit "$api_pid" 200
cw --config "$conf" sync
is "$cw_rc" 3 "the api instance stopped: sync with no service named exits 3"
like "$cw_err" "no daemon guards service api: none runs in $TEST_TMP/state \\(every service\\) nor in $TEST_TMP/state/api" \
	"naming api, nobody guards it"
unlike "$cw_err" "service web" "and not web, its instance still guards it"
like "$cw_out" "web: idle" "web is still reported"

daemon_log_clean
done_testing
