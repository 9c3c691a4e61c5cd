#!/bin/sh
# kind = "apache" against a real, private Apache 2.4 (Debian's package),
# its configuration, pid file and logs in $TEST_TMP, two name-based
# virtual hosts on one port:
#  - the probe's fingerprints, with SNI, are openssl s_client's;
#  - a certbot-style renewal of both is reloaded through the kind's
#    recipe (apache2.service, whose reload fake-systemd carries out as
#    Debian's unit does: apachectl graceful, here apache2 -k graceful on
#    the private configuration) after the kind's configuration test, and
#    verified, the same parent process serving.
. "$TESTS_SRCDIR/lib.sh"

server_test 56 openssl apache2 apache2ctl dbus-daemon

MODULES=/usr/lib/apache2/modules
[ -e "$MODULES/mod_ssl.so" ] || skip_all "Apache's mod_ssl is not installed"
for n in www shop; do
	ca_leaves 60 "$n.test" "${n}0" "${n}1"
	disk_install certbot "$TEST_TMP/disk/live/$n" "$TEST_TMP/${n}0" || bail_out "cannot lay out $n"
done

port=$(free_port)
{
	echo "Listen 127.0.0.1:$port"
	for n in www shop; do
		cat <<EOF
<VirtualHost 127.0.0.1:$port>
	ServerName $n.test
	SSLEngine on
	SSLCertificateFile $TEST_TMP/disk/live/$n/fullchain.pem
	SSLCertificateKeyFile $TEST_TMP/disk/live/$n/privkey.pem
</VirtualHost>
EOF
	done
} >"$TEST_TMP/vhosts.conf"
apache_start "$port" <"$TEST_TMP/vhosts.conf" || bail_out "apache2 did not start"
A=$APACHE_DIR

fake_systemd_start
fake_unit apache2.service reload apache2 -d "$A" -f "$A/apache2.conf" -k graceful

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	printf 'service web {\n\tkind = "apache"\n\taddress = "127.0.0.1"\n'
	for n in www shop; do
		printf '\tendpoint %s {\n\t\tport = %s\n\t\tname = "%s.test"\n' "$n" "$port" "$n"
		printf '\t\tcert = "%s/fullchain.pem"\n\t\tkey = "%s/privkey.pem"\n\t}\n' \
			"$TEST_TMP/disk/live/$n" "$TEST_TMP/disk/live/$n"
	done
	printf '}\n'
} | write_conf "$conf"

cw --config "$conf" check --json
is "$cw_rc" 0 "certwatch check: both virtual hosts OK"
for n in www shop; do
	same_fp "$(json_endpoint "$cw_out" web $n served.sha256)" "$(served_fp 127.0.0.1 "$port" - "$n.test")" \
		"$n.test: the probe sees what s_client sees"
done

daemon_start "$conf"
ok "the daemon starts and settles with every endpoint OK" wait_for 30 status_all_ok "$conf"
mark=$(log_mark)
for n in www shop; do
	disk_renew certbot "$TEST_TMP/disk/live/$n" "$TEST_TMP/${n}1" || bail_out "cannot renew $n"
done
ok "the renewal is reloaded through apache2.service and verified" \
	wait_log "$mark" "certwatch: web: reload verified" 40 || diag "$(log_since "$mark")"
like "$(log_since "$mark")" "web: the pair on disk is valid and reload-check passed" \
	"apache2ctl configtest ran before the reload"
is "$(grep -c '^ReloadUnit apache2.service replace$' "$FAKE_UNITS_LOG")" 1 "apache2.service was reloaded once"
for n in www shop; do
	same_fp "$(served_fp 127.0.0.1 "$port" - "$n.test")" "$(leaf_fp "${n}1")" \
		"$n.test: s_client sees the new certificate"
done
is "$(cat "$A/apache2.pid")" "$apache_pid" "the same parent process serves: a graceful restart"
daemon_stop_ok
daemon_log_clean

done_testing
