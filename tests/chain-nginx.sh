#!/bin/sh
# The whole served chain, not the leaf alone, against a private nginx.
# "a" serves its leaf with an intermediate that has expired (the 2020
# AddTrust case: a re-issued intermediate on the same key exists); "b"
# serves its leaf without its intermediate.  The administrators fix the
# chains on disk and keep the leaves: certwatch must say STALE ("the chain
# on disk differs: reload pending"), name the expired certificate served,
# and the daemon must reload nginx and verify that the new chains are
# served.  The test's root is the trust store (SSL_CERT_FILE), so that
# trust is judged as on a real host.
. "$TESTS_SRCDIR/lib.sh"

server_test 42 nginx openssl

SSL_CERT_FILE=$CA_DIR/root.pem
export SSL_CERT_FILE
ca_intermediate "$TEST_TMP/int-old" -400 -2 || bail_out "cannot make the expired intermediate"
ca_intermediate "$TEST_TMP/int-new" -1 700 "$TEST_TMP/int-old.key" ||
	bail_out "cannot re-issue the intermediate"
CA_ISSUER=$TEST_TMP/int-new ca_leaf "$TEST_TMP/a" 60 a.test || bail_out "cannot make a's leaf"
CA_ISSUER=$TEST_TMP/int-new ca_leaf "$TEST_TMP/b" 60 b.test || bail_out "cannot make b's leaf"
fp_new=$(cert_fp "$TEST_TMP/int-new.crt")
fp_old=$(cert_fp "$TEST_TMP/int-old.crt")

# Served: a with the expired intermediate, b with none.
for n in a b; do
	mkdir -p "$TEST_TMP/live/$n" && cp "$TEST_TMP/$n.key" "$TEST_TMP/live/$n/privkey.pem" ||
		bail_out "cannot lay out $n's files"
done
cat "$TEST_TMP/a.crt" "$TEST_TMP/int-old.crt" >"$TEST_TMP/live/a/fullchain.pem"
cp "$TEST_TMP/b.crt" "$TEST_TMP/live/b/fullchain.pem"
port=$(free_port)
nginx_start "$port" <<NGINX || bail_out "nginx did not start"
	server {
		listen 127.0.0.1:$port ssl;
		server_name a.test;
		ssl_certificate $TEST_TMP/live/a/fullchain.pem;
		ssl_certificate_key $TEST_TMP/live/a/privkey.pem;
	}
	server {
		listen 127.0.0.1:$port ssl;
		server_name b.test;
		ssl_certificate $TEST_TMP/live/b/fullchain.pem;
		ssl_certificate_key $TEST_TMP/live/b/privkey.pem;
	}
NGINX

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	cat <<CONF
service web {
	address = "127.0.0.1"
	reload-command = $(nginx_reload_argv)
	endpoint a {
		port = $port
		name = "a.test"
		cert = "$TEST_TMP/live/a/fullchain.pem"
		key = "$TEST_TMP/live/a/privkey.pem"
	}
	endpoint b {
		port = $port
		name = "b.test"
		cert = "$TEST_TMP/live/b/fullchain.pem"
		key = "$TEST_TMP/live/b/privkey.pem"
	}
}
CONF
} | write_conf "$conf"

# ---- the chains served are the ones on disk ------------------------------------

cw check --config "$conf" --json
is "$(json_endpoint "$cw_out" web a state)/$(json_endpoint "$cw_out" web a severity)" \
	SERVED-INVALID/CRITICAL \
	"a serves the expired intermediate on disk: SERVED-INVALID, CRITICAL (the chain does not verify)"
like "$(json_endpoint "$cw_out" web a reason)" "served chain holds CN=certwatch test intermediate, expired on .*the chain on disk is the same" \
	"a: the reason names the expired certificate and says the files hold it too"
is "$(json_endpoint "$cw_out" web a served.chain.0.sha256)" "$fp_old" \
	"a: the JSON lists the served chain, the expired intermediate first"
is "$(json_endpoint "$cw_out" web b state)/$(json_endpoint "$cw_out" web b served.verified)" OK/false \
	"b serves its leaf alone, as on disk: OK, and the JSON says the chain does not verify"

# ---- the chains fixed on disk, the leaves kept -----------------------------------------

cat "$TEST_TMP/a.crt" "$TEST_TMP/int-new.crt" >"$TEST_TMP/live/a/.new" &&
	mv -f "$TEST_TMP/live/a/.new" "$TEST_TMP/live/a/fullchain.pem"
cat "$TEST_TMP/b.crt" "$TEST_TMP/int-new.crt" >"$TEST_TMP/live/b/.new" &&
	mv -f "$TEST_TMP/live/b/.new" "$TEST_TMP/live/b/fullchain.pem"

cw check --config "$conf" --json
is "$cw_rc" 2 "chains fixed on disk, not reloaded: exit 2"
for n in a b; do
	is "$(json_endpoint "$cw_out" web $n state)/$(json_endpoint "$cw_out" web $n action)" STALE/reload \
		"$n: the same leaf with another chain on disk: STALE, reload"
	like "$(json_endpoint "$cw_out" web $n reason)" "the chain on disk differs: reload pending" \
		"$n: the reason says the chain on disk differs"
	is "$(json_endpoint "$cw_out" web $n served.sha256)" "$(json_endpoint "$cw_out" web $n disk.sha256)" \
		"$n: the leaf served is the leaf on disk"
	is "$(json_endpoint "$cw_out" web $n disk.chain.0.sha256)" "$fp_new" \
		"$n: the JSON lists the chain on disk: the re-issued intermediate"
done
like "$(json_endpoint "$cw_out" web a reason)" "expired on" "a: the expired intermediate still served is said"
is "$(json_endpoint "$cw_out" web b severity)/$(json_endpoint "$cw_out" web b disk.trusted)" CRITICAL/true \
	"b: the chain on disk leads to the trusted root while the served one does not: CRITICAL"

# ---- the daemon reloads and verifies the chains -------------------------------------

mark=$(log_mark)
daemon_start "$conf"
ok "the daemon reloads nginx for the chains and verifies them" \
	wait_log "$mark" "web: reload verified" 30 || diag "$(log_since "$mark")"
cw check --config "$conf" --json
is "$cw_rc/$(json_endpoint "$cw_out" web a state)/$(json_endpoint "$cw_out" web b state)" 0/OK/OK \
	"after the reload both endpoints are OK, exit 0"
for n in a b; do
	is "$(json_endpoint "$cw_out" web $n served.chain.0.sha256)/$(json_endpoint "$cw_out" web $n served.verified)" \
		"$fp_new/true" "$n: nginx serves the re-issued intermediate, and the chain verifies"
done
# ---- a chain on disk worse than the served one is not deployed ---------------------

# The expired intermediate put back on disk for a, the leaf kept: a reload
# would serve a chain that clients reject, where the served one verifies.
mark=$(log_mark)
cat "$TEST_TMP/a.crt" "$TEST_TMP/int-old.crt" >"$TEST_TMP/live/a/.new" &&
	mv -f "$TEST_TMP/live/a/.new" "$TEST_TMP/live/a/fullchain.pem"
cw check --config "$conf" --json
is "$(json_endpoint "$cw_out" web a state)/$(json_endpoint "$cw_out" web a action)/$(json_endpoint "$cw_out" web a severity)" \
	DISK-INVALID/none/CRITICAL \
	"a: an expired intermediate on disk, the served chain verifying: DISK-INVALID, no reload, CRITICAL"
like "$(json_endpoint "$cw_out" web a reason)" \
	"the chain on disk does not lead to a trusted root \\(certificate has expired\\) while the served one does; no reload" \
	"a: the reason says why the files are not deployed"
ok "the daemon says a's files are not usable" \
	wait_log "$mark" "web/a: DISK-INVALID: the chain on disk does not lead to a trusted root" 30 ||
	diag "$(log_since "$mark")"
is "$(reloads_started "$mark" web)" 0 "and it does not reload nginx for them"
cw check --config "$conf" --json
is "$(json_endpoint "$cw_out" web a served.chain.0.sha256)" "$fp_new" \
	"nginx still serves the re-issued intermediate"

# A renewed leaf (on a's key) with the expired intermediate again: the
# renewal wants a reload, which a's chain holds back; the log and status
# must say it is the chain, not call a valid pair invalid.
CA_ISSUER=$TEST_TMP/int-new CA_KEY_FILE=$TEST_TMP/a.key ca_leaf "$TEST_TMP/a2" 90 a.test ||
	bail_out "cannot renew a's leaf"
mark=$(log_mark)
cat "$TEST_TMP/a2.crt" "$TEST_TMP/int-old.crt" >"$TEST_TMP/live/a/.new" &&
	mv -f "$TEST_TMP/live/a/.new" "$TEST_TMP/live/a/fullchain.pem"
ok "a renewed with the expired intermediate: the log says the chain holds the reload" \
	wait_log "$mark" "web: reload held: a: the chain on disk does not lead to a trusted root \\(certificate has expired\\)" 30 ||
	diag "$(log_since "$mark")"
cw status --config "$conf" --json
like "$(json_service "$cw_out" web reload_held)" \
	"^a: the chain on disk does not lead to a trusted root \\(certificate has expired\\): no reload of web" \
	"status: the reload is held by a's chain, and says why"
unlike "$(log_since "$mark")" "the pair on disk is not valid" "nothing calls a's valid pair invalid"
is "$(reloads_started "$mark" web)" 0 "and nginx is not reloaded for the renewal"

daemon_stop_ok
daemon_log_clean
done_testing
