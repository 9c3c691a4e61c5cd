#!/bin/sh
# A service is reloaded only when every pair it will load is valid.  A
# private Dovecot serves a.example.test by default and b.example.test by
# local_name, guarded as `certwatch discover` writes it.  a is renewed
# properly; b gets its new certificate but keeps its old key (a renewal
# cut half-way).  The daemon must not reload Dovecot (b's handshakes would
# fail, and neither `doveconf -n` as reload-check nor the reload itself
# would notice): it logs which endpoint holds the reload back and why, and
# `status` says so.  Once b's key is written too, the reload goes ahead
# and both serve their new certificates.  (On the way: a name written with
# its final dot is sent without it.)
. "$TESTS_SRCDIR/lib.sh"

server_test 41 dovecot doveadm doveconf openssl

ca_leaves 60 a.example.test a0 a1
ca_leaves 60 b.example.test b0 b1 b2
for n in a b; do
	disk_install rename "$TEST_TMP/live/$n" "$TEST_TMP/${n}0" || bail_out "cannot lay out $n's files"
done
A=$TEST_TMP/live/a
B=$TEST_TMP/live/b

dovecot_start "$A/fullchain.pem" "$A/privkey.pem" || bail_out "dovecot did not start"
cat >>"$DOVECOT_CONF" <<CONF
local_name b.example.test {
  ssl_cert = <$B/fullchain.pem
  ssl_key = <$B/privkey.pem
}
CONF
doveadm -c "$DOVECOT_CONF" reload >/dev/null 2>&1 || bail_out "dovecot reload failed"
wait_port 127.0.0.1 "$dc_imaps" 10 || bail_out "dovecot did not come back after its reload"
b_serves_b0() {
	[ "$(served_fp 127.0.0.1 "$dc_imaps" - b.example.test)" = "$(leaf_fp b0)" ]
}
ok "dovecot serves b's certificate to SNI b.example.test (openssl s_client)" wait_for 10 b_serves_b0
# A name as administrators write it, with its final dot: SNI carries it without.
cw check --connect "127.0.0.1:$dc_imaps" --name b.example.test. --cert "$B/fullchain.pem" --json
is "$(json_get "$cw_out" endpoints.0.state)/$(json_get "$cw_out" endpoints.0.served.sha256)" \
	"OK/$(leaf_fp b0)" "--name b.example.test. (a final dot): Dovecot's local_name answers, OK"

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	cat <<CONF
service dovecot {
	cert = "$A/fullchain.pem"
	key = "$A/privkey.pem"
	name = "a.example.test"
	address = "127.0.0.1"
	reload-command = $(dovecot_reload_argv)
	reload-check = $(conf_argv "$(command -v doveconf)" -c "$DOVECOT_CONF" -n)
	endpoint imaps { port = $dc_imaps }
	endpoint b.example.test {
		port = $dc_imaps
		name = "b.example.test"
		cert = "$B/fullchain.pem"
		key = "$B/privkey.pem"
	}
}
CONF
} | write_conf "$conf"

daemon_start "$conf"
ok "the daemon starts and settles with both endpoints OK" wait_for 30 status_all_ok "$conf"

# ---- b half-renewed, a renewed -----------------------------------------------------

mark=$(log_mark)
cp "$TEST_TMP/b1.fullchain.pem" "$B/.fullchain.tmp" && mv -f "$B/.fullchain.tmp" "$B/fullchain.pem"
disk_renew rename "$A" "$TEST_TMP/a1"
ok "the log names the endpoint that holds the reload back, and why" \
	wait_log "$mark" "dovecot: reload held: b.example.test: the pair on disk is not valid \\(key file .*does not belong to the certificate.*\\): no reload of dovecot until it is" 30 ||
	diag "$(log_since "$mark")"
is "$(reloads_started "$mark" dovecot)" 0 "no reload was started"
unlike "$(log_since "$mark")" "reload-check passed" "nothing claims the pair on disk is valid"
cw check --config "$conf" --json
is "$(json_endpoint "$cw_out" dovecot imaps state)/$(json_endpoint "$cw_out" dovecot b.example.test state)" \
	STALE/DISK-INVALID "check: a is STALE, b is DISK-INVALID"
cw status --config "$conf" --json
like "$(json_service "$cw_out" dovecot reload_held)" "^b.example.test: the pair on disk is not valid" \
	"status --json: the reload is held by b, and says why"
cw status --config "$conf"
like "$cw_out" "dovecot .*reload held: b.example.test: the pair on disk is not valid" \
	"the status table says the reload is held by b"
is "$(served_fp 127.0.0.1 "$dc_imaps" - b.example.test)" "$(leaf_fp b0)" \
	"b's clients still get b's old certificate: its handshakes work"
is "$(served_fp 127.0.0.1 "$dc_imaps" - a.example.test)" "$(leaf_fp a0)" \
	"a is still served from memory"

# ---- b's key written too ---------------------------------------------------------------

mark=$(log_mark)
cp "$TEST_TMP/b1.key" "$B/.privkey.tmp" && mv -f "$B/.privkey.tmp" "$B/privkey.pem"
ok "b's renewal completed: the reload goes ahead and is verified" \
	wait_log "$mark" "dovecot: reload verified" 40 || diag "$(log_since "$mark")"
is "$(served_fp 127.0.0.1 "$dc_imaps" - a.example.test)" "$(leaf_fp a1)" "a serves its new certificate"
is "$(served_fp 127.0.0.1 "$dc_imaps" - b.example.test)" "$(leaf_fp b1)" "b serves its new certificate"
cw status --config "$conf" --json
is "$(json_service "$cw_out" dovecot reload_held)" null "status: nothing holds a reload any more"

# ---- b alone half-renewed --------------------------------------------------------------
# Nothing else wants a reload: the renewal itself does, and b's broken pair
# holds it back; the log and status still say which endpoint and why.

mark=$(log_mark)
cp "$TEST_TMP/b2.fullchain.pem" "$B/.fullchain.tmp" && mv -f "$B/.fullchain.tmp" "$B/fullchain.pem"
ok "b alone half-renewed: the log names b and why the reload is held" \
	wait_log "$mark" "dovecot: reload held: b.example.test: the pair on disk is not valid \\(key file .*does not belong to the certificate.*\\): no reload of dovecot until it is" 30 ||
	diag "$(log_since "$mark")"
unlike "$(log_since "$mark")" "reload held: *\\[" "no \"reload held\" line without a reason"
cw status --config "$conf" --json
like "$(json_service "$cw_out" dovecot reload_held)" "^b.example.test: the pair on disk is not valid" \
	"status --json says b holds the reload, and why"
is "$(reloads_started "$mark" dovecot)" 0 "no reload was started"

daemon_stop_ok
daemon_log_clean
done_testing
