#!/bin/sh
# certwatch discover against real daemons: private Dovecot, Postfix and
# nginx instances are started, discover_write() reads their own dumps
# (doveconf -c, postconf -c, nginx -p -c, through tests/discover-tool), and
# the configuration it writes must pass --test-config and make
# `certwatch check` report every endpoint OK against the running daemons.
# The shipped conf.d/*.conf.example files must pass --test-config too.
. "$TESTS_SRCDIR/lib.sh"

server_test 14 dovecot doveconf doveadm postfix postconf nginx openssl

TOOL="$TESTS_BUILDDIR/discover-tool"
[ -x "$TOOL" ] || bail_out "$TOOL is not built"

for n in mail:mail.test other:other.test mx:mx.test www:www.test shop:shop.test; do
	ca_leaf "$TEST_TMP/${n%%:*}" 60 "${n#*:}" || bail_out "cannot make a certificate"
done

# ---- the daemons ------------------------------------------------------------------

dovecot_start "$TEST_TMP/mail.fullchain.pem" "$TEST_TMP/mail.key" ||
	bail_out "dovecot did not start"
# A local_name with a pair of its own: an SNI endpoint of its own.
cat >>"$DOVECOT_CONF" <<CONF
local_name other.test {
  ssl_cert = <$TEST_TMP/other.fullchain.pem
  ssl_key = <$TEST_TMP/other.key
}
CONF
doveadm -c "$DOVECOT_CONF" reload >/dev/null 2>&1 || bail_out "dovecot reload failed"

postfix_start "$TEST_TMP/mx.fullchain.pem" "$TEST_TMP/mx.key" || bail_out "postfix did not start"
# A submissions-style service in wrapper mode beside lib.sh's STARTTLS smtpd.
pf_smtps=$(free_port)
postconf -c "$POSTFIX_DIR" -M -e \
	"127.0.0.1:$pf_smtps/inet = 127.0.0.1:$pf_smtps inet n - n - - smtpd -o smtpd_tls_wrappermode=yes" ||
	bail_out "cannot add the wrapper-mode service"
postfix -c "$POSTFIX_DIR" reload >/dev/null 2>&1 || bail_out "postfix reload failed"
wait_port 127.0.0.1 "$pf_smtps" 15 || bail_out "postfix did not listen on $pf_smtps"

ng_tls=$(free_port)
ng_plain=$(free_port)
nginx_start "$ng_tls" <<NGINX || bail_out "nginx did not start"
	server {
		listen 127.0.0.1:$ng_tls ssl;
		server_name www.test;
		ssl_certificate $TEST_TMP/www.fullchain.pem;
		ssl_certificate_key $TEST_TMP/www.key;
	}
	server {
		listen 127.0.0.1:$ng_tls ssl;
		server_name shop.test;
		ssl_certificate $TEST_TMP/shop.fullchain.pem;
		ssl_certificate_key $TEST_TMP/shop.key;
	}
	server {
		listen 127.0.0.1:$ng_plain;
		server_name plain.test;
	}
NGINX
# lib.sh's dovecot reloaded: wait until the new processes answer again.
wait_port 127.0.0.1 "$dc_imaps" 10 || bail_out "dovecot did not come back after reload"

# ---- discover ----------------------------------------------------------------------

conf="$TEST_TMP/etc/certwatch.conf"
discover_private "$TEST_TMP/discovered"
rc=$?
is "$rc/$(cat "$TEST_TMP/discovered.err")" "0/discover-tool: 3 services" \
	"discover finds three services in the running private daemons"
write_conf "$conf" <"$TEST_TMP/discovered"
diag "$(cat "$TEST_TMP/discovered")"

count_endpoints() {    # SERVICE: the endpoints of that section of the output
	awk -v s="$1" '$1 == "service" { in_s = ($2 == s) } in_s && $1 == "endpoint" { n++ }
		END { print n + 0 }' "$conf"
}
is "$(count_endpoints dovecot)" 7 \
	"dovecot: imap, imaps, pop3, pop3s, sieve, lmtp and the local_name endpoint"
is "$(count_endpoints postfix)" 2 "postfix: the STARTTLS smtpd and the wrapper-mode smtpd"
is "$(count_endpoints nginx)" 2 "nginx: the two TLS virtual hosts, not the plain server"
unlike "$(cat "$conf")" "port = $ng_plain\$" "nginx: the plain server's port is not an endpoint"
like "$(cat "$conf")" "# nginx: 1 server block without TLS skipped" \
	"nginx: the skipped plain server is a comment"
like "$(cat "$conf")" "reload-command = \\{\"[^\"]*/doveadm\", \"-c\", \"$DOVECOT_CONF\", \"reload\"\\}" \
	"dovecot: reloaded by doveadm with the private instance's configuration"
like "$(cat "$conf")" "reload-check = \\{\"[^\"]*/postfix\", \"-c\", \"$POSTFIX_DIR\", \"check\"\\}" \
	"postfix: postfix check before a reload"
like "$(cat "$conf")" "name = \"other.test\"" "dovecot: the local_name is sent as SNI"

cw --config "$conf" --test-config
is "$cw_rc" 0 "the discovered configuration passes --test-config"
[ "$cw_rc" -eq 0 ] || diag "$cw_err"

cw --config "$conf" check --json
is "$cw_rc" 0 "certwatch check on the discovered configuration exits 0"
summary=$(check_summary "$cw_out")
is "$summary" "11 endpoints, not OK: none" \
	"every discovered endpoint is OK against the running daemons"

for ep in imaps imap pop3 pop3s sieve lmtp other.test; do
	is "$(json_endpoint "$cw_out" dovecot "$ep" state)" OK "dovecot endpoint $ep: OK"
done
is "$(json_endpoint "$cw_out" dovecot other.test served.sha256)" \
	"$(leaf_fp other)" "dovecot local_name: the probe saw other.test's certificate"
is "$(json_endpoint "$cw_out" nginx shop.test served.sha256)" \
	"$(leaf_fp shop)" "nginx: the shop.test endpoint saw shop.test's certificate"
is "$(json_endpoint "$cw_out" nginx www.test served.sha256)" \
	"$(leaf_fp www)" "nginx: the www.test endpoint saw www.test's certificate"

# ---- a daemon that is not there ---------------------------------------------------------

mkdir -p "$TEST_TMP/emptybin"
"$TOOL" --search-path "$TEST_TMP/emptybin" >"$TEST_TMP/none" 2>"$TEST_TMP/none.err"
is "$?/$(grep -c 'not installed' "$TEST_TMP/none")" 0/6 \
	"with no daemon installed: exit 0 and six comments saying so"
like "$(cat "$TEST_TMP/none")" "^# nginx: not installed \\(nginx: command not found\\)" \
	"a missing nginx is reported as not installed"

# ---- the shipped examples ----------------------------------------------------------------

ex="$TEST_TMP/examples/certwatch.conf"
write_conf "$ex" </dev/null
for name in dovecot postfix nginx; do
	sed -e "s|/etc/letsencrypt/live/[^/\"]*/fullchain.pem|$TEST_TMP/mail.fullchain.pem|g" \
		-e "s|/etc/letsencrypt/live/[^/\"]*/privkey.pem|$TEST_TMP/mail.key|g" \
		"$TESTS_SRCDIR/../conf.d/$name.conf.example" >"$TEST_TMP/examples/conf.d/$name.conf"
	chmod 0600 "$TEST_TMP/examples/conf.d/$name.conf"
done
cw --config "$ex" --test-config
is "$cw_rc" 0 "conf.d/{dovecot,postfix,nginx}.conf.example pass --test-config as conf.d files"
[ "$cw_rc" -eq 0 ] || diag "$cw_err"
like "$cw_out" 'endpoint[[:space:]]+"?submissions' "the examples' endpoints are read (postfix submissions)"

done_testing
