#!/bin/sh
# A private Postfix instance: smtpd with STARTTLS on a high loopback port.
# certwatch's fingerprint must equal openssl s_client -starttls smtp's, and
# the served/disk comparison must hold through Postfix's dialogue.
. "$TESTS_SRCDIR/lib.sh"

server_test 3 postfix postconf openssl

ca_leaves 60 mx.test mx
ca_leaves 90 mx.test mx2
fp=$(leaf_fp mx)
fp2=$(leaf_fp mx2)
# The files Postfix reads, replaced in place later on (the stale case).
mkdir -p "$TEST_TMP/live"
cp "$TEST_TMP/mx.fullchain.pem" "$TEST_TMP/live/fullchain.pem"
cp "$TEST_TMP/mx.key" "$TEST_TMP/live/privkey.pem"

postfix_start "$TEST_TMP/live/fullchain.pem" "$TEST_TMP/live/privkey.pem" ||
	bail_out "postfix did not start"

ref=$(served_fp 127.0.0.1 "$pf_smtp" smtp mx.test)
is "$ref" "$fp" "postfix smtp STARTTLS: openssl s_client sees the configured certificate"

cw check --connect "127.0.0.1:$pf_smtp" --starttls smtp --name mx.test --json
same_fp "$(json_get "$cw_out" endpoints.0.served.sha256)" "$ref" \
	"postfix smtp STARTTLS: certwatch fingerprint equals openssl s_client's"
is "$(json_get "$cw_out" endpoints.0.probe.status)" ok "postfix smtp STARTTLS: probe status ok"
is "$(json_get "$cw_out" endpoints.0.protocol)" smtp "postfix smtp STARTTLS: protocol smtp"

cw check --connect "127.0.0.1:$pf_smtp" --starttls smtp --name mx.test \
	--cert "$TEST_TMP/mx.fullchain.pem" --key "$TEST_TMP/mx.key" --json
is "$(json_get "$cw_out" endpoints.0.state)/$cw_rc" OK/0 \
	"postfix with the served certificate on disk: state OK, exit 0"

cw check --connect "127.0.0.1:$pf_smtp" --starttls smtp --name mx.test \
	--cert "$TEST_TMP/mx2.fullchain.pem" --key "$TEST_TMP/mx2.key" --json
is "$(json_get "$cw_out" endpoints.0.state)" STALE \
	"postfix with a renewed certificate on disk, not reloaded: state STALE"
is "$(json_get "$cw_out" endpoints.0.served.sha256) $(json_get "$cw_out" endpoints.0.disk.sha256)" \
	"$fp $fp2" "postfix stale: JSON has the served and the disk fingerprint"
like "$cw_rc" '^[12]$' "postfix stale: exit 1 or 2"

write_conf "$TEST_TMP/etc/certwatch.conf" <<CONF
service postfix {
	cert = "$TEST_TMP/live/fullchain.pem"
	key = "$TEST_TMP/live/privkey.pem"
	name = "mx.test"
	address = "127.0.0.1"
	endpoint smtp { port = $pf_smtp starttls = "smtp" }
}
CONF
cw check --config "$TEST_TMP/etc/certwatch.conf" --json
is "$(json_endpoint "$cw_out" postfix smtp served.sha256)/$cw_rc" "$fp/0" \
	"postfix from a configuration file: the served fingerprint, exit 0"

# Several probes in a row: smtpd's process reuse must not matter.
n=0
for _ in 1 2 3; do
	cw check --connect "127.0.0.1:$pf_smtp" --starttls smtp --name mx.test --json
	[ "$(json_get "$cw_out" endpoints.0.served.sha256)" = "$fp" ] && n=$((n + 1))
done
is "$n" 3 "postfix: three probes in a row all see the certificate"

# Renewal without a reload: smtpd keeps the old certificate in memory.
cp "$TEST_TMP/mx2.fullchain.pem" "$TEST_TMP/live/fullchain.pem"
cp "$TEST_TMP/mx2.key" "$TEST_TMP/live/privkey.pem"
cw check --config "$TEST_TMP/etc/certwatch.conf" --json
is "$(json_endpoint "$cw_out" postfix smtp state)" STALE \
	"postfix after the files were renewed, not reloaded: STALE"
is "$(json_endpoint "$cw_out" postfix smtp served.sha256) $(json_endpoint "$cw_out" postfix smtp disk.sha256)" \
	"$fp $fp2" "postfix after renewal: served is the old certificate, disk the new one"

postfix -c "$POSTFIX_DIR" reload >/dev/null 2>&1 || diag "postfix reload failed"
deadline=$(($(now_ms) + 10000))
while :; do
	cw check --config "$TEST_TMP/etc/certwatch.conf" --json
	[ "$cw_rc" -eq 0 ] && break
	[ "$(now_ms)" -ge "$deadline" ] && break
	sleep 0.3
done
is "$(json_endpoint "$cw_out" postfix smtp served.sha256)/$cw_rc" "$fp2/0" \
	"postfix after postfix reload: the new certificate is served, exit 0"

ok "postfix is still running after every probe" postfix -c "$POSTFIX_DIR" status
done_testing
