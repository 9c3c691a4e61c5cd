#!/bin/sh
# The stale case of doc/design.md, for real: Dovecot serves certificate A; the
# files on disk are renewed to B without a reload; certwatch check must say
# STALE with both fingerprints; after `doveadm reload` it must say OK with B.
. "$TESTS_SRCDIR/lib.sh"

server_test 6 dovecot doveadm openssl

ca_leaves 60 mail.test A
ca_leaves 90 mail.test B
fp_a=$(leaf_fp A)
fp_b=$(leaf_fp B)

live="$TEST_TMP/live/mail.test"
mkdir -p "$live"
# install_pair CERT KEY: replaces the live files the way ACME clients do,
# each by a rename, so no reader ever sees half a file.
install_pair() {
	cp "$1" "$live/.fullchain.tmp" && mv -f "$live/.fullchain.tmp" "$live/fullchain.pem" &&
	cp "$2" "$live/.privkey.tmp" && mv -f "$live/.privkey.tmp" "$live/privkey.pem"
}
install_pair "$TEST_TMP/A.fullchain.pem" "$TEST_TMP/A.key"

dovecot_start "$live/fullchain.pem" "$live/privkey.pem" || bail_out "dovecot did not start"

conf="$TEST_TMP/etc/certwatch.conf"
write_conf "$conf" <<CONF
service dovecot {
	cert = "$live/fullchain.pem"
	key = "$live/privkey.pem"
	name = "mail.test"
	address = "127.0.0.1"
	endpoint imaps { port = $dc_imaps }
	endpoint imap { port = $dc_imap starttls = "imap" }
}
CONF

# ---- A served, A on disk ---------------------------------------------------------

cw check --config "$conf" --json
is "$cw_rc" 0 "dovecot serving the certificate on disk: exit 0"
for ep in imaps imap; do
	is "$(json_endpoint "$cw_out" dovecot $ep state)" OK "dovecot $ep serving the certificate on disk: state OK"
	is "$(json_endpoint "$cw_out" dovecot $ep served.sha256)" "$fp_a" "dovecot $ep serves A"
done

# ---- renewed on disk, not reloaded ------------------------------------------------

install_pair "$TEST_TMP/B.fullchain.pem" "$TEST_TMP/B.key"
is "$(served_fp 127.0.0.1 "$dc_imaps" - mail.test)" "$fp_a" \
	"dovecot keeps serving A from memory after the files changed (openssl s_client)"

cw check --config "$conf" --json
like "$cw_rc" '^[12]$' "renewed on disk, not reloaded: exit non-zero (1 or 2)"
case $(json_get "$cw_out" status) in WARNING) want_rc=1 ;; CRITICAL) want_rc=2 ;; *) want_rc="?" ;; esac
is "$cw_rc" "$want_rc" "renewed on disk, not reloaded: exit status matches the JSON status"
for ep in imaps imap; do
	is "$(json_endpoint "$cw_out" dovecot $ep state)" STALE "dovecot $ep after renewal without reload: state STALE"
	is "$(json_endpoint "$cw_out" dovecot $ep served.sha256)" "$fp_a" "dovecot $ep stale: served fingerprint is A"
	is "$(json_endpoint "$cw_out" dovecot $ep disk.sha256)" "$fp_b" "dovecot $ep stale: disk fingerprint is B"
	is "$(json_endpoint "$cw_out" dovecot $ep disk.status)" valid "dovecot $ep stale: the disk pair is valid"
done

cw check --config "$conf"
like "$cw_out" "$(printf %.12s "$fp_a").*$(printf %.12s "$fp_b").*STALE" \
	"the table shows served A, disk B and STALE"

# A half-written renewal (new certificate, old key) is not a valid pair.
cp "$TEST_TMP/A.key" "$live/.privkey.tmp" && mv -f "$live/.privkey.tmp" "$live/privkey.pem"
cw check --config "$conf" --json
is "$(json_endpoint "$cw_out" dovecot imaps state)/$cw_rc" DISK-INVALID/2 \
	"renewed certificate with the old key on disk: DISK-INVALID, exit 2"
install_pair "$TEST_TMP/B.fullchain.pem" "$TEST_TMP/B.key"

# ---- reload ---------------------------------------------------------------------------

doveadm -c "$DOVECOT_CONF" reload >"$TEST_TMP/reload.log" 2>&1
ok "doveadm -c FILE reload succeeds" test $? -eq 0 || diag "$(cat "$TEST_TMP/reload.log")"
deadline=$(($(now_ms) + 10000))
while :; do
	cw check --config "$conf" --json
	[ "$cw_rc" -eq 0 ] && break
	[ "$(now_ms)" -ge "$deadline" ] && break
	sleep 0.3
done
is "$cw_rc" 0 "after doveadm reload: check exits 0 within 10 s"
for ep in imaps imap; do
	is "$(json_endpoint "$cw_out" dovecot $ep state)" OK "dovecot $ep after reload: state OK"
	is "$(json_endpoint "$cw_out" dovecot $ep served.sha256)" "$fp_b" "dovecot $ep after reload: serves B"
done
is "$(served_fp 127.0.0.1 "$dc_imap" imap mail.test)" "$fp_b" \
	"after reload openssl s_client -starttls imap sees B too"

done_testing
