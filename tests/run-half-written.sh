#!/bin/sh
# A half-written renewal: the new certificate is on disk with the old key
# for longer than settle.  The daemon must not reload (the pair is not
# valid: reloading would take nginx down), must say DISK-INVALID with "does
# not belong" in its log and in `certwatch status` (exit 2), and must
# reload and verify once the key arrives.
. "$TESTS_SRCDIR/lib.sh"

server_test 8 nginx openssl

ca_leaves 60 web.test A
ca_leaves 90 web.test B
fp_a=$(leaf_fp A)
fp_b=$(leaf_fp B)
web_fixture rename web.test=A
live=$(web_live web.test)
port=$(web_port web.test)

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	web_service web web.test "reload-command = $(nginx_reload_argv)"
} | write_conf "$conf"

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
is "$(reloads_started "$mark" web)" 0 "no reload with a certificate and a key that do not match"
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
is "$(reloads_started "$mark" web)" 1 "exactly one reload once the pair is whole"
is "$(served_fp 127.0.0.1 "$port" - web.test)" "$fp_b" "nginx serves the new certificate (openssl s_client)"
ok "status settles with the endpoint OK" wait_for 10 status_all_ok "$conf"
is "$cw_rc" 0 "certwatch status exits 0 once the new certificate is served"

daemon_stop_ok
daemon_log_clean
done_testing
