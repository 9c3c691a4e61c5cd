#!/bin/sh
# Found in a trial: `certwatch sync` with no service named, the deploy hook
# of the README ("certbot renew --deploy-hook 'certwatch sync'"), when every
# service is guarded by a certwatch@NAME instance (`certwatch run -s NAME`)
# and no all-services daemon runs.  certwatch(8) says a service guarded by
# an instance is asked there, and exit 3 means "no daemon runs, a service
# is not guarded, or ...": here every service is guarded and verified, so
# sync must exit 0.  It exits 3 with "no daemon is running in STATE-DIR".
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
ok "the api instance settles" wait_for 30 status_all_ok "$conf" -s api

disk_renew certbot "$(web_live web.test)" "$TEST_TMP/w1"
disk_renew certbot "$(web_live api.test)" "$TEST_TMP/a1"

cw --config "$conf" sync web api
is "$cw_rc" 0 "sync web api (both named): exit 0"

cw --config "$conf" sync
is "$cw_rc" 0 "sync with no service named, every service guarded by its instance: exit 0"
unlike "$cw_err" "no daemon is running" "and it does not say that no daemon runs"
diag "stderr: $cw_err"

done_testing
