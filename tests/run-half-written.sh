#!/bin/sh
# A half-written renewal: the new certificate is on disk with the old key
# for longer than settle.  The daemon must not reload (the pair is not
# valid: reloading would take nginx down), must say DISK-INVALID with "does
# not belong" in its log and in `certwatch status` (exit 2), and must
# reload and verify once the key arrives.
. "$TESTS_SRCDIR/lib.sh"

require_root
require_cmd nginx openssl
require_certwatch_check
port_range 8

ca_init || bail_out "cannot make the test CA"
ca_leaf "$TEST_TMP/A" 60 web.test || bail_out "cannot make a certificate"
ca_leaf "$TEST_TMP/B" 90 web.test || bail_out "cannot make a certificate"
fp_a=$(cert_fp "$TEST_TMP/A.crt")
fp_b=$(cert_fp "$TEST_TMP/B.crt")
live="$TEST_TMP/live/web.test"
disk_install rename "$live" "$TEST_TMP/A" || bail_out "cannot lay out the files"

port=$(free_port)
nginx_start "$port" <<NGINX || bail_out "nginx did not start"
	server {
		listen 127.0.0.1:$port ssl;
		server_name web.test;
		ssl_certificate $live/fullchain.pem;
		ssl_certificate_key $live/privkey.pem;
	}
NGINX

conf="$TEST_TMP/etc/certwatch.conf"
write_conf "$conf" <<CONF
interval = "1h"
settle = "1s"
state-dir = "$TEST_TMP/state"
service web {
	cert = "$live/fullchain.pem"
	key = "$live/privkey.pem"
	name = "web.test"
	address = "127.0.0.1"
	reload-command = $(nginx_reload_argv)
	endpoint https { port = $port }
}
CONF

daemon_start "$conf"
ok "the daemon starts and settles with the endpoint OK" wait_for 30 status_all_ok "$conf"

# ---- the new certificate, the old key ------------------------------------------

mark=$(log_mark)
cp "$TEST_TMP/B.fullchain.pem" "$live/.fullchain.pem.tmp" &&
	mv -f "$live/.fullchain.pem.tmp" "$live/fullchain.pem"
t_half=$(now_ms)
ok "new certificate, old key: the daemon logs DISK-INVALID, the key does not belong" \
	wait_log "$mark" "web/https: DISK-INVALID: .*does not belong" 20 ||
	diag "$(log_since "$mark")"
# Three times settle with the mismatched pair, then look.
while [ $(($(now_ms) - t_half)) -lt 3000 ]; do
	sleep 0.2
done
cw status --config "$conf" --json
is "$cw_rc" 2 "certwatch status exits 2 while the pair on disk is invalid"
is "$(json_endpoint "$cw_out" web https state)" DISK-INVALID "status: the endpoint is DISK-INVALID"
like "$(json_endpoint "$cw_out" web https reason)" "does not belong" \
	"status: the reason says the key does not belong to the certificate"
is "$(json_endpoint "$cw_out" web https disk_sha256)" "$fp_b" "status: the disk certificate is the new one"
cw status --config "$conf"
like "$cw_out" "DISK-INVALID" "the status table shows DISK-INVALID"
is "$(log_count "$mark" 'web: reloading')" 0 "no reload with a certificate and a key that do not match"
is "$(served_fp 127.0.0.1 "$port" - web.test)" "$fp_a" "nginx still serves the old certificate (openssl s_client)"

# ---- the key arrives ----------------------------------------------------------------

mark=$(log_mark)
cp "$TEST_TMP/B.key" "$live/.privkey.pem.tmp" && mv -f "$live/.privkey.pem.tmp" "$live/privkey.pem"
t_key=$(now_ms)
if ok "once the key arrives, the reload is verified" wait_log "$mark" "web: reload verified" 20; then
	diag "verified $(ms_to_s $((log_ms - t_key))) s after the key arrived"
else
	diag "$(log_since "$mark")"
fi
is "$(log_count "$mark" 'web: reloading')" 1 "exactly one reload once the pair is whole"
is "$(served_fp 127.0.0.1 "$port" - web.test)" "$fp_b" "nginx serves the new certificate (openssl s_client)"
ok "status settles with the endpoint OK" wait_for 10 status_all_ok "$conf"
is "$cw_rc" 0 "certwatch status exits 0 once the new certificate is served"

daemon_stop
is "$daemon_rc" 0 "the daemon stops on SIGTERM with status 0"
daemon_log_clean
done_testing
