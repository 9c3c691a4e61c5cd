#!/bin/sh
# certwatch discover against a real, private Apache 2.4 and a real, private
# HAProxy (Debian's packages), on loopback: discover_write() reads Apache
# through apache2ctl -f (DUMP_VHOSTS, DUMP_RUN_CFG, DUMP_INCLUDES, then the
# files it includes) and HAProxy's configuration file with its crt
# directory and crt-list (certwatch discover --apache-conf,
# --haproxy-conf, as an administrator names a second instance).  The
# services written, fed back as a configuration,
# must make `certwatch check` report every endpoint OK, each seeing the
# certificate openssl s_client sees with the same name.
. "$TESTS_SRCDIR/lib.sh"

server_test 74 apache2 apache2ctl haproxy openssl

[ -e /usr/lib/apache2/modules/mod_ssl.so ] || skip_all "Apache's mod_ssl is not installed"
for n in www shop api list; do
	ca_leaf "$TEST_TMP/$n" 60 "$n.test" || bail_out "cannot make a certificate"
done

# ---- Apache: two name-based virtual hosts on one port, one on another ----------------

A="$TEST_TMP/apache"
mkdir -p "$A/sites"
ap_port=$(free_port)
ap_port2=$(free_port)
ap_plain=$(free_port)
for n in www shop; do
	cat >"$A/sites/$n.conf" <<EOF
<VirtualHost 127.0.0.1:$ap_port>
	ServerName $n.test
	SSLEngine on
	SSLCertificateFile $TEST_TMP/$n.fullchain.pem
	SSLCertificateKeyFile $TEST_TMP/$n.key
</VirtualHost>
EOF
done
cat >"$A/sites/other.conf" <<EOF
<VirtualHost 127.0.0.1:$ap_port2>
	ServerName api.test
	SSLEngine on
	SSLCertificateFile \${CERTS}/api.fullchain.pem
	SSLCertificateKeyFile \${CERTS}/api.key
</VirtualHost>
<VirtualHost 127.0.0.1:$ap_plain>
	ServerName plain.test
</VirtualHost>
EOF
apache_start "$ap_port" <<EOF || bail_out "apache2 did not start"
Listen 127.0.0.1:$ap_port
Listen 127.0.0.1:$ap_port2
Listen 127.0.0.1:$ap_plain
Define CERTS $TEST_TMP
IncludeOptional $A/sites/*.conf
EOF

# ---- HAProxy: a crt directory on one bind line, a crt-list on another --------------

mkdir -p "$TEST_TMP/hacerts"
cat "$TEST_TMP/www.fullchain.pem" "$TEST_TMP/www.key" >"$TEST_TMP/hacerts/www.pem"
cp "$TEST_TMP/shop.fullchain.pem" "$TEST_TMP/hacerts/shop.pem"
cp "$TEST_TMP/shop.key" "$TEST_TMP/hacerts/shop.pem.key"
cat "$TEST_TMP/list.fullchain.pem" "$TEST_TMP/list.key" >"$TEST_TMP/list.pem"
echo "list.pem [alpn h2,http/1.1] list.test" >"$TEST_TMP/crt.list"
hp_port=$(free_port)
hp_list=$(free_port)
HAPROXY_GLOBAL_EXTRA="crt-base $TEST_TMP" haproxy_start <<EOF || bail_out "haproxy did not start"
	bind 127.0.0.1:$hp_port ssl crt hacerts/
	bind 127.0.0.1:$hp_list ssl crt-list $TEST_TMP/crt.list
EOF

# ---- discover, then check what it wrote -------------------------------------------

"$CERTWATCH" discover --apache-conf "$APACHE_CONF" --haproxy-conf "$HAPROXY_CONF" \
	>"$TEST_TMP/discovered" 2>"$TEST_TMP/discovered.err"
is "$?" 0 "certwatch discover --apache-conf --haproxy-conf exits 0" ||
	diag "$(cat "$TEST_TMP/discovered.err")"
diag "$(cat "$TEST_TMP/discovered")"
section() {    # SERVICE: that service's section of the output, with its comments
	sed -n "/^# $1: /p; /^service $1 {/,/^}/p" "$TEST_TMP/discovered"
}
apache=$(section apache)
haproxy=$(section haproxy)
like "$apache" 'kind = "apache"' "apache: the service names kind apache"
like "$apache" "reload-command = {\"[^\"]*apache2ctl\", \"-f\", \"$APACHE_CONF\", \"-k\", \"graceful\"}" \
	"apache: this instance's own graceful restart, not the kind's (the system's unit)"
like "$apache" "reload-check = {\"[^\"]*apache2ctl\", \"-f\", \"$APACHE_CONF\", \"-t\"}" \
	"apache: this instance's configuration is what reload-check tests"
like "$haproxy" "# what kind haproxy falls back on, haproxy.service, is the system's" \
	"haproxy: a comment says the kind's fallback reload is the system's unit"
like "$apache" "# apache: api.test .*other.conf:1.: skipped: a path names a .\{variable\}" \
	"apache: a \${CERTS} path is a comment, not a guess"
like "$apache" "# apache: 1 <VirtualHost> block without SSLEngine on skipped" \
	"apache: the plain virtual host is a comment"
like "$haproxy" 'kind = "haproxy"' "haproxy: the service names kind haproxy"
like "$haproxy" "control-socket = \"$HAPROXY_SOCK\"" "haproxy: its admin socket, found in global"
like "$haproxy" "reload-check = {\"[^\"]*haproxy\", \"-f\", \"$HAPROXY_CONF\", \"-c\"}" \
	"haproxy: the private configuration is tested with haproxy -c"

printf '%s\n%s\n' "$apache" "$haproxy" | write_conf "$TEST_TMP/etc/certwatch.conf"
cw --config "$TEST_TMP/etc/certwatch.conf" check --json
is "$(check_summary "$cw_out")/$cw_rc" "5 endpoints, not OK: none/0" \
	"every endpoint discovered checks OK" || diag "$cw_err"

for n in www shop; do
	same_fp "$(json_endpoint "$cw_out" apache "$n.test" served.sha256)" \
		"$(served_fp 127.0.0.1 "$ap_port" - "$n.test")" \
		"apache: $n.test, the probe's fingerprint is s_client's"
	same_fp "$(json_endpoint "$cw_out" haproxy "fe-$n" served.sha256)" \
		"$(served_fp 127.0.0.1 "$hp_port" - "$n.test")" \
		"haproxy: crt directory, $n.test: the probe's fingerprint is s_client's"
done
same_fp "$(json_endpoint "$cw_out" haproxy fe-list served.sha256)" \
	"$(served_fp 127.0.0.1 "$hp_list" - list.test)" \
	"haproxy: crt-list, list.test: the probe's fingerprint is s_client's"
like "$(printf '%s\n' "$haproxy" | grep -A6 'endpoint fe-shop {')" \
	"key = \"$TEST_TMP/hacerts/shop.pem.key\"" "haproxy: the key in PATH.key where it is"

done_testing
