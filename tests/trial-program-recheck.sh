#!/bin/sh
# Found in a trial: certwatch.conf(5) SECURITY says certwatch refuses a
# program that anyone but root could change, since it runs it as root.  The
# check is made only when the configuration is loaded: a reload-command
# program that becomes writable by others afterwards (months may pass
# before the next renewal) is run as root at the next reload without a
# word.  The pid file, by contrast, is checked at each reload.  Expected:
# the reload is refused with the same message as at load time ("writable
# by others ... chmod o-w"), and the program is not run.
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

chmod 0755 "$bin/reload-web"
daemon_stop_ok
done_testing
