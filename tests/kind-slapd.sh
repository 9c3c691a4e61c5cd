#!/bin/sh
# kind = "slapd" against a real, private OpenLDAP slapd (Debian's
# package), configured by cn=config in $TEST_TMP and listening on
# ldap (StartTLS), ldaps and ldapi:
#  - the probe's fingerprints, over StartTLS and implicit TLS, are
#    openssl s_client's (-starttls ldap, and plain);
#  - a certbot-style renewal is made current by the kind's recipe: the
#    cn=config TLS settings read over ldapi and set again to the same
#    values, slapd neither restarted nor signalled (same pid), verified on
#    both ports; the settings are unchanged afterwards.
. "$TESTS_SRCDIR/lib.sh"

server_test 54 openssl slapd slapadd ldapsearch ldapmodify

ca_leaves 60 ldap.test s0 s1
live="$TEST_TMP/disk/live/ldap"
disk_install certbot "$live" "$TEST_TMP/s0" || bail_out "cannot lay out the files"

S="$TEST_TMP/slapd"
mkdir -p "$S/slapd.d"
cat >"$S/config.ldif" <<EOF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $S/slapd.pid
olcTLSCACertificateFile: $CA_DIR/root.pem
olcTLSCertificateFile: $live/fullchain.pem
olcTLSCertificateKeyFile: $live/privkey.pem

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * break
EOF
slapadd -n0 -F "$S/slapd.d" -l "$S/config.ldif" >"$S/slapadd.log" 2>&1 ||
	{ cat "$S/slapadd.log" >&2; bail_out "slapadd failed"; }
sock="$S/ldapi"
url="ldapi://$("$PYTHON" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$sock")"
port=$(free_port)
port_s=$(free_port)
start_bg slapd slapd -d 0 -F "$S/slapd.d" -h "ldap://127.0.0.1:$port/ ldaps://127.0.0.1:$port_s/ $url"
slapd_pid=$bg_pid
wait_port 127.0.0.1 "$port" 10 "$slapd_pid" && wait_port 127.0.0.1 "$port_s" 10 "$slapd_pid" ||
	{ cat "$TEST_TMP/slapd.log" >&2; bail_out "slapd did not start"; }

tls_settings() {
	ldapsearch -Q -LLL -o ldif-wrap=no -Y EXTERNAL -H "$url" -b cn=config -s base \
		olcTLSCACertificateFile olcTLSCertificateFile olcTLSCertificateKeyFile 2>&1
}
settings_before=$(tls_settings)

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	conf_service ldap ldap.test "$live" 'kind = "slapd"' "control-socket = \"$sock\"" \
		"endpoint ldap { port = $port }" "endpoint ldaps { port = $port_s }"
} | write_conf "$conf"

cw --config "$conf" check --json
is "$cw_rc" 0 "certwatch check: slapd's endpoints are OK"
same_fp "$(json_endpoint "$cw_out" ldap ldap served.sha256)" \
	"$(served_fp 127.0.0.1 "$port" ldap ldap.test)" "over StartTLS the probe sees what s_client -starttls ldap sees"
same_fp "$(json_endpoint "$cw_out" ldap ldaps served.sha256)" \
	"$(served_fp 127.0.0.1 "$port_s" - ldap.test)" "over ldaps the probe sees what s_client sees"

daemon_start "$conf"
ok "the daemon starts and settles with every endpoint OK" wait_for 30 status_all_ok "$conf"
mark=$(log_mark)
disk_renew certbot "$live" "$TEST_TMP/s1" || bail_out "cannot renew"
ok "the renewal is made current over ldapi and verified" \
	wait_log "$mark" "certwatch: ldap: reload verified" 30 || diag "$(log_since "$mark")"
same_fp "$(served_fp 127.0.0.1 "$port" ldap ldap.test)" "$(leaf_fp s1)" "StartTLS serves the new certificate"
same_fp "$(served_fp 127.0.0.1 "$port_s" - ldap.test)" "$(leaf_fp s1)" "ldaps serves the new certificate"
is "$(cat "$S/slapd.pid")" "$slapd_pid" "the same slapd serves: nothing was restarted"
ok "slapd still runs" kill -0 "$slapd_pid"
is "$(tls_settings)" "$settings_before" "cn=config's TLS settings are as they were"
status_all_ok "$conf"
like "$(json_service "$cw_out" ldap last_result)" "reload: ok \(slapd's TLS settings set again over $sock \($live/fullchain.pem\)\)" \
	"the result says what was set again"
daemon_stop_ok
daemon_log_clean

done_testing
