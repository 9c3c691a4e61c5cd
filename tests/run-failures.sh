#!/bin/sh
# Failed reloads: back-off, pause, resume.  The reload command is a script
# that fails (saying why on two lines) until a flag file exists, then reloads nginx for real; every
# run is counted.  Two services on one nginx: "web" pauses at its first
# failure (max-failures = 1), "web2" backs off (max-failures = 3; the first
# back-off is 30 s, longer than this test waits, so a renewal during it
# must not start a reload).  `certwatch resume` lifts both; a resume while
# the daemon is stopped clears the pause in the state file, and the pause
# survives a restart until then.
. "$TESTS_SRCDIR/lib.sh"

server_test 9 nginx openssl

ca_leaves 60 web.test w0 w1 w2
ca_leaves 60 web2.test v0 v1 v2
web_fixture --one-port rename web.test=w0 web2.test=v0
live=$(web_live web.test)
live2=$(web_live web2.test)
port=$(web_port web.test)

flag="$TEST_TMP/reload-works"
runs="$TEST_TMP/reload-runs"
: >"$runs"
cat >"$TEST_TMP/reload" <<SCRIPT
#!/bin/sh
echo "\$1" >>"$runs"
if [ ! -e "$flag" ]; then
	printf 'the test says "no"\n\n\tsecond line\n' >&2
	exit 1
fi
exec $(command -v nginx) -p "$NGINX_DIR/" -e "$NGINX_DIR/logs/error.log" -c "$NGINX_CONF" -s reload
SCRIPT
chmod 0755 "$TEST_TMP/reload"
runs_of() {
	grep -cx "$1" "$runs"
}

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	web_service web web.test "reload-command = {\"$TEST_TMP/reload\", \"web\"}" 'max-failures = 1'
	web_service web2 web2.test "reload-command = {\"$TEST_TMP/reload\", \"web2\"}" 'max-failures = 3'
} | write_conf "$conf"

daemon_start "$conf"
ok "the daemon starts and settles with every endpoint OK" wait_for 30 status_all_ok "$conf"

# ---- web: one failure pauses it ---------------------------------------------------------

mark=$(log_mark)
disk_renew rename "$live" "$TEST_TMP/w1"
ok "web: a failed reload with max-failures = 1 pauses it, and the log says how to resume" \
	wait_log "$mark" "web: failures in a row: 1 \\(reload: .*exited with status 1\\)\\); automatic reloads are paused.*'certwatch resume web'" 20 ||
	diag "$(log_since "$mark")"
is "$(runs_of web)" 1 "web: the reload command ran once"
is "$(log_since "$mark" | grep ' web: reload output: ' | sed 's/.* web: reload output: //')" \
	"$(printf '%s\n%s' 'the test says "no"' '\tsecond line')" \
	"web: the command's output is logged as written, a line each: quotes kept, blank lines left out, a tab escaped"
cw status --config "$conf" --json
is "$cw_rc" 2 "certwatch status exits 2 while a service is paused"
is "$(json_service "$cw_out" web paused)/$(json_service "$cw_out" web phase)" true/paused \
	"status: web is paused"
is "$(json_service "$cw_out" web failures)" 1 "status: web has one failure in a row"
like "$(json_service "$cw_out" web last_result)" "exited with status 1" \
	"status: web's last result is the command's failure"
cw status --config "$conf"
like "$cw_out" "web +PAUSED +1 " "the status table shows web paused with one failure"
is "$(served_fp 127.0.0.1 "$port" - web.test)" "$(leaf_fp w0)" "web: nginx still serves the old certificate"

# ---- web2: a failure backs off; a renewal during the back-off waits -------------------------

mark=$(log_mark)
disk_renew rename "$live2" "$TEST_TMP/v1"
ok "web2: a failed reload backs off, and the log says when the next attempt is" \
	wait_log "$mark" "web2: reload failed \\(failures in a row: 1\\): reload: .*exited with status 1.*; next attempt at [0-9-]+ [0-9:]+" 20 ||
	diag "$(log_since "$mark")"
cw status --config "$conf" --json
is "$(json_service "$cw_out" web2 phase)/$(json_service "$cw_out" web2 paused)/$(json_service "$cw_out" web2 failures)" \
	backoff/false/1 "status: web2 backs off, one failure, not paused"

mark=$(log_mark)
disk_renew rename "$live2" "$TEST_TMP/v2"
ok "web2: a renewal during the back-off is looked at" \
	wait_log "$mark" "web2/https: certificate on disk changed from $(leaf_fp v1 | cut -c1-12) to $(leaf_fp v2 | cut -c1-12)" 20 ||
	diag "$(log_since "$mark")"
sleep 1
is "$(reloads_started "$mark" web2)/$(runs_of web2)" 0/1 \
	"web2: no reload before the back-off ends"
cw status --config "$conf" --json
is "$(json_service "$cw_out" web2 phase)" backoff "status: web2 is still backing off"

# ---- resume -----------------------------------------------------------------------------

touch "$flag"
mark=$(log_mark)
cw --config "$conf" resume web
is "$cw_rc/$cw_out" "0/ok: web resumed" "certwatch resume web: the daemon answers that web is resumed"
ok "web: after resume the reload runs and is verified" wait_log "$mark" "web: reload verified" 20 ||
	diag "$(log_since "$mark")"
is "$(served_fp 127.0.0.1 "$port" - web.test)" "$(leaf_fp w1)" "web: nginx serves the renewed certificate (openssl s_client)"
# That reload of nginx also brought web2's new certificate; web2 cannot
# know that every process serving it has the renewal (Postfix's busy smtpd
# processes would not), so its renewal is reloaded once more, as
# certwatch.conf(5) says of a renewal seen, and verified.
mark=$(log_mark)
cw resume --config "$conf" web2
is "$cw_rc" 0 "certwatch resume --config FILE web2 (backing off, not paused) succeeds"
ok "web2: after resume its renewal, already served, is reloaded once more and verified" \
	wait_log "$mark" "web2: reload verified" 20 || diag "$(log_since "$mark")"
ok "web2: no failures left" wait_for 15 status_all_ok "$conf"
is "$(json_service "$cw_out" web2 failures)/$(runs_of web2)" 0/2 \
	"web2: one more run of its reload command, which succeeded"
is "$(served_fp 127.0.0.1 "$port" - web2.test)" "$(leaf_fp v2)" "web2: nginx serves the renewed certificate"

cw --config "$conf" resume nosuch
isnt "$cw_rc" 0 "certwatch resume of an unknown service fails"

# ---- the pause survives a restart; resume with the daemon stopped ---------------------------

rm -f "$flag"
mark=$(log_mark)
disk_renew rename "$live" "$TEST_TMP/w2"
ok "web pauses again after another failed reload" \
	wait_log "$mark" "web: failures in a row: 1" 20 || diag "$(log_since "$mark")"
daemon_stop_ok

cw status --config "$conf" --json
is "$cw_rc" 3 "certwatch status exits 3 when the daemon is not running"
is "$(json_get "$cw_out" running)/$(json_service "$cw_out" web paused)" false/true \
	"status of a stopped daemon: web is paused in the state file"

mark=$(log_mark)
daemon_start "$conf"
# shellcheck disable=SC2317 # called through wait_for
restarted_and_looked() {
	cw_out=$("$CERTWATCH" --config "$conf" status --json 2>/dev/null)
	[ "$(json_get "$cw_out" pid)" = "$daemon_pid" ] &&
		[ "$(json_endpoint "$cw_out" web https state)" = STALE ] &&
		[ "$(json_service "$cw_out" web phase)" = paused ]
}
ok "after a restart web is still paused and the renewal waits" wait_for 20 restarted_and_looked ||
	diag "$cw_out" "$(log_since "$mark")"
is "$(reloads_started "$mark" web)/$(runs_of web)" 0/3 "no reload of a paused service after a restart"
daemon_stop

cw --config "$conf" resume web
is "$cw_rc" 0 "certwatch resume web with the daemon stopped succeeds"
like "$cw_out" "not running" "and says the daemon is not running"
cw status --config "$conf" --json
is "$(json_service "$cw_out" web paused)/$(json_service "$cw_out" web failures)" false/0 \
	"the state file no longer holds the pause"

touch "$flag"
mark=$(log_mark)
daemon_start "$conf"
ok "started again, the daemon reloads web and verifies" wait_log "$mark" "web: reload verified" 20 ||
	diag "$(log_since "$mark")"
is "$(served_fp 127.0.0.1 "$port" - web.test)" "$(leaf_fp w2)" "web: nginx serves the latest certificate"
is "$(runs_of web)" 4 "web's reload command ran four times in all"

daemon_stop_ok
daemon_log_clean
done_testing
