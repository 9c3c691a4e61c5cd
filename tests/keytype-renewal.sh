#!/bin/sh
# The key type follows the pair on disk (key-type "auto", the default), and
# a renewal's key is judged against the previous certificate on disk.
# A private nginx serves an RSA certificate; renewals go RSA -> ECDSA (as
# certbot 2.0 does; the daemon asks for ECDSA, is refused by the server
# that still has its RSA certificate alone, asks again for any, reloads and
# verifies the ECDSA one), ECDSA on the same key, then back to RSA on a new
# key (both reloaded by hand before certwatch looks: the served
# certificate is already the new one, so only the previous certificate on
# disk can tell whether the key was reused).  Beside it, a server with an
# RSA and an ECDSA certificate, guarded by one endpoint for its RSA pair
# without key-type: auto asks for RSA and compares like with like.
. "$TESTS_SRCDIR/lib.sh"

server_test 43 nginx openssl

CA_KEY=rsa ca_leaf "$TEST_TMP/r0" 60 web.test || bail_out "cannot make r0"
ca_leaf "$TEST_TMP/e1" 61 web.test || bail_out "cannot make e1"
CA_KEY_FILE=$TEST_TMP/e1.key ca_leaf "$TEST_TMP/e2" 62 web.test || bail_out "cannot make e2"
CA_KEY=rsa ca_leaf "$TEST_TMP/r3" 63 web.test || bail_out "cannot make r3"
CA_KEY=rsa ca_leaf "$TEST_TMP/dr" 60 dual.test || bail_out "cannot make dual's RSA pair"
ca_leaf "$TEST_TMP/de" 60 dual.test || bail_out "cannot make dual's ECDSA pair"
live=$TEST_TMP/live/web.test
disk_install rename "$live" "$TEST_TMP/r0" || bail_out "cannot lay out the files"

port=$(free_port)
dual=$(free_port)
nginx_start "$port" <<NGINX || bail_out "nginx did not start"
	server {
		listen 127.0.0.1:$port ssl;
		server_name web.test;
		ssl_certificate $live/fullchain.pem;
		ssl_certificate_key $live/privkey.pem;
	}
	server {
		listen 127.0.0.1:$dual ssl;
		server_name dual.test;
		ssl_certificate $TEST_TMP/dr.fullchain.pem;
		ssl_certificate_key $TEST_TMP/dr.key;
		ssl_certificate $TEST_TMP/de.fullchain.pem;
		ssl_certificate_key $TEST_TMP/de.key;
	}
NGINX
nginx_reload() {
	nginx -p "$NGINX_DIR/" -e "$NGINX_DIR/logs/error.log" -c "$NGINX_CONF" -s reload
}
serves() {    # PREFIX: nginx serves that certificate on $port (openssl s_client)
	[ "$(served_fp 127.0.0.1 "$port" - web.test)" = "$(leaf_fp "$1")" ]
}

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	conf_service web web.test "$live" "reload-command = $(nginx_reload_argv)" \
		'max-reloads-per-hour = 10' "endpoint https { port = $port }"
} | write_conf "$conf"

cw check --config "$conf" --json
is "$(json_endpoint "$cw_out" web https key_type)/$(json_endpoint "$cw_out" web https probe.key_type)" \
	auto/rsa "key-type is auto by default, and the probe asks for the RSA type on disk"

daemon_start "$conf"
ok "the daemon starts and settles with the endpoint OK" wait_for 30 status_all_ok "$conf"

# ---- RSA -> ECDSA, a new key --------------------------------------------------------

mark=$(log_mark)
disk_renew rename "$live" "$TEST_TMP/e1"
ok "RSA to ECDSA: reloaded and verified (asked for ECDSA, then for any while RSA is served)" \
	wait_log "$mark" "web: reload verified" 30 || diag "$(log_since "$mark")"
is "$(log_count "$mark" "reload failed")" 0 "no failed reload is counted"
like "$(log_since "$mark")" "web/https: certificate on disk changed from $(leaf_fp r0 | cut -c1-12) to $(leaf_fp e1 | cut -c1-12) \\(new public key; the key type changed from rsa to ecdsa\\)" \
	"the change event says the key is new and its type changed from RSA to ECDSA"
ok "nginx serves the ECDSA certificate" serves e1

# ---- ECDSA again, the same key; served before certwatch looks ----------------------------

mark=$(log_mark)
disk_renew rename "$live" "$TEST_TMP/e2" && nginx_reload
ok "a renewal on the same key: the change event says so" \
	wait_log "$mark" "web/https: certificate on disk changed from $(leaf_fp e1 | cut -c1-12) to $(leaf_fp e2 | cut -c1-12) \\(same public key\\)" 30 ||
	diag "$(log_since "$mark")"

# ---- ECDSA -> RSA, a new key; served before certwatch looks -------------------------------

mark=$(log_mark)
disk_renew rename "$live" "$TEST_TMP/r3" && nginx_reload
ok "ECDSA to RSA already served: the key is new, judged against the previous file" \
	wait_log "$mark" "web/https: certificate on disk changed from $(leaf_fp e2 | cut -c1-12) to $(leaf_fp r3 | cut -c1-12) \\(new public key; the key type changed from ecdsa to rsa\\)" 30 ||
	diag "$(log_since "$mark")"
ok "the daemon settles with the endpoint OK" wait_for 30 status_all_ok "$conf"
daemon_stop_ok
daemon_log_clean

# ---- a dual-certificate server, one endpoint for its RSA pair -------------------------------

cw check --connect "127.0.0.1:$dual" --name dual.test --cert "$TEST_TMP/dr.fullchain.pem" --json
is "$(json_get "$cw_out" endpoints.0.state)/$(json_get "$cw_out" endpoints.0.served.sha256)" \
	"OK/$(leaf_fp dr)" "dual server, --cert the RSA pair, no --key-type: the RSA certificate, OK"
cw check --connect "127.0.0.1:$dual" --name dual.test --cert "$TEST_TMP/de.fullchain.pem" --json
is "$(json_get "$cw_out" endpoints.0.state)/$(json_get "$cw_out" endpoints.0.served.sha256)" \
	"OK/$(leaf_fp de)" "dual server, --cert the ECDSA pair, no --key-type: the ECDSA certificate, OK"
is "$(json_get "$cw_out" endpoints.0.served.key_type)" ecdsa "the JSON names the served key's type"

done_testing
