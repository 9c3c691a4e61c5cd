#!/bin/sh
# A private nginx with one TLS listener and two virtual hosts (SNI): what
# certwatch reports as served must be what openssl s_client sees, per name,
# and the served/disk comparison must say OK, STALE or DISK-INVALID.
. "$TESTS_SRCDIR/lib.sh"

server_test 1 nginx openssl

# a: served for a.test; a2: its renewal, on disk but not served; b: b.test.
ca_leaves 60 a.test a
ca_leaves 90 a.test a2
ca_leaves 60 b.test b
fp_a=$(leaf_fp a)
fp_a2=$(leaf_fp a2)
fp_b=$(leaf_fp b)
# many: 3,000 names, SNI and the name checked being the last one.
# shellcheck disable=SC2046 # one argument per name
ca_leaf "$TEST_TMP/many" 60 $(seq 0 2999 | sed 's/.*/host&.many.test/') ||
	bail_out "cannot make a certificate of 3,000 names"

port=$(free_port)
port6=""
listen6=""
if have_ipv6_loopback; then
	port6=$(free_port)
	_port_free ::1 "$port6" || port6=""
fi
[ -n "$port6" ] && listen6="listen [::1]:$port6 ssl;"

nginx_start "$port" <<EOF || bail_out "nginx did not start"
	server {
		listen 127.0.0.1:$port ssl;
		$listen6
		server_name a.test;
		ssl_certificate $TEST_TMP/a.fullchain.pem;
		ssl_certificate_key $TEST_TMP/a.key;
		return 200 "a\n";
	}
	server {
		listen 127.0.0.1:$port ssl;
		$listen6
		server_name b.test;
		ssl_certificate $TEST_TMP/b.fullchain.pem;
		ssl_certificate_key $TEST_TMP/b.key;
		return 200 "b\n";
	}
	server {
		listen 127.0.0.1:$port ssl;
		server_name host2999.many.test;
		ssl_certificate $TEST_TMP/many.fullchain.pem;
		ssl_certificate_key $TEST_TMP/many.key;
		return 200 "many\n";
	}
EOF

# ---- the reference: what openssl sees -------------------------------------

ref_a=$(served_fp 127.0.0.1 "$port" - a.test)
ref_b=$(served_fp 127.0.0.1 "$port" - b.test)
is "$ref_a" "$fp_a" "nginx serves a.test's certificate to SNI a.test (openssl s_client)"
is "$ref_b" "$fp_b" "nginx serves b.test's certificate to SNI b.test (openssl s_client)"

# ---- ad hoc checks, per SNI name ------------------------------------------

cw check --connect "127.0.0.1:$port" --name a.test --json
got_a=$(json_get "$cw_out" endpoints.0.served.sha256)
same_fp "$got_a" "$ref_a" "nginx SNI a.test: certwatch fingerprint equals openssl s_client's"
is "$(json_get "$cw_out" endpoints.0.probe.status)" ok "nginx SNI a.test: probe status ok"
is "$(json_get "$cw_out" endpoints.0.protocol)" tls "nginx SNI a.test: protocol is implicit tls"
is "$(json_get "$cw_out" endpoints.0.port)" "$port" "nginx SNI a.test: JSON names the port probed"

cw check --connect "127.0.0.1:$port" --name b.test --json
got_b=$(json_get "$cw_out" endpoints.0.served.sha256)
same_fp "$got_b" "$ref_b" "nginx SNI b.test: certwatch fingerprint equals openssl s_client's"
isnt "$got_a" "$got_b" "certwatch sends SNI: the two names get different certificates"
like "$(json_get "$cw_out" endpoints.0.served.sans)" '"b\.test"' \
	"nginx SNI b.test: served SANs list b.test"
like "$(json_get "$cw_out" endpoints.0.served.chain_length)" '^[12]$' \
	"nginx SNI b.test: the root the server sends is counted in the chain"

# A certificate of 3,000 names is judged by all of them, on disk and served.
cw check --connect "127.0.0.1:$port" --name host2999.many.test \
	--cert "$TEST_TMP/many.fullchain.pem" --key "$TEST_TMP/many.key" --json
same_fp "$(json_get "$cw_out" endpoints.0.served.sha256)" "$(leaf_fp many)" \
	"nginx SNI host2999.many.test: the certificate of 3,000 names is served"
is "$(json_get "$cw_out" endpoints.0.served.name_covered)" true \
	"3,000 names served: the last one, asked for, is covered"
is "$(json_get "$cw_out" endpoints.0.disk.status)" valid "3,000 names on disk: valid for the last one"
is "$(json_get "$cw_out" endpoints.0.state)/$cw_rc" OK/0 "3,000 names: state OK, exit 0"
is "$(json_get "$cw_out" endpoints.0.served.sans | "$PYTHON" -c 'import json, sys; print(len(json.load(sys.stdin)))')" \
	3000 "3,000 names served: every name is reported"

# ---- served vs disk ------------------------------------------------------------

cw check --connect "127.0.0.1:$port" --name a.test \
	--cert "$TEST_TMP/a.fullchain.pem" --key "$TEST_TMP/a.key" --json
is "$cw_rc" 0 "nginx a.test with the served certificate on disk: exit 0"
is "$(json_get "$cw_out" endpoints.0.state)" OK "nginx a.test with the served certificate on disk: state OK"
is "$(json_get "$cw_out" status)" OK "nginx a.test: overall status OK"
is "$(json_get "$cw_out" endpoints.0.disk.sha256)" "$fp_a" \
	"nginx a.test: disk fingerprint is the file's"

cw check --connect "127.0.0.1:$port" --name a.test \
	--cert "$TEST_TMP/a2.fullchain.pem" --key "$TEST_TMP/a2.key" --json
is "$(json_get "$cw_out" endpoints.0.state)" STALE \
	"nginx a.test with a renewed certificate on disk, not reloaded: state STALE"
like "$cw_rc" '^[12]$' "nginx a.test stale: exit 1 or 2"
sev=$(json_get "$cw_out" status)
case $sev in WARNING) want_rc=1 ;; CRITICAL) want_rc=2 ;; *) want_rc="?" ;; esac
is "$cw_rc" "$want_rc" "nginx a.test stale: exit status matches the JSON status ($sev)"
is "$(json_get "$cw_out" endpoints.0.served.sha256)" "$fp_a" "nginx a.test stale: JSON has the served fingerprint"
is "$(json_get "$cw_out" endpoints.0.disk.sha256)" "$fp_a2" "nginx a.test stale: JSON has the disk fingerprint"
like "$(json_get "$cw_out" endpoints.0.reason)" . "nginx a.test stale: a reason is given"

cw check --connect "127.0.0.1:$port" --name a.test \
	--cert "$TEST_TMP/b.fullchain.pem" --key "$TEST_TMP/b.key" --json
is "$cw_rc" 2 "nginx a.test with b.test's certificate on disk: exit 2"
is "$(json_get "$cw_out" endpoints.0.state)" DISK-INVALID \
	"nginx a.test with b.test's certificate on disk: state DISK-INVALID"
is "$(json_get "$cw_out" endpoints.0.disk.status)" name-mismatch \
	"nginx a.test with b.test's certificate on disk: disk status name-mismatch"
is "$(json_get "$cw_out" endpoints.0.served.sha256)" "$fp_a" \
	"nginx a.test with b.test's certificate on disk: served fingerprint still reported"

cw check --connect "127.0.0.1:$port" --name a.test \
	--cert "$TEST_TMP/a.fullchain.pem" --key "$TEST_TMP/b.key" --json
is "$cw_rc" 2 "nginx a.test with a key that does not match the certificate: exit 2"
is "$(json_get "$cw_out" endpoints.0.state)" DISK-INVALID \
	"nginx a.test with a key that does not match the certificate: state DISK-INVALID"

# The human table: a header and one line with both short fingerprints.
cw check --connect "127.0.0.1:$port" --name a.test \
	--cert "$TEST_TMP/a2.fullchain.pem" --key "$TEST_TMP/a2.key"
is "$(printf '%s\n' "$cw_out" | wc -l)" 2 "table: a header line and one line per endpoint"
like "$(printf '%s\n' "$cw_out" | head -n 1)" 'SERVICE.*ENDPOINT.*PROTO.*SERVED.*DISK.*DAYS.*STATE.*REASON' \
	"table: the header names every column"
short_a=$(printf %.12s "$fp_a")
short_a2=$(printf %.12s "$fp_a2")
like "$(printf '%s\n' "$cw_out" | sed -n 2p)" "$short_a.*$short_a2.*STALE" \
	"table: stale line shows served and disk fingerprints (12 hex digits) and STALE"

# ---- the same through a configuration file ------------------------------------

write_conf "$TEST_TMP/etc/certwatch.conf" <<EOF
service nginx {
	address = "127.0.0.1"
	endpoint a {
		port = $port
		name = "a.test"
		cert = "$TEST_TMP/a.fullchain.pem"
		key = "$TEST_TMP/a.key"
	}
	endpoint b {
		port = $port
		name = "b.test"
		cert = "$TEST_TMP/b.fullchain.pem"
		key = "$TEST_TMP/b.key"
	}
}
EOF
cw check --config "$TEST_TMP/etc/certwatch.conf" --json
is "$cw_rc" 0 "config with two nginx virtual hosts, both current: exit 0"
same_fp "$(json_endpoint "$cw_out" nginx a served.sha256)" "$ref_a" \
	"config endpoint a: certwatch fingerprint equals openssl s_client -servername a.test"
same_fp "$(json_endpoint "$cw_out" nginx b served.sha256)" "$ref_b" \
	"config endpoint b: certwatch fingerprint equals openssl s_client -servername b.test"
is "$(json_endpoint "$cw_out" nginx a state)/$(json_endpoint "$cw_out" nginx b state)" OK/OK \
	"config: both endpoints OK"

write_conf "$TEST_TMP/etc/certwatch.conf" <<EOF
service nginx {
	address = "127.0.0.1"
	name = "a.test"
	cert = "$TEST_TMP/a2.fullchain.pem"
	key = "$TEST_TMP/a2.key"
	endpoint a { port = $port }
	endpoint b {
		port = $port
		name = "b.test"
		cert = "$TEST_TMP/b.fullchain.pem"
		key = "$TEST_TMP/b.key"
	}
}
EOF
cw check --config "$TEST_TMP/etc/certwatch.conf" --json
is "$(json_endpoint "$cw_out" nginx a state)" STALE \
	"config: endpoint a inherits the service's renewed pair and is STALE"
is "$(json_endpoint "$cw_out" nginx b state)" OK \
	"config: endpoint b's own pair overrides the service's and is OK"
like "$cw_rc" '^[12]$' "config: one stale endpoint makes the whole check non-zero"

cw check --config "$TEST_TMP/etc/certwatch.conf" --service nginx --json
is "$(json_get "$cw_out" endpoints.1.service)" nginx "config --service nginx: the service's endpoints are checked"

# ---- IPv6 loopback -----------------------------------------------------------------

if [ -n "$port6" ] && wait_port ::1 "$port6" 5; then
	ref6=$(served_fp ::1 "$port6" - b.test)
	is "$ref6" "$fp_b" "nginx on [::1] serves b.test's certificate to SNI b.test (openssl s_client)"
	cw check --connect "[::1]:$port6" --name b.test --json
	same_fp "$(json_get "$cw_out" endpoints.0.served.sha256)" "$ref6" \
		"nginx on [::1]: certwatch fingerprint equals openssl s_client's"
	is "$(json_get "$cw_out" endpoints.0.probe.status)" ok "nginx on [::1]: probe status ok"
else
	skip "::1 is not usable on this machine"
fi

ok "nginx is still running after every probe" kill -0 "$nginx_pid"
done_testing
