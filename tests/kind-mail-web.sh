#!/bin/sh
# kind = "nginx", "dovecot" and "postfix" with no reload method of their
# own: each kind's recipe reloads its unit (nginx.service, dovecot.service,
# postfix.service, through fake-systemd, which runs what each Debian unit's
# ExecReload= runs, pointed at the private instances) after the kind's
# configuration test, and a certbot-style renewal is verified for all
# three.  The endpoints name only their ports: the kind knows that imap is
# IMAP STARTTLS and smtp is SMTP STARTTLS.  Postfix's configuration test is
# the private instance's own (its Debian default tests /etc/postfix).
. "$TESTS_SRCDIR/lib.sh"

server_test 51 nginx dovecot doveadm postfix postconf openssl dbus-daemon

for s in web mail mx; do
	ca_leaves 60 "$s.test" "${s}0" "${s}1"
	disk_install certbot "$TEST_TMP/disk/live/$s" "$TEST_TMP/${s}0" ||
		bail_out "cannot lay out $s's files"
done
live_web="$TEST_TMP/disk/live/web"
live_mail="$TEST_TMP/disk/live/mail"
live_mx="$TEST_TMP/disk/live/mx"

web_port=$(free_port)
nginx_start "$web_port" <<NGINX || bail_out "nginx did not start"
	server {
		listen 127.0.0.1:$web_port ssl;
		server_name web.test;
		ssl_certificate $live_web/fullchain.pem;
		ssl_certificate_key $live_web/privkey.pem;
	}
NGINX
dovecot_start "$live_mail/fullchain.pem" "$live_mail/privkey.pem" || bail_out "dovecot did not start"
postfix_start "$live_mx/fullchain.pem" "$live_mx/privkey.pem" || bail_out "postfix did not start"

fake_systemd_start
fake_unit nginx.service reload nginx -p "$NGINX_DIR/" -e "$NGINX_DIR/logs/error.log" \
	-c "$NGINX_CONF" -s reload
fake_unit dovecot.service reload doveadm -c "$DOVECOT_CONF" reload
fake_unit postfix.service reload postfix -c "$POSTFIX_DIR" reload

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	conf_service web web.test "$live_web" 'kind = "nginx"' "endpoint https { port = $web_port }"
	conf_service mail mail.test "$live_mail" 'kind = "dovecot"' \
		"endpoint imaps { port = $dc_imaps }" "endpoint imap { port = $dc_imap }" \
		"endpoint pop3 { port = $dc_pop3 }" "endpoint sieve { port = $dc_sieve }"
	conf_service mx mx.test "$live_mx" 'kind = "postfix"' \
		"reload-check = $(conf_argv "$(command -v postfix)" -c "$POSTFIX_DIR" check)" \
		"endpoint smtp { port = $pf_smtp }"
} | write_conf "$conf"

cw --config "$conf" --test-config
like "$cw_out" "	# reload-unit = \"dovecot.service\"
	# reload-check = \\{\"/usr/bin/doveconf\", \"-n\"\\}" \
	"--test-config shows dovecot's unit and configuration test, from the kind"
like "$cw_out" "endpoint imap \\{
		address = \"127.0.0.1\"
		port = $dc_imap
		starttls = \"imap\"" "an endpoint named imap is IMAP STARTTLS on its own port"

cw --config "$conf" check --json
is "$cw_rc" 0 "certwatch check: every endpoint OK"
same_fp "$(json_endpoint "$cw_out" mail imap served.sha256)" \
	"$(served_fp 127.0.0.1 "$dc_imap" imap mail.test)" "dovecot's imap: the probe sees what s_client sees"
same_fp "$(json_endpoint "$cw_out" mx smtp served.sha256)" \
	"$(served_fp 127.0.0.1 "$pf_smtp" smtp mx.test)" "postfix's smtp: the probe sees what s_client sees"

daemon_start "$conf"
ok "the daemon starts and settles with every endpoint OK" wait_for 30 status_all_ok "$conf"
mark=$(log_mark)
for s in web mail mx; do
	disk_renew certbot "$TEST_TMP/disk/live/$s" "$TEST_TMP/${s}1" || bail_out "cannot renew $s"
done
for s in web mail mx; do
	ok "$s: the renewal is reloaded through the kind's recipe and verified" \
		wait_log "$mark" "certwatch: $s: reload verified" 40 || diag "$(log_since "$mark")"
done
for u in nginx dovecot postfix; do
	is "$(grep -c "^ReloadUnit $u.service replace$" "$FAKE_UNITS_LOG")" 1 "$u.service was reloaded once"
done
like "$(log_since "$mark")" "web: the pair on disk is valid and reload-check passed" \
	"nginx's configuration test ran before its reload"
same_fp "$(served_fp 127.0.0.1 "$web_port" - web.test)" "$(leaf_fp web1)" "s_client sees nginx's new certificate"
same_fp "$(served_fp 127.0.0.1 "$dc_pop3" pop3 mail.test)" "$(leaf_fp mail1)" \
	"s_client sees dovecot's new certificate"
same_fp "$(served_fp 127.0.0.1 "$pf_smtp" smtp mx.test)" "$(leaf_fp mx1)" "s_client sees postfix's new certificate"
daemon_stop_ok
daemon_log_clean

done_testing
