#!/bin/sh
# kind = "postgresql" against a real, private PostgreSQL (Debian's
# package), run as the postgres user from a data directory in $TEST_TMP:
#  - the probe's fingerprint (its SSLRequest) is openssl s_client
#    -starttls postgres's;
#  - a certbot-style renewal is reloaded through the kind's recipe
#    (postgresql.service, whose reload fake-systemd carries out as Debian's
#    postgresql@.service does: pg_ctl reload) and verified;
#  - the same with reload-signal HUP to the pid in postmaster.pid, whose
#    first line is the pid and whose others are not (the pid file fault),
#    written by postgres and trusted through pid-file-owner.
. "$TESTS_SRCDIR/lib.sh"

server_test 52 openssl runuser dbus-daemon
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$PG_BIN/postgres" ] || skip_all "PostgreSQL is not installed"
id postgres >/dev/null 2>&1 || skip_all "there is no postgres user"

ca_leaves 60 db.test p0 p1 p2
live="$TEST_TMP/disk/live/db"
disk_install certbot "$live" "$TEST_TMP/p0" || bail_out "cannot lay out the files"

# As a deploy hook would: the key readable by the postgres user, as
# PostgreSQL demands (root's and mode 0640, group ssl-cert).
key_for_postgres() {
	chgrp ssl-cert "$TEST_TMP"/disk/archive/db/privkey*.pem &&
	chmod 0640 "$TEST_TMP"/disk/archive/db/privkey*.pem
}
key_for_postgres || bail_out "cannot give the key to postgres"

PG="$TEST_TMP/pg"
mkdir -p "$PG" && chown postgres "$PG" || bail_out "cannot make $PG"
runuser -u postgres -- "$PG_BIN/initdb" -D "$PG/data" -U postgres --auth=trust \
	>"$TEST_TMP/initdb.log" 2>&1 || { cat "$TEST_TMP/initdb.log" >&2; bail_out "initdb failed"; }
port=$(free_port)
cat >>"$PG/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$PG'
ssl = on
ssl_cert_file = '$live/fullchain.pem'
ssl_key_file = '$live/privkey.pem'
EOF
start_bg postgres runuser -u postgres -- "$PG_BIN/postgres" -D "$PG/data"
wait_port 127.0.0.1 "$port" 20 || { cat "$TEST_TMP/postgres.log" >&2; bail_out "postgres did not start"; }
at_exit "stop_pidfile $PG/data/postmaster.pid"

fake_systemd_start
fake_unit postgresql.service reload runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG/data" reload

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	conf_service db db.test "$live" 'kind = "postgresql"' "endpoint postgres { port = $port }"
} | write_conf "$conf"

cw --config "$conf" check --json
is "$cw_rc" 0 "certwatch check: PostgreSQL's endpoint is OK"
same_fp "$(json_endpoint "$cw_out" db postgres served.sha256)" \
	"$(served_fp 127.0.0.1 "$port" postgres db.test)" "the probe sees what s_client -starttls postgres sees"

daemon_start "$conf"
ok "the daemon starts and settles with every endpoint OK" wait_for 30 status_all_ok "$conf"
mark=$(log_mark)
disk_renew certbot "$live" "$TEST_TMP/p1" && key_for_postgres || bail_out "cannot renew"
ok "the renewal is reloaded through postgresql.service and verified" \
	wait_log "$mark" "certwatch: db: reload verified" 30 || diag "$(log_since "$mark")"
is "$(cat "$FAKE_UNITS_LOG")" "ReloadUnit postgresql.service replace" "postgresql.service was reloaded"
same_fp "$(served_fp 127.0.0.1 "$port" postgres db.test)" "$(leaf_fp p1)" "s_client sees the new certificate"
daemon_stop_ok

# ---- the pid in postmaster.pid ----------------------------------------------------------

{
	daemon_conf
	# PostgreSQL writes its pid file as postgres, in directories of its own:
	# trusted only because pid-file-owner says so.
	conf_service db db.test "$live" 'reload-signal = "HUP"' "pid-file = \"$PG/data/postmaster.pid\"" \
		'pid-file-owner = "postgres"' "endpoint postgres { port = $port starttls = \"postgres\" }"
} | write_conf "$conf"
daemon_start "$conf"
ok "the daemon starts again with every endpoint OK" wait_for 30 status_all_ok "$conf"
mark=$(log_mark)
disk_renew certbot "$live" "$TEST_TMP/p2" && key_for_postgres || bail_out "cannot renew"
ok "SIGHUP to the pid on postmaster.pid's first line reloads it, verified" \
	wait_log "$mark" "certwatch: db: reload verified" 30 || diag "$(log_since "$mark")"
status_all_ok "$conf"
like "$(json_service "$cw_out" db last_result)" "reload: ok \(sent SIGHUP to process $(head -n 1 "$PG/data/postmaster.pid")\)" \
	"the signal went to the postmaster"
same_fp "$(served_fp 127.0.0.1 "$port" postgres db.test)" "$(leaf_fp p2)" "s_client sees the newer certificate"
daemon_stop_ok
daemon_log_clean

done_testing
