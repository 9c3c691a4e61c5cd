#!/bin/sh
# kind = "mariadb" against a real, private MariaDB (Debian's package),
# its data directory, socket and pid file in $TEST_TMP:
#  - the probe's fingerprint is openssl s_client -starttls mysql's;
#  - a certbot-style renewal is made current by the kind's recipe, the
#    statement FLUSH SSL through Debian's client as root over the
#    service's control-socket, with no restart (the server's pid is the
#    same) and an open client session surviving it; verified;
#  - the probes leave MariaDB's log as s_client's do: each "Aborted
#    connection", and at log_warnings 4 a read that met the end of the
#    stream, not one that failed (a client gone without close_notify).
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/lib-servers.sh"

server_test 53 openssl mariadbd mariadb-install-db mariadb

# log_lines FROM TO: MariaDB's log lines after line FROM up to line TO,
# without their time, connection number and descriptor, counted.
log_lines() {
	sed -n "$(($1 + 1)),$2p" "$M/error.log" |
		sed -E 's/^[0-9: -]+ [0-9]+ //; s/(connection|fd:) [0-9]+/\1 N/' | sort | uniq -c
}
# closed_at_least N: MariaDB's log holds N records of a session's end.
closed_at_least() {
	[ "$(lines_matching "$M/error.log" "$closed")" -ge "$1" ]
}

ca_leaves 60 db.test m0 m1
live="$TEST_TMP/disk/live/db"
disk_install certbot "$live" "$TEST_TMP/m0" || bail_out "cannot lay out the files"

M="$TEST_TMP/mariadb"
mkdir -p "$M"
mariadb-install-db --no-defaults --datadir="$M/data" --user=root \
	--auth-root-authentication-method=socket --skip-test-db >"$M/install.log" 2>&1 ||
	{ cat "$M/install.log" >&2; bail_out "mariadb-install-db failed"; }
port=$(free_port)
# log_warnings 4 logs how each unauthenticated client's last read ended.
start_bg mariadbd mariadbd --no-defaults --datadir="$M/data" --user=root --socket="$M/mysqld.sock" \
	--port="$port" --bind-address=127.0.0.1 --pid-file="$M/mysqld.pid" --skip-log-bin \
	--ssl-cert="$live/fullchain.pem" --ssl-key="$live/privkey.pem" --log-error="$M/error.log" \
	--log-warnings=4
mariadbd_pid=$bg_pid
wait_port 127.0.0.1 "$port" 30 "$mariadbd_pid" ||
	{ cat "$M/error.log" >&2; bail_out "mariadbd did not start"; }

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	conf_service db db.test "$live" 'kind = "mariadb"' "control-socket = \"$M/mysqld.sock\"" \
		"endpoint mysql { port = $port }"
} | write_conf "$conf"

cw --config "$conf" check --json
is "$cw_rc" 0 "certwatch check: MariaDB's endpoint is OK"
same_fp "$(json_endpoint "$cw_out" db mysql served.sha256)" \
	"$(served_fp 127.0.0.1 "$port" mysql)" "the probe sees what s_client -starttls mysql sees"

# MariaDB logs every client that leaves before logging in (from
# log_warnings 2, its default), s_client too: the line cannot be avoided
# without an account.  At 4 it says how the last read ended: "errno: 0 ...
# length: 0" after a close_notify, "length: -1" (ECONNRESET, EPROTO) when
# the client closed without one.
closed="Aborted connection .*closed normally without authentication"
wait_for 20 closed_at_least 2 || diag "MariaDB has not logged the two sessions above"
from=$(wc -l <"$M/error.log")
probes_quiet "MariaDB STARTTLS" "$M/error.log" 'Could not read packet: .* length: -1' \
	"$closed" 10 --connect "127.0.0.1:$port" --starttls mysql --name db.test
mid=$(wc -l <"$M/error.log")
closed0=$(lines_matching "$M/error.log" "$closed")
i=0
while [ "$i" -lt 10 ]; do
	served_fp 127.0.0.1 "$port" mysql >/dev/null
	i=$((i + 1))
done
wait_for 20 closed_at_least $((closed0 + 10)) ||
	diag "MariaDB has not logged the end of 10 s_client sessions"
is "$(log_lines "$from" "$mid")" "$(log_lines "$mid" "$(wc -l <"$M/error.log")")" \
	"10 probes leave in MariaDB's log the lines 10 s_client -starttls mysql leave"

cw --config "$conf" --test-config
like "$cw_out" "# reload-command = {\"/usr/bin/mariadb\", \"--batch\", \"--execute=FLUSH SSL\", \"--socket=$M/mysqld.sock\"}" \
	"--test-config shows the statement, on the service's socket"

daemon_start "$conf"
ok "the daemon starts and settles with every endpoint OK" wait_for 30 status_all_ok "$conf"

# A session open across the renewal: FLUSH SSL must not end it.  Opened
# after the daemon started, which must not hold its input open.
mkfifo "$TEST_TMP/session.in"
mariadb --socket="$M/mysqld.sock" --batch --unbuffered --skip-column-names \
	<"$TEST_TMP/session.in" >"$TEST_TMP/session.out" 2>&1 &
session=$!
exec 3>"$TEST_TMP/session.in"
echo "SELECT CONNECTION_ID();" >&3
wait_for 10 grep -q '^[0-9]' "$TEST_TMP/session.out" || diag "the session did not answer"
session_id=$(head -n 1 "$TEST_TMP/session.out")

mark=$(log_mark)
disk_renew certbot "$live" "$TEST_TMP/m1" || bail_out "cannot renew"
ok "the renewal is made current with FLUSH SSL and verified" \
	wait_log "$mark" "certwatch: db: reload verified" 30 || diag "$(log_since "$mark")"
same_fp "$(served_fp 127.0.0.1 "$port" mysql)" "$(leaf_fp m1)" "s_client sees the new certificate"
is "$(cat "$M/mysqld.pid")" "$mariadbd_pid" "the same mariadbd serves: nothing was restarted"
echo "SELECT CONNECTION_ID();" >&3
exec 3>&-
wait "$session"
is "$(tail -n 1 "$TEST_TMP/session.out")" "$session_id" "the session open before the renewal still answers"
daemon_stop_ok
daemon_log_clean

done_testing
