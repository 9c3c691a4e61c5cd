#!/bin/sh
# A renewal costs the same whatever else the service guards: after a file
# event only the endpoints whose files changed are probed before the
# reload and decide "verified"; the service's other endpoints are looked
# at again after it (a reload may break them too).  Three endpoints of one
# service, each on a reloading peer of its own that logs every connection
# (tests/peer.py --log-connections), all reloaded by one command; a's
# lineage is renewed, and the connections each peer saw are counted.
. "$TESTS_SRCDIR/lib.sh"

server_test 46 openssl

ca_leaves 60 a.test a0 a1
ca_leaves 60 b.test b0
ca_leaves 60 c.test c0
: >"$TEST_TMP/reload"
for s in a b c; do
	disk_install rename "$TEST_TMP/live/$s" "$TEST_TMP/${s}0"
	eval "port_$s=\$(free_port)"
	eval "peer reloading \"\$port_$s\" --log-connections --linger 2 \
		--cert \"$TEST_TMP/live/$s/fullchain.pem\" --key \"$TEST_TMP/live/$s/privkey.pem\" \
		--reload-file \"$TEST_TMP/reload\""
done

# connections PEER [FROM-MS [TO-MS]]: connections the peer accepted in [FROM, TO].
connections() {
	eval "_p=\$port_$1"
	awk -v from="${2:-0}" -v to="${3:-99999999999999}" \
		'$1 == "connection" && $2 >= from && $2 <= to { n++ } END { print n + 0 }' \
		"$TEST_TMP/peer-reloading-$_p.log"
}

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	printf 'service web {\n\taddress = "127.0.0.1"\n'
	printf '\treload-command = {"%s", "%s"}\n' "$(command -v touch)" "$TEST_TMP/reload"
	for s in a b c; do
		eval "_p=\$port_$s"
		printf '\tendpoint %s { port = %s name = "%s.test" cert = "%s" key = "%s" }\n' \
			"$s" "$_p" "$s" "$TEST_TMP/live/$s/fullchain.pem" "$TEST_TMP/live/$s/privkey.pem"
	done
	printf '}\n'
} | write_conf "$conf"

daemon_start "$conf"
ok "the daemon starts and settles with every endpoint OK" wait_for 30 status_all_ok "$conf"

mark=$(log_mark)
t0=$(now_ms)
disk_renew rename "$TEST_TMP/live/a" "$TEST_TMP/a1"
ok "a's renewal is reloaded" wait_log "$mark" "web: the pair on disk is valid; reloading" 30 ||
	diag "$(log_since "$mark")"
t_reload=$log_ms
ok "and verified" wait_log "$mark" "web: reload verified" 30 || diag "$(log_since "$mark")"
t_verified=$log_ms
diag "connections until verified: a $(connections a "$t0" "$t_verified"), b $(connections b \
	"$t0" "$t_verified"), c $(connections c "$t0" "$t_verified")"
is "$(connections b "$t0" "$t_reload")" 0 "b's files did not change: not probed before the reload"
is "$(connections c "$t0" "$t_reload")" 0 "nor c's"
ok "a is probed before the reload and verified after it (old process lingering 2 s)" \
	test "$(connections a "$t0" "$t_verified")" -ge 3
# The re-check after the verdict may begin before the verdict's line is read.
ok "b is not probed pass by pass during the verification" \
	test "$(connections b "$t_reload" "$t_verified")" -le 1
ok "c neither" test "$(connections c "$t_reload" "$t_verified")" -le 1
ok "after the verdict b is looked at again (a reload may break it)" \
	wait_for 20 test "$(connections b "$t_reload")" -ge 1
ok "and c" wait_for 20 test "$(connections c "$t_reload")" -ge 1
ok "every endpoint is OK after the re-check" wait_for 30 status_all_ok "$conf"
is "$(log_count "$mark" 'reload failed')" 0 "no reload failed"
is "$(reloads_started "$mark" web)" 1 "one reload for the renewal"

daemon_stop_ok
daemon_log_clean
done_testing
