#!/bin/sh
# Discovery is complete: private nginx, Dovecot and Postfix instances that
# serve an RSA and an ECDSA certificate each (nginx with two
# ssl_certificate lines, Dovecot with ssl_alt_cert, also in a local_name,
# Postfix with smtpd_tls_eccert_file and with smtpd_tls_chain_files
# holding both pairs in one file), and an nginx server whose only name is
# a wildcard.  `certwatch discover` (through tests/discover-tool) must
# list one endpoint per pair with its key type, probe the wildcard server
# with a name it covers and say which, and `certwatch check` on what it
# wrote must find every certificate a client can get OK.
. "$TESTS_SRCDIR/lib.sh"

server_test 45 dovecot doveconf doveadm postfix postconf nginx openssl

TOOL="$TESTS_BUILDDIR/discover-tool"
[ -x "$TOOL" ] || bail_out "$TOOL is not built"

for n in www:www.test mail:mail.test other:other.test mx:mx.test sub:sub.test; do
	CA_KEY=rsa ca_leaf "$TEST_TMP/${n%%:*}-r" 60 "${n#*:}" || bail_out "cannot make a certificate"
	ca_leaf "$TEST_TMP/${n%%:*}-e" 60 "${n#*:}" || bail_out "cannot make a certificate"
done
ca_leaf "$TEST_TMP/apps" 60 "*.apps.test" || bail_out "cannot make the wildcard certificate"

# ---- the daemons ------------------------------------------------------------------

dovecot_start "$TEST_TMP/mail-r.fullchain.pem" "$TEST_TMP/mail-r.key" ||
	bail_out "dovecot did not start"
cat >>"$DOVECOT_CONF" <<CONF
ssl_alt_cert = <$TEST_TMP/mail-e.fullchain.pem
ssl_alt_key = <$TEST_TMP/mail-e.key
local_name other.test {
  ssl_cert = <$TEST_TMP/other-r.fullchain.pem
  ssl_key = <$TEST_TMP/other-r.key
  ssl_alt_cert = <$TEST_TMP/other-e.fullchain.pem
  ssl_alt_key = <$TEST_TMP/other-e.key
}
CONF
doveadm -c "$DOVECOT_CONF" reload >/dev/null 2>&1 || bail_out "dovecot reload failed"

postfix_start "$TEST_TMP/mx-r.fullchain.pem" "$TEST_TMP/mx-r.key" || bail_out "postfix did not start"
cat "$TEST_TMP/sub-r.key" "$TEST_TMP/sub-r.fullchain.pem" "$TEST_TMP/sub-e.key" \
	"$TEST_TMP/sub-e.fullchain.pem" >"$TEST_TMP/sub-combined.pem"
pf_sub=$(free_port)
postconf -c "$POSTFIX_DIR" -e "smtpd_tls_eccert_file = $TEST_TMP/mx-e.fullchain.pem" \
	"smtpd_tls_eckey_file = $TEST_TMP/mx-e.key" ||
	bail_out "cannot add the ECDSA pair"
postconf -c "$POSTFIX_DIR" -M -e \
	"127.0.0.1:$pf_sub/inet = 127.0.0.1:$pf_sub inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_chain_files=$TEST_TMP/sub-combined.pem" ||
	bail_out "cannot add the chain-files service"
postfix -c "$POSTFIX_DIR" reload >/dev/null 2>&1 || bail_out "postfix reload failed"
wait_port 127.0.0.1 "$pf_sub" 15 || bail_out "postfix did not listen on $pf_sub"

ng=$(free_port)
nginx_start "$ng" <<NGINX || bail_out "nginx did not start"
	server {
		listen 127.0.0.1:$ng ssl;
		server_name www.test;
		ssl_certificate $TEST_TMP/www-r.fullchain.pem;
		ssl_certificate_key $TEST_TMP/www-r.key;
		ssl_certificate $TEST_TMP/www-e.fullchain.pem;
		ssl_certificate_key $TEST_TMP/www-e.key;
	}
	server {
		listen 127.0.0.1:$ng ssl;
		server_name *.apps.test;
		ssl_certificate $TEST_TMP/apps.fullchain.pem;
		ssl_certificate_key $TEST_TMP/apps.key;
	}
NGINX
wait_port 127.0.0.1 "$dc_imaps" 10 || bail_out "dovecot did not come back after reload"

# ---- discover ----------------------------------------------------------------------

conf="$TEST_TMP/etc/certwatch.conf"
discover_private "$TEST_TMP/discovered"
is "$?/$(cat "$TEST_TMP/discovered.err")" "0/discover-tool: 3 services" "discover finds the three services"
write_conf "$conf" <"$TEST_TMP/discovered"
diag "$(cat "$TEST_TMP/discovered")"
out=$(cat "$conf")

count() {    # SERVICE [REGEX]: the endpoints of that section (whose block matches)
	awk -v s="$1" -v re="${2:-.}" '
		$1 == "service" { in_s = ($2 == s) }
		in_s && $1 == "endpoint" { block = ""; open = 1 }
		in_s && open { block = block $0 "\n" }
		in_s && open && $1 == "}" { if (block ~ re) n++; open = 0 }
		END { print n + 0 }' "$conf"
}
is "$(count nginx)/$(count nginx 'key-type = "rsa"')/$(count nginx 'key-type = "ecdsa"')" 3/1/1 \
	"nginx: the dual server is two endpoints, one per key type, beside the wildcard one"
is "$(count dovecot)/$(count dovecot 'key-type = "rsa"')/$(count dovecot 'key-type = "ecdsa"')" 14/7/7 \
	"dovecot: each of the 6 listeners and the local_name twice, once per key type"
is "$(count postfix)/$(count postfix 'key-type = "rsa"')/$(count postfix 'key-type = "ecdsa"')" 4/2/2 \
	"postfix: smtpd with its eccert, and the chain-files service with both pairs of its file"
like "$out" "endpoint www.test-ecdsa \\{" "nginx: the endpoints are named after the key type"
like "$out" 'name = "certwatch-probe.apps.test"' "nginx: the wildcard-only server is probed with a name it covers"
like "$out" "# nginx: server apps.test: no literal server_name: probed as certwatch-probe.apps.test, a name \\*.apps.test covers" \
	"nginx: and the output says which"
like "$out" 'pair-format = "postfix-chain-files"' "postfix: the chain files are read by Postfix's rules"
unlike "$out" "ssl_alt_cert is not listed" "dovecot: ssl_alt_cert is no longer left out"

cw --config "$conf" --test-config
is "$cw_rc" 0 "the discovered configuration passes --test-config"
[ "$cw_rc" -eq 0 ] || diag "$cw_err"

cw --config "$conf" check --json
summary=$(check_summary "$cw_out")
is "$cw_rc/$summary" "0/21 endpoints, not OK: none" \
	"certwatch check: every certificate a client can get is found OK" ||
	diag "$cw_err"
for n in www:nginx:www.test mail:dovecot:imaps sub:postfix:smtpd-$pf_sub; do
	p=${n%%:*} rest=${n#*:} svc=${rest%%:*} ep=${rest#*:}
	is "$(json_endpoint "$cw_out" "$svc" "$ep-rsa" served.sha256)/$(json_endpoint "$cw_out" "$svc" "$ep-ecdsa" served.sha256)" \
		"$(leaf_fp "$p-r")/$(leaf_fp "$p-e")" "$svc $ep: the RSA endpoint saw the RSA certificate, the ECDSA one the ECDSA"
done
is "$(json_endpoint "$cw_out" nginx apps.test served.sha256)" "$(leaf_fp apps)" \
	"nginx: the wildcard server's certificate is the one probed, not the default server's"

done_testing
