#!/bin/sh
# A server with one certificate per key type (nginx with an RSA and an
# ECDSA ssl_certificate on one server): key-type asks for each, over TLS
# 1.3 and TLS 1.2, and each is compared with its own files.
. "$TESTS_SRCDIR/lib.sh"

server_test 16 nginx openssl

CA_KEY=rsa ca_leaf "$TEST_TMP/r" 60 dual.test || bail_out "cannot make the RSA certificate"
ca_leaf "$TEST_TMP/e" 60 dual.test || bail_out "cannot make the ECDSA certificate"
fp_r=$(cert_fp "$TEST_TMP/r.crt")
fp_e=$(cert_fp "$TEST_TMP/e.crt")
port=$(free_port)
port12=$(free_port)
for p in "$port" "$port12"; do
	proto="TLSv1.2 TLSv1.3"
	[ "$p" = "$port12" ] && proto=TLSv1.2
	cat <<SERVER
	server {
		listen 127.0.0.1:$p ssl;
		server_name dual.test;
		ssl_protocols $proto;
		ssl_certificate $TEST_TMP/r.fullchain.pem;
		ssl_certificate_key $TEST_TMP/r.key;
		ssl_certificate $TEST_TMP/e.fullchain.pem;
		ssl_certificate_key $TEST_TMP/e.key;
	}
SERVER
done >"$TEST_TMP/servers"
nginx_start "$port" <"$TEST_TMP/servers" || bail_out "nginx did not start"

# The reference: what openssl s_client sees when it offers one key type.
is "$(served_fp 127.0.0.1 "$port" - dual.test -sigalgs 'RSA-PSS+SHA256:RSA+SHA256')" "$fp_r" \
	"nginx serves the RSA certificate to a client offering RSA only (openssl s_client)"
is "$(served_fp 127.0.0.1 "$port" - dual.test -sigalgs 'ECDSA+SHA256')" "$fp_e" \
	"nginx serves the ECDSA certificate to a client offering ECDSA only (openssl s_client)"

for p in "$port" "$port12"; do
	v="TLS 1.3"
	[ "$p" = "$port12" ] && v="TLS 1.2"
	cw check --connect "127.0.0.1:$p" --name dual.test --key-type rsa --cert "$TEST_TMP/r.crt" --json
	is "$(json_get "$cw_out" endpoints.0.served.sha256)" "$fp_r" \
		"$v, --key-type rsa: certwatch is served the RSA certificate"
	is "$(json_get "$cw_out" endpoints.0.state)/$cw_rc" OK/0 "$v, --key-type rsa: OK against the RSA files"
	cw check --connect "127.0.0.1:$p" --name dual.test --key-type ecdsa --cert "$TEST_TMP/e.crt" --json
	is "$(json_get "$cw_out" endpoints.0.served.sha256)" "$fp_e" \
		"$v, --key-type ecdsa: certwatch is served the ECDSA certificate"
	is "$(json_get "$cw_out" endpoints.0.state)/$cw_rc" OK/0 "$v, --key-type ecdsa: OK against the ECDSA files"
done
is "$(json_get "$cw_out" endpoints.0.served.tls_version)" TLSv1.2 "the second listener speaks TLS 1.2 only"

# The plugin takes --key-type as check does: the same certificate is served to
# it, and -v shows its fingerprint in full.
for k in rsa ecdsa; do
	fp=$fp_r f=r
	[ "$k" = ecdsa ] && fp=$fp_e f=e
	cw nagios -H 127.0.0.1 -p "$port" --name dual.test --key-type "$k" --cert "$TEST_TMP/$f.crt" -v
	is "$cw_rc" 0 "certwatch nagios --key-type $k: OK against the $k files, exit 0"
	like "$cw_out" "
    served $fp, expires " "certwatch nagios --key-type $k: the plugin is served the $k certificate"
	cw check --connect "127.0.0.1:$port" --name dual.test --key-type "$k" --cert "$TEST_TMP/$f.crt" --json
	is "$(json_get "$cw_out" endpoints.0.served.sha256)" "$fp" \
		"check --key-type $k is served the same certificate as the plugin"
done
cw nagios --connect "127.0.0.1:$port12" --name dual.test --key-type rsa -v
like "$cw_rc/$cw_out" "^0/CERTWATCH OK - .*
    served $fp_r, expires " "TLS 1.2, certwatch nagios --connect --key-type rsa: the RSA certificate"

# The configured form: one endpoint per pair on the same port.
conf="$TEST_TMP/etc/certwatch.conf"
cat <<CONF | write_conf "$conf"
service web {
	name = "dual.test"
	address = "127.0.0.1"
	endpoint rsa { port = $port key-type = "rsa" cert = "$TEST_TMP/r.fullchain.pem" key = "$TEST_TMP/r.key" }
	endpoint ecdsa { port = $port key-type = "ecdsa" cert = "$TEST_TMP/e.fullchain.pem" key = "$TEST_TMP/e.key" }
}
CONF
cw --test-config --config "$conf"
like "$cw_out" 'key-type = "ecdsa"' "--test-config shows each endpoint's key-type"
cw check --config "$conf" --json
is "$cw_rc/$(json_get "$cw_out" status)" 0/OK "both pairs of the dual-certificate server are OK, each against its own files"
is "$(json_get "$cw_out" endpoints.0.key_type)/$(json_get "$cw_out" endpoints.1.key_type)" rsa/ecdsa \
	"the JSON names each endpoint's key type"

printf 'service web {\n\tcert = "/a"\n\tkey = "/b"\n\tkey-type = "dsa"\n\tendpoint e { port = 1 }\n}\n' |
	write_conf "$conf"
cw --test-config --config "$conf"
is "$cw_rc" 1 "an unknown key-type is refused"
like "$cw_err" 'certwatch.conf:4: key-type = "dsa" is not a key type; write "rsa" or "ecdsa"' \
	"the refusal names the line and the choices"

done_testing
