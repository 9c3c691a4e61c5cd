#!/bin/sh
# bench/haproxy-reload.sh - open connections dropped when certwatch makes
# HAProxy serve a renewed certificate: through HAProxy's runtime API
# (kind = "haproxy": set ssl cert, commit ssl cert) against a plain
# reload (SIGUSR2 to the master, what haproxy.service's reload does),
# with keep-alive HTTPS clients busy across the renewal.
#
# Usage, as root, from the build directory after make:
#	../bench/haproxy-reload.sh [CLIENTS]
# CLIENTS keep-alive connections (default 50).  Environment, optional:
#	CERTWATCH   the binary (default ./certwatch)
#	ROUNDS      renewals measured per method (default 3)
#	INTERVAL_MS pause of each client between two requests (default 20)
#
# Each round: the clients connect and send requests on their one
# connection, a certbot-style renewal is written, the daemon settles,
# validates, makes HAProxy take the renewal and verifies it; the clients
# go on for a second more and stop.  A connection counts as dropped when
# the server closed or reset it while the client still used it (the
# client then connects again and goes on); a request counts as failed
# when it got no answer.  Every figure is described in bench/README.
#
# Exit status: 0 when every round was verified and the runtime API
# dropped no connection, 1 when it dropped one or a round was not
# verified, 2 when the setup failed.
set -u

CLIENTS=${1:-50}
ROUNDS=${ROUNDS:-3}
INTERVAL_MS=${INTERVAL_MS:-20}
for v in "$CLIENTS" "$ROUNDS" "$INTERVAL_MS"; do
	case $v in
	'' | *[!0-9]* | 0*)
		echo "haproxy-reload: '$v' is not a positive integer (see the head of the script)" >&2
		exit 2
		;;
	esac
done
if [ "$(id -u)" -ne 0 ]; then
	echo "haproxy-reload: run me as root: I start a private HAProxy" >&2
	exit 2
fi
CERTWATCH=${CERTWATCH:-$PWD/certwatch}
if [ ! -x "$CERTWATCH" ]; then
	echo "haproxy-reload: no certwatch in $PWD: run me from the build directory after make," \
		"or name the binary in CERTWATCH" >&2
	exit 2
fi
TESTS_SRCDIR=$(cd "$(dirname "$0")/../tests" && pwd) || exit 2
export CERTWATCH TESTS_SRCDIR
# shellcheck source=../tests/lib.sh
. "$TESTS_SRCDIR/lib.sh"

bail_out() {
	echo "haproxy-reload: $*" >&2
	exit 2
}
for c in haproxy openssl; do
	command -v "$c" >/dev/null 2>&1 || bail_out "$c is not installed"
done

port_range 41
port=$(free_port)
ca_init || bail_out "cannot make the CA"
live="$TEST_TMP/disk/live/web"
g=0
ca_leaf "$TEST_TMP/g0" 60 web.test || bail_out "cannot make a certificate"
disk_install certbot "$live" "$TEST_TMP/g0" || bail_out "cannot lay out the files"
ln -s privkey.pem "$live/fullchain.pem.key"
HAPROXY_GLOBAL_EXTRA="maxconn $((CLIENTS * 4 + 100))" haproxy_start <<EOF || bail_out "haproxy did not start"
	bind 127.0.0.1:$port ssl crt $live/fullchain.pem
EOF
echo "haproxy-reload: $CLIENTS keep-alive clients, a request every $INTERVAL_MS ms each," \
	"$ROUNDS renewals per method, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  $(haproxy -v | head -n 1)"
echo "  certwatch $("$CERTWATCH" --version | head -n 1 | sed 's/^certwatch //')"

# clients SECONDS-FILE: the clients, until FILE exists; prints
# "connections dropped requests failed requests".
clients() {
	"$PYTHON" - "$port" "$CLIENTS" "$INTERVAL_MS" "$1" <<'PY'
import os, socket, ssl, sys, threading, time
port, n, interval, stop = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) / 1000, sys.argv[4]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
lock = threading.Lock()
totals = {"connections": 0, "dropped": 0, "failed": 0, "requests": 0}
def count(key):
    with lock:
        totals[key] += 1
def connect():
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                        server_hostname="web.test")
    count("connections")
    return s
def ask(s):
    s.sendall(b"GET / HTTP/1.1\r\nHost: web.test\r\n\r\n")
    data = b""
    while b"\r\n\r\nok" not in data:
        b = s.recv(4096)
        if not b:
            raise ConnectionError("closed by the server")
        data += b
    if b"connection: close" in data.lower():
        raise ConnectionError("closed by the server after this answer")
def client():
    s = None
    while not os.path.exists(stop):
        try:
            if s is None:
                s = connect()
            count("requests")
            ask(s)
        except (OSError, ssl.SSLError, ConnectionError) as e:
            answered = isinstance(e, ConnectionError) and "after this answer" in str(e)
            if not answered:
                count("failed")
            if s is not None:
                count("dropped")
                s.close()
            s = None
        time.sleep(interval)
    if s is not None:
        s.close()
threads = [threading.Thread(target=client) for _ in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(totals["connections"], totals["dropped"], totals["failed"], totals["requests"])
PY
}

conf="$TEST_TMP/etc/certwatch.conf"
RESULTS="$TEST_TMP/results"
: >"$RESULTS"
status=0

# round METHOD: one renewal with the clients running; appends a result line.
round() {
	g=$((g + 1))
	ca_leaf "$TEST_TMP/g$g" 60 web.test || bail_out "cannot make a certificate"
	stop="$TEST_TMP/stop-$g"
	clients "$stop" >"$TEST_TMP/clients-$g" &
	cpid=$!
	sleep 1   # the clients are connected and busy
	mark=$(log_mark)
	t0=$(now_ms)
	disk_renew certbot "$live" "$TEST_TMP/g$g" || bail_out "cannot renew"
	if wait_log "$mark" "web: reload verified" 60; then
		took=$((log_ms - t0))
	else
		took=-
		status=1
	fi
	sleep 1   # the clients go on after the verification
	touch "$stop"
	wait "$cpid"
	read -r conns dropped failed requests <"$TEST_TMP/clients-$g"
	echo "$1 $took $conns $dropped $failed $requests" >>"$RESULTS"
	if [ "$1" = api ] && [ "$dropped" != 0 ]; then
		status=1
	fi
}

for method in api reload; do
	if [ "$method" = api ]; then
		recipe="control-socket = \"$HAPROXY_SOCK\""
		kind='kind = "haproxy"'
	else
		recipe="reload-signal = \"USR2\"
	pid-file = \"$HAPROXY_DIR/haproxy.pid\""
		kind='reload-check = {"/usr/sbin/haproxy", "-c", "-q", "-f", "'"$HAPROXY_CONF"'"}'
	fi
	{
		daemon_conf
		printf 'service web {\n\tcert = "%s/fullchain.pem"\n\tkey = "%s/privkey.pem"\n' "$live" "$live"
		printf '\tname = "web.test"\n\taddress = "127.0.0.1"\n\t%s\n\t%s\n' "$kind" "$recipe"
		printf '\tmax-reloads-per-hour = 60\n\tendpoint https { port = %s }\n}\n' "$port"
	} | write_conf "$conf"
	daemon_start "$conf"
	wait_for 30 status_all_ok "$conf" || bail_out "the daemon did not settle"
	r=0
	while [ "$r" -lt "$ROUNDS" ]; do
		round "$method"
		r=$((r + 1))
	done
	daemon_stop
done

echo
printf '  %-28s %12s %12s %12s %12s %10s\n' method "verified ms" connections dropped "failed req" requests
while read -r method took conns dropped failed requests; do
	case $method in
	api) name="runtime API (kind haproxy)" ;;
	*) name="reload (SIGUSR2, master)" ;;
	esac
	printf '  %-28s %12s %12s %12s %12s %10s\n' "$name" "$took" "$conns" "$dropped" "$failed" "$requests"
done <"$RESULTS"
exit "$status"
