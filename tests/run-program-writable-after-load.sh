#!/bin/sh
# A reload-command program checked when the configuration was loaded may
# become writable by others long before the next renewal: the daemon
# checks it again right before it runs it, refuses it with the message of
# the load ("writable by others ... chmod o-w"), and does not run it as
# root.  Once fixed, the next attempt runs it.
. "$TESTS_SRCDIR/lib.sh"

server_test 72 nginx openssl

ca_leaves 60 web.test w0 w1
web_fixture certbot web.test=w0

bin="$TEST_TMP/bin"
mkdir -p "$bin" && chmod 0755 "$bin"
ran="$TEST_TMP/reload-ran"
cat >"$bin/reload-web" <<EOF2
#!/bin/sh
echo ran >>"$ran"
exec $(command -v nginx) -p "$NGINX_DIR/" -e "$NGINX_DIR/logs/error.log" -c "$NGINX_CONF" -s reload
EOF2
chmod 0755 "$bin/reload-web"

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	web_service web web.test "reload-command = {\"$bin/reload-web\"}"
} | write_conf "$conf"

daemon_start "$conf"
ok "the daemon settles" wait_for 30 status_all_ok "$conf"

# After the load, the program becomes writable by others.
chmod 0757 "$bin/reload-web"
mark=$(log_mark)
disk_renew certbot "$(web_live web.test)" "$TEST_TMP/w1"
wait_log "$mark" "web: (reload verified|reload failed)" 30
diag "$log_line"
ok "the world-writable program was not run as root" test ! -e "$ran"
like "$log_line" "reload failed.*writable by others" \
	"the reload fails, saying the program is writable by others"

# Fixed, it runs at the next attempt (resume skips the back-off).
chmod 0755 "$bin/reload-web"
mark=$(log_mark)
cw --config "$conf" resume web
ok "once fixed, the reload runs and is verified" wait_log "$mark" "web: reload verified" 30
ok "the program ran this time" test -e "$ran"
daemon_stop_ok
done_testing
