#!/bin/sh
# "Reload verified" holds for every new connection, and a verification
# follows the newest files:
#  - a server whose old process still answers every second connection for
#    3 s after its reload (tests/peer.py --mode reloading --linger, standing
#    in for nginx's old workers and Postfix's old smtpd) is not called
#    verified before those 3 s are over, and 20 fresh connections right
#    after "verified" all get the new certificate;
#  - a reload whose result is never served fails with what is served
#    instead, by which endpoint, for how long;
#  - a server that loads a renewal by itself (the same peer without a
#    reload file, standing in for Exim or ProFTPD) returns to OK within
#    seconds, without a reload, whatever the interval;
#  - a renewal of a second lineage of one service while the first one's
#    reload is being verified (the old process still answering) fails
#    nothing: both renewals are served, no reload is counted failed.
#  - a renewal that a fresh connection gets before any reload (Postfix's
#    new smtpd processes read it, the busy old ones keep the old pair) is
#    reloaded all the same, and verified.
. "$TESTS_SRCDIR/lib.sh"

server_test 33 openssl

ca_leaves 60 peer.test p0 p1 p2 q0 q1 r0 r1
ca_leaves 60 a.test a0 a1
ca_leaves 60 b.test b0 b1

# ---- the scripted peers -----------------------------------------------------------

for s in p q; do
	disk_install rename "$TEST_TMP/live/$s" "$TEST_TMP/${s}0"
done
port_p=$(free_port)
: >"$TEST_TMP/p.reload"
peer reloading "$port_p" --cert "$TEST_TMP/live/p/fullchain.pem" \
	--key "$TEST_TMP/live/p/privkey.pem" --reload-file "$TEST_TMP/p.reload" --linger 3
port_q=$(free_port)
peer reloading "$port_q" --cert "$TEST_TMP/live/q/fullchain.pem" \
	--key "$TEST_TMP/live/q/privkey.pem" --self-reload 2

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	conf_service p peer.test "$TEST_TMP/live/p" \
		"reload-command = {\"$(command -v touch)\", \"$TEST_TMP/p.reload\"}" \
		"endpoint tls { port = $port_p }"
	conf_service q peer.test "$TEST_TMP/live/q" "endpoint tls { port = $port_q }"
} | write_conf "$conf"

daemon_start "$conf"
ok "the daemon starts and settles with every endpoint OK" wait_for 30 status_all_ok "$conf"

# ---- an old process lingers after the reload ------------------------------------

mark=$(log_mark)
disk_renew rename "$TEST_TMP/live/p" "$TEST_TMP/p1"
ok "p: the renewal is reloaded" wait_log "$mark" "p: the pair on disk is valid; reloading" 20 ||
	diag "$(log_since "$mark")"
t_reload=$log_ms
if ok "p: the reload is verified" wait_log "$mark" "p: reload verified" 30; then
	diag "verified $(ms_to_s $((log_ms - t_reload))) s after the reload started"
	ok "p: not before the old process stopped answering (3 s)" \
		test $((log_ms - t_reload)) -ge 3000
else
	diag "$(log_since "$mark")"
fi
old=0
for i in $(seq 20); do
	[ "$(served_fp 127.0.0.1 "$port_p" - peer.test)" = "$(leaf_fp p1)" ] || old=$((old + 1))
done
is "$old" 0 "p: 20 fresh connections right after \"verified\" all get the new certificate"
is "$(log_count "$mark" 'reload failed')" 0 "p: no reload failed"
is "$(log_count "$mark" 'p/tls: OK')" 1 \
	"p: OK is logged once, at the end of the verification, not pass by pass"

# ---- a reload that is never served ---------------------------------------------

{
	daemon_conf
	conf_service p peer.test "$TEST_TMP/live/p" "reload-command = {\"/bin/true\"}" \
		'verify-timeout = "2s"' 'max-failures = 1' "endpoint tls { port = $port_p }"
	conf_service q peer.test "$TEST_TMP/live/q" "endpoint tls { port = $port_q }"
} | write_conf "$conf"
mark=$(log_mark)
kill -HUP "$daemon_pid"
ok "p: a reload command that reloads nothing" \
	wait_log "$mark" "configuration re-read: 2 services" 20 || diag "$(log_since "$mark")"
disk_renew rename "$TEST_TMP/live/p" "$TEST_TMP/p2"
served=$(leaf_fp p1 | cut -c1-12)
wanted=$(leaf_fp p2 | cut -c1-12)
ok "p: the failure names the endpoint, what it serves, for how long, and what was expected" \
	wait_log "$mark" "p: failures in a row: 1 \\(tls still serves $served after 2s, expected $wanted; the reload: ok \\(exited with status 0\\)\\)" 30 ||
	diag "$(log_since "$mark")"
cw status --config "$conf" --json
like "$(json_service "$cw_out" p last_result)" "tls still serves $served after 2s, expected $wanted" \
	"p: certwatch status says the same"

# ---- a server that loads its renewal by itself ----------------------------------------

mark=$(log_mark)
disk_renew rename "$TEST_TMP/live/q" "$TEST_TMP/q1"
t_renew=$(now_ms)
ok "q: the renewal is seen as STALE" wait_log "$mark" "q/tls: STALE" 20 || diag "$(log_since "$mark")"
if ok "q: it is OK again once the server has loaded it by itself, with the interval at 1 h" \
	wait_log "$mark" "q/tls: OK" 30; then
	diag "OK again $(ms_to_s $((log_ms - t_renew))) s after the renewal (the server takes 2 s)"
else
	diag "$(log_since "$mark")"
fi
is "$(reloads_started "$mark" q)" 0 "q: nothing was reloaded"

daemon_stop_ok

# ---- a second lineage renewed while the first one's reload is verified ------------------

# One service, two lineages on two endpoints of a server whose old process
# answers every second connection for 3 s after a reload (as nginx's old
# workers do); the reload reloads both.  b is renewed while a's reload is
# still being verified.
for s in a b; do
	disk_install rename "$TEST_TMP/live/$s" "$TEST_TMP/${s}0"
done
: >"$TEST_TMP/w.reload"
port_a=$(free_port)
port_b=$(free_port)
peer reloading "$port_a" --cert "$TEST_TMP/live/a/fullchain.pem" \
	--key "$TEST_TMP/live/a/privkey.pem" --reload-file "$TEST_TMP/w.reload" --linger 3
peer reloading "$port_b" --cert "$TEST_TMP/live/b/fullchain.pem" \
	--key "$TEST_TMP/live/b/privkey.pem" --reload-file "$TEST_TMP/w.reload" --linger 3
{
	daemon_conf
	printf 'service w {\n\treload-command = {"%s", "%s"}\n' "$(command -v touch)" "$TEST_TMP/w.reload"
	for n in a b; do
		eval "port=\$port_$n"
		printf '\tendpoint %s {\n\t\tport = %s\n\t\taddress = "127.0.0.1"\n' "$n" "$port"
		printf '\t\tname = "%s.test"\n\t\tcert = "%s/fullchain.pem"\n' "$n" "$TEST_TMP/live/$n"
		printf '\t\tkey = "%s/privkey.pem"\n\t}\n' "$TEST_TMP/live/$n"
	done
	printf '}\n'
} | write_conf "$conf"
daemon_start "$conf"
ok "w: the daemon guards one service with two lineages" wait_for 30 status_all_ok "$conf"
mark=$(log_mark)
disk_renew rename "$TEST_TMP/live/a" "$TEST_TMP/a1"
ok "w: a's renewal is reloaded" \
	wait_log "$mark" "w: the pair on disk is valid; reloading" 20 || diag "$(log_since "$mark")"
disk_renew rename "$TEST_TMP/live/b" "$TEST_TMP/b1"
ok "w: b renewed while a's reload is verified: a's reload is verified" \
	wait_log "$mark" "w: reload verified" 30 || diag "$(log_since "$mark")"
ok "w: then b's renewal is reloaded and verified, both endpoints OK" \
	wait_for 60 status_all_ok "$conf"
is "$(log_count "$mark" 'reload failed')" 0 "w: no reload failed"
is "$(json_service "$cw_out" w failures)" 0 "w: no failure counted"
is "$(served_fp 127.0.0.1 "$port_a" - a.test)/$(served_fp 127.0.0.1 "$port_b" - b.test)" \
	"$(leaf_fp a1)/$(leaf_fp b1)" "w: both renewals are served (openssl s_client)"

daemon_stop_ok

# ---- a renewal served on a fresh connection before any reload ------------------------

# The peer serves the renewal to fresh connections at once, as Postfix's
# smtpd processes started after it do; the ones started before, busy with
# long sessions, would keep the old pair until a reload, and no probe can
# reach them: the daemon reloads all the same.
disk_install rename "$TEST_TMP/live/r" "$TEST_TMP/r0"
: >"$TEST_TMP/r.reload"
port_r=$(free_port)
peer reloading "$port_r" --cert "$TEST_TMP/live/r/fullchain.pem" \
	--key "$TEST_TMP/live/r/privkey.pem" --reload-file "$TEST_TMP/r.reload" --fresh-processes 0
{
	daemon_conf
	conf_service r peer.test "$TEST_TMP/live/r" \
		"reload-command = {\"$(command -v touch)\", \"$TEST_TMP/r.reload\"}" \
		"endpoint tls { port = $port_r }"
} | write_conf "$conf"
daemon_start "$conf"
ok "r: the daemon settles with the endpoint OK" wait_for 30 status_all_ok "$conf"
mark=$(log_mark)
disk_renew rename "$TEST_TMP/live/r" "$TEST_TMP/r1"
ok "r: a renewal served on a fresh connection before any reload is reloaded all the same" \
	wait_log "$mark" "r: the pair on disk is valid; reloading" 20 || diag "$(log_since "$mark")"
ok "r: the log says why" \
	wait_log "$mark" "r/tls: the renewal is served on a fresh connection already" 5
ok "r: the reload is verified" wait_log "$mark" "r: reload verified" 30 ||
	diag "$(log_since "$mark")"
is "$(reloads_started "$mark" r)" 1 "r: reloaded once"
is "$(served_fp 127.0.0.1 "$port_r" - peer.test)" "$(leaf_fp r1)" "r: the renewal is served"

daemon_stop_ok
daemon_log_clean
done_testing
