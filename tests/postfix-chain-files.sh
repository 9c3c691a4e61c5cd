#!/bin/sh
# Postfix's smtpd_tls_chain_files wants each key first, then its
# certificate and chain; it refuses anything else and offers no STARTTLS at
# all ("key not first", "454 4.7.0 TLS not available").  A private Postfix
# loads one combined file; a renewal written certificate-first must be
# DISK-INVALID with Postfix's reason and must not be reloaded into (smtpd
# processes already running keep the old pair; a new one reads the broken
# file by itself); written key-first, it is reloaded and verified.
# Then one file with an RSA and an ECDSA pair, one endpoint per key type.
. "$TESTS_SRCDIR/lib.sh"

server_test 44 postfix postconf openssl

ca_leaves 60 mx.test k0 k1
CA_KEY=rsa ca_leaf "$TEST_TMP/r2" 61 mx.test || bail_out "cannot make r2"
ca_leaf "$TEST_TMP/e2" 61 mx.test || bail_out "cannot make e2"
live=$TEST_TMP/live
mkdir -p "$live"
combined=$live/combined.pem
# write_combined FILES...: the files concatenated into the combined file, by a rename.
write_combined() {
	cat "$@" >"$live/.combined.tmp" && mv -f "$live/.combined.tmp" "$combined"
}
write_combined "$TEST_TMP/k0.key" "$TEST_TMP/k0.fullchain.pem"

postfix_start "$TEST_TMP/k0.fullchain.pem" "$TEST_TMP/k0.key" || bail_out "postfix did not start"
postconf -c "$POSTFIX_DIR" -e "smtpd_tls_chain_files = $combined" smtpd_tls_cert_file= \
	smtpd_tls_key_file= && postfix -c "$POSTFIX_DIR" reload >/dev/null 2>&1 ||
	bail_out "cannot switch postfix to smtpd_tls_chain_files"
serves() {    # PREFIX [SIGALGS]: postfix serves that certificate over STARTTLS
	[ "$(served_fp 127.0.0.1 "$pf_smtp" smtp mx.test ${2:+-sigalgs "$2"})" = "$(leaf_fp "$1")" ]
}
ok "postfix serves the combined file's pair (openssl s_client -starttls smtp)" wait_for 15 serves k0

conf="$TEST_TMP/etc/certwatch.conf"
# service LINE...: the postfix service on the combined file, with the LINEs.
service() {
	printf 'service postfix {\n\tcert = "%s"\n\tkey = "%s"\n' "$combined" "$combined"
	printf '\tpair-format = "postfix-chain-files"\n\tname = "mx.test"\n'
	printf '\taddress = "127.0.0.1"\n'
	printf '\t%s\n' "$@"
	printf '}\n'
}
{
	daemon_conf
	service "reload-command = $(postfix_reload_argv)" \
		"endpoint smtp { port = $pf_smtp starttls = \"smtp\" }"
} | write_conf "$conf"

cw --config "$conf" --test-config
like "$cw_out" 'pair-format = "postfix-chain-files"' "--test-config shows the pair format"
daemon_start "$conf"
ok "the daemon starts and settles with the endpoint OK" wait_for 30 status_all_ok "$conf"

# ---- a renewal written certificate-first ---------------------------------------------

mark=$(log_mark)
write_combined "$TEST_TMP/k1.fullchain.pem" "$TEST_TMP/k1.key"
ok "certificate first: DISK-INVALID with Postfix's reason" \
	wait_log "$mark" "postfix/smtp: DISK-INVALID: Postfix refuses .*combined.pem as smtpd_tls_chain_files \\(and offers no TLS\\): key not first" 20 ||
	diag "$(log_since "$mark")"
cw check --config "$conf" --json
is "$(json_endpoint "$cw_out" postfix smtp disk.status)" refused "check: the pair on disk is refused"
is "$(reloads_started "$mark" postfix)" 0 "no reload into a file Postfix refuses"
# Whether STARTTLS still works now is Postfix's affair, not certwatch's: a
# new smtpd process reads the file again, finds it refused and offers no
# TLS, while one already running keeps the old pair; so nothing is said.

# ---- written key-first ------------------------------------------------------------------

mark=$(log_mark)
write_combined "$TEST_TMP/k1.key" "$TEST_TMP/k1.fullchain.pem"
ok "key first: reloaded and verified" wait_log "$mark" "postfix: reload verified" 30 ||
	diag "$(log_since "$mark")"
ok "postfix serves the renewal over STARTTLS" serves k1
daemon_stop_ok
daemon_log_clean

# ---- one file, an RSA and an ECDSA pair ---------------------------------------------------

write_combined "$TEST_TMP/r2.key" "$TEST_TMP/r2.fullchain.pem" "$TEST_TMP/e2.key" \
	"$TEST_TMP/e2.fullchain.pem"
postfix -c "$POSTFIX_DIR" reload >/dev/null 2>&1
ok "postfix serves the RSA pair to a client that offers RSA only" wait_for 15 serves r2 'RSA-PSS+SHA256:RSA+SHA256'
ok "and the ECDSA pair to a client that offers ECDSA only" serves e2 'ECDSA+SHA256'
service "endpoint smtp-rsa { port = $pf_smtp starttls = \"smtp\" key-type = \"rsa\" }" \
	"endpoint smtp-ecdsa { port = $pf_smtp starttls = \"smtp\" key-type = \"ecdsa\" }" |
	write_conf "$conf"
cw check --config "$conf" --json
is "$cw_rc/$(json_endpoint "$cw_out" postfix smtp-rsa state)/$(json_endpoint "$cw_out" postfix smtp-ecdsa state)" \
	0/OK/OK "each key type's endpoint is OK against its own pair of the file"
is "$(json_endpoint "$cw_out" postfix smtp-rsa disk.sha256)/$(json_endpoint "$cw_out" postfix smtp-ecdsa disk.sha256)" \
	"$(leaf_fp r2)/$(leaf_fp e2)" "each endpoint is compared with the pair of its key type"

done_testing
