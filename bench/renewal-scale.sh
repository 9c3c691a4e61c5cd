#!/bin/sh
# bench/renewal-scale.sh - what one renewal costs the daemon on a host with
# many certificates, and what unrelated file traffic costs it while idle.
#
# Usage, as root, from the build directory after make:
#	../bench/renewal-scale.sh [N...]
# N: numbers of lineages (default "200 1000 3000"; add 10000 for the
# figure of issue 12: seven minutes on a quiet 2-CPU machine).
# Environment, all optional:
#	CERTWATCH         the binary measured (default ./certwatch)
#	CERTWATCH_BEFORE  a second binary (the stock build) measured in the
#	                  same run, interleaved, for before/after ratios
#	UNRELATED         files created and deleted in the idle figure (2000)
#
# For each N: one private nginx with N SNI virtual hosts, each served from
# a certbot lineage (live/NAME/*.pem -> ../../archive/NAME/*1.pem), and the
# daemon guarding the N lineages (a) as N services, (b) as one service of N
# endpoints, (c) only the lineage renewed (the reference, run again
# before each of the others and compared with it).  In each, once the
# first pass is over, vh1's lineage is renewed the way certbot does, and
# the script prints how long after the renewal began the daemon said
# "reload verified", the daemon's CPU until then and until it was quiet
# again, its resident memory and its first pass.  Then, in (b), UNRELATED
# files are created and deleted in live/, the directory above every
# lineage, and the CPU and wake-ups of each of the daemon's threads shown.
# Every figure is described in bench/README.
#
# Exit status: 0 when every renewal was verified, 1 when one was not, 2
# when the setup failed.
set -u

SIZES=${*:-200 1000 3000}
UNRELATED=${UNRELATED:-2000}
for v in $SIZES "$UNRELATED"; do
	case $v in
	'' | *[!0-9]* | 0*)
		echo "renewal-scale: '$v' is not a positive integer" \
			"(usage: renewal-scale.sh [N...], see the head of the script)" >&2
		exit 2
		;;
	esac
done
if [ "$(id -u)" -ne 0 ]; then
	echo "renewal-scale: run me as root: I start a private nginx" >&2
	exit 2
fi
CERTWATCH=${CERTWATCH:-$PWD/certwatch}
for b in "$CERTWATCH" ${CERTWATCH_BEFORE:+"$CERTWATCH_BEFORE"}; do
	if [ ! -x "$b" ]; then
		echo "renewal-scale: no certwatch at $b: run me from the build directory after make," \
			"or name the binary in CERTWATCH" >&2
		exit 2
	fi
done
TESTS_SRCDIR=$(cd "$(dirname "$0")/../tests" && pwd) || exit 2
export CERTWATCH TESTS_SRCDIR
# shellcheck source=../tests/lib.sh
. "$TESTS_SRCDIR/lib.sh"

bail_out() {
	echo "renewal-scale: $*" >&2
	exit 2
}
for c in nginx openssl timeout; do
	command -v "$c" >/dev/null 2>&1 || bail_out "$c is not installed"
done

# shellcheck source=vhosts.sh
. "$(dirname "$0")/vhosts.sh"
port_range 41
port=$(free_port)
max=0
for n in $SIZES; do
	[ "$n" -gt "$max" ] && max=$n
done
vhosts_names "$max"
ALL_NAMES="$TEST_TMP/all-names"
cp "$NAMES" "$ALL_NAMES" || bail_out "cannot copy $NAMES"
vhosts_certs
LE="$TEST_TMP/le"
TICK=$(getconf CLK_TCK)

# Every name a certbot lineage: live/NAME/X.pem -> ../../archive/NAME/X1.pem
# (one python3 process: 90,000 ln and cp processes take half an hour).
"$PYTHON" - "$LE" "$CERTS" "$CA_DIR/root.pem" "$ALL_NAMES" <<'EOF' || bail_out "cannot lay out the lineages in $LE"
import os, shutil, sys
le, certs, root, names = sys.argv[1:5]
for n in open(names).read().split():
    a, l = os.path.join(le, "archive", n), os.path.join(le, "live", n)
    os.makedirs(a)
    os.makedirs(l)
    for f, src in (("cert", n + ".crt"), ("privkey", n + ".key"), ("fullchain", n + ".pem")):
        os.link(os.path.join(certs, src), os.path.join(a, f + "1.pem"))
    shutil.copy(root, os.path.join(a, "chain1.pem"))
    for f in ("cert", "privkey", "chain", "fullchain"):
        os.symlink("../../archive/%s/%s1.pem" % (n, f), os.path.join(l, f + ".pem"))
EOF

# ---- figures of a running daemon ------------------------------------------------

# cpu_ticks PID [TID]: user + system clock ticks of the process (or thread).
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1${2:+/task/$2}/stat" 2>/dev/null
}

# wakeups PID TID: the thread's voluntary context switches (each a wake-up).
wakeups() {
	awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/task/$2/status" 2>/dev/null
}

# The stamper of the daemon's lines and the CPU sampler run at a real-time
# priority, above the daemon: after "verified" the daemon's probe threads
# fill both CPUs with the re-check of the service's other endpoints, and a
# stamper waiting its turn stamped the line late, counting some of that
# re-check as the renewal's CPU (one service of 10,000: +0.17 s against
# the lone lineage).  chrt(1) is util-linux's; without it, as before.
REALTIME=
chrt -f 10 true 2>/dev/null && REALTIME="chrt -f 10"
# shellcheck disable=SC2034 # read by daemon_start (tests/lib.sh)
DAEMON_STAMP_PREFIX=$REALTIME

# sampler_start PID: samples the CPU time of PID's threads (the sum of
# their schedstat run times, in ns) every 5 ms into $SAMPLES, "MS NS" a
# line, MS on the clock of the log's stamps, until sampler_stop.  The
# daemon's CPU at a log line is then read at that line's own stamp, not
# when this script happens to see it: after "verified" the daemon goes on
# to re-check the service's other endpoints, which is not the renewal's
# cost.
SAMPLES="$TEST_TMP/samples"
sampler_start() {
	rm -f "$TEST_TMP/sampler.stop" "$SAMPLES"
	# shellcheck disable=SC2086 # a command and its arguments
	$REALTIME "$PYTHON" - "$1" "$SAMPLES" "$TEST_TMP/sampler.stop" <<'SAMPLER' &
import glob, os, sys, time
pid, out, stop = sys.argv[1:4]
with open(out, "w") as f:
    while not os.path.exists(stop):
        ns = 0
        for t in glob.glob("/proc/%s/task/*/schedstat" % pid):
            try:
                with open(t) as s:
                    ns += int(s.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        f.write("%d %d\n" % (time.time_ns() // 1000000, ns))
        f.flush()
        time.sleep(0.005)
SAMPLER
	sampler_pid=$!
	wait_for 10 test -s "$SAMPLES" || bail_out "the CPU sampler did not start"
}

# sampler_stop MS: waits for a sample after MS, stops the sampler and
# prints the CPU ms from the first sample to the last one at or before MS.
sampler_stop() {
	wait_for 10 awk -v ms="$1" '$1 > ms { found = 1 } END { exit !found }' "$SAMPLES"
	: >"$TEST_TMP/sampler.stop"
	wait "$sampler_pid"
	awk -v ms="$1" 'NR == 1 { first = $2 } $1 <= ms { at = $2 }
		END { printf "%d\n", (at - first) / 1000000 }' "$SAMPLES"
}

# wait_quiet PID: waits until the process used no CPU for a second (at
# most 600 s); prints its ticks then.
wait_quiet() {
	_c=$(cpu_ticks "$1")
	_end=$(($(now_ms) + 600000))
	while [ "$(now_ms)" -lt "$_end" ]; do
		sleep 1
		_d=$(cpu_ticks "$1")
		[ "$_d" = "$_c" ] && break
		_c=$_d
	done
	echo "$_c"
}

# conf_of KIND N BIN: writes the configuration of kind a, b or c for the
# first N names and prints the main file's path.  The services go to
# files of the include directory, at most 1,000 services or 4,000
# endpoints each (a file holds at most 1 MiB): (b)'s one service is
# continued from file to file (certwatch.conf(5), include-dir).
conf_of() {
	_f="$TEST_TMP/etc-$1-$2-$(basename "$(dirname "$3")")/certwatch.conf"
	printf 'interval = "1h"\nsettle = "1s"\nstate-dir = "%s"\n' "$(dirname "$_f")/state" |
		write_conf "$_f" || bail_out "cannot write $_f"
	rm -rf "$(dirname "$_f")/state" "$(dirname "$_f")"/conf.d/*.conf
	"$PYTHON" - "$1" "$2" "$ALL_NAMES" "$LE" "$port" "$(nginx_reload_argv)" \
		"$(dirname "$_f")/conf.d" <<'EOF' || bail_out "cannot write the services of $_f"
import os, sys
kind, n, names, le, port, reload, out = sys.argv[1:8]
names = open(names).read().split()[:int(n)]
if kind == "c":
    names = names[:1]
def endpoint(name, title):
    return ('\tendpoint %s { port = %s name = "%s" cert = "%s/live/%s/fullchain.pem" '
            'key = "%s/live/%s/privkey.pem" }\n' % (title, port, name, le, name, le, name))
files, per = [], 4000 if kind == "b" else 1000
for i in range(0, len(names), per):
    part = names[i:i + per]
    if kind == "b":
        head = '\treload-command = %s\n' % reload if i == 0 else ""
        files.append('service bench {\n\taddress = "127.0.0.1"\n' + head +
                     "".join(endpoint(m, m.split(".")[0]) for m in part) + "}\n")
    else:
        files.append("".join('service %s {\n\taddress = "127.0.0.1"\n\treload-command = %s\n%s}\n'
                             % (m.split(".")[0], reload, endpoint(m, "https")) for m in part))
for k, text in enumerate(files):
    path = os.path.join(out, "%04d.conf" % k)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
EOF
	echo "$_f"
}

renewals=0
# run_one KIND N BIN: one daemon, first pass, one renewal of vh1; appends
# "N KIND BIN FIRST-MS RSS-KB HWM-KB VERIFIED-MS CPU-VERIFIED-MS CPU-QUIET-MS
# RELOAD-MS" to $RESULTS, and for kind b the idle figures to $IDLE.
run_one() {
	_conf=$(conf_of "$1" "$2" "$3")
	_svc=vh1
	[ "$1" = b ] && _svc=bench
	_want=$2
	[ "$1" = c ] && _want=1
	_mark=$(log_mark)
	_t0=$(now_ms)
	_saved=$CERTWATCH
	CERTWATCH=$3
	daemon_start "$_conf"
	CERTWATCH=$_saved
	_pid=$daemon_pid
	# The first pass is over once every endpoint's first verdict is logged.
	_end=$(($(now_ms) + 900000))
	while [ "$(log_count "$_mark" '^certwatch: [^ ]+/[^ ]+: [A-Z-]+: ')" -lt "$_want" ]; do
		kill -0 "$_pid" 2>/dev/null && [ "$(now_ms)" -lt "$_end" ] ||
			bail_out "$1/$2: no first pass: $(log_since "$_mark" | tail -n 3)"
		sleep 0.2
	done
	_first=$(tail -n "+$((_mark + 1))" "$DAEMON_LOG" |
		grep -E '^[0-9]+ certwatch: [^ ]+/[^ ]+: [A-Z-]+: ' | sed -n "${_want}p" | cut -d' ' -f1)
	_first=$((_first - _t0))
	_c0=$(wait_quiet "$_pid")
	_rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$_pid/status")
	_hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$_pid/status")
	renewals=$((renewals + 1))
	vhost_cert vh1.bench.test "$TEST_TMP/renew$renewals" &&
		cp "$TEST_TMP/renew$renewals.pem" "$TEST_TMP/renew$renewals.fullchain.pem" ||
		bail_out "cannot make a renewed certificate"
	_mark=$(log_mark)
	sampler_start "$_pid"
	_t0=$(now_ms)
	disk_renew certbot "$LE/live/vh1.bench.test" "$TEST_TMP/renew$renewals" ||
		bail_out "cannot renew vh1's lineage"
	# The daemon's own part: from the renewal to the reload it starts.
	_rel=-1
	wait_log "$_mark" " certwatch: $_svc: .*; reloading to serve the certificate on disk" 900 &&
		_rel=$((log_ms - _t0))
	if wait_log "$_mark" " certwatch: $_svc: reload verified" 900; then
		_ver=$((log_ms - _t0))
		_c1=$(sampler_stop "$log_ms")
	else
		_ver=-1
		_c1=$(sampler_stop "$(now_ms)")
		failed=$((failed + 1))
		log_since "$_mark" | tail -n 5 >&2
	fi
	_c2=$(wait_quiet "$_pid")
	echo "$2 $1 $3 $_first $_rss $_hwm $_ver $_c1 $(((_c2 - _c0) * 1000 / TICK)) $_rel" \
		>>"$RESULTS"
	[ "$1" = b ] && idle "$2" "$3" "$_pid"
	daemon_stop
}

# idle N BIN PID: UNRELATED files created and deleted in live/; appends
# "N BIN THREAD TICKS WAKEUPS LOG-LINES" per thread of PID to $IDLE.
idle() {
	_mark=$(log_mark)
	for _t in /proc/"$3"/task/*; do
		_t=${_t##*/}
		echo "$_t $(cpu_ticks "$3" "$_t") $(wakeups "$3" "$_t")"
	done >"$TEST_TMP/idle0"
	"$PYTHON" - "$LE/live" "$UNRELATED" <<'EOF'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    p = os.path.join(d, "unrelated-%d.tmp" % i)
    with open(p, "w") as f:
        f.write("x")
    os.unlink(p)
EOF
	wait_quiet "$3" >/dev/null
	_lines=$(log_count "$_mark" .)
	while read -r _t _c _w; do
		_name=watcher
		[ "$(cat "/proc/$3/task/$_t/comm" 2>/dev/null)" = certwatch-probe ] && _name=probe
		[ "$_t" = "$3" ] && _name=main
		echo "$1 $2 $_name $(($(cpu_ticks "$3" "$_t") - _c)) $(($(wakeups "$3" "$_t") - _w)) $_lines"
	done <"$TEST_TMP/idle0" >>"$IDLE"
}

RESULTS="$TEST_TMP/results"
IDLE="$TEST_TMP/idle"
: >"$RESULTS"
: >"$IDLE"
failed=0
for n in $SIZES; do
	head -n "$n" "$ALL_NAMES" >"$NAMES"
	vhosts_server_lines "$port" "$LE/live" /fullchain.pem /privkey.pem >"$TEST_TMP/servers"
	vhosts_nginx "$port" "$TEST_TMP/servers"
	echo "renewal-scale: N = $n: nginx up in $(ms_to_s "$nginx_ms") s" >&2
	# The reference again before each of (a) and (b): nginx's own reload
	# of N virtual hosts, most of "verified s", drifts by a second from
	# one reload to the next; each row is compared with the (c) just
	# before it.
	for kind in c a c b; do
		# certwatch.conf(5): at most 4096 services.
		[ "$kind" = a ] && [ "$n" -gt 4096 ] && continue
		for bin in ${CERTWATCH_BEFORE:+"$CERTWATCH_BEFORE"} "$CERTWATCH"; do
			run_one "$kind" "$n" "$bin"
			tail -n 1 "$RESULTS" >&2
		done
	done
	stop_pid "$nginx_pid"
done

# ---- the tables -----------------------------------------------------------------

echo "renewal-scale: one nginx, lineages renewed certbot-style, $(nproc) CPUs," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "  $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(openssl version | cut -d' ' -f1-2);" \
	"certificates made in $(ms_to_s "$certs_ms") s"
echo "  (a) N services, (b) one service of N endpoints, (c) only the renewed lineage guarded"
echo
awk -v after="$CERTWATCH" '
	BEGIN {
		printf "%6s %-3s %-6s %9s %8s %8s %9s %11s %9s %12s %9s %9s %9s\n", "N", "how",
			"build", "first s", "RSS MiB", "peak MiB", "reload s", "verified s", "CPU s",
			"CPU quiet s", "rel-(c) s", "-(c) s", "CPU-(c) s"
	}
	{
		r = $1 " " $3
		if ($2 == "c") {
			rv[r] = $7
			rc[r] = $8
			rr[r] = $10
		}
		printf "%6d %-3s %-6s %9.2f %8.1f %8.1f %9.2f %11.2f %9.2f %12.2f %9.2f %9.2f %9.2f\n",
			$1, $2, $3 == after ? "after" : "before", $4 / 1000, $5 / 1024, $6 / 1024,
			$10 / 1000, $7 / 1000, $8 / 1000, $9 / 1000, ($10 - rr[r]) / 1000,
			($7 - rv[r]) / 1000, ($8 - rc[r]) / 1000
		if ($2 != "c" && $3 == after)
			targets[++nt] = sprintf("N=%d (%s): verified %+.2f s (target <= 0.5: %s; " \
				"to the reload %+.2f s, the rest nginx'"'"'s own reload), " \
				"CPU %+.2f s (target <= 0.1: %s) against (c)", $1, $2,
				($7 - rv[r]) / 1000, $7 - rv[r] <= 500 ? "met" : "missed",
				($10 - rr[r]) / 1000,
				($8 - rc[r]) / 1000, $8 - rc[r] <= 100 ? "met" : "missed")
	}
	END {
		if (nt)
			print ""
		for (i = 1; i <= nt; i++)
			print targets[i]
	}
' "$RESULTS"
echo
echo "idle: $UNRELATED files created and deleted in live/ beside N lineages, daemon (b) at rest"
awk -v after="$CERTWATCH" -v tick="$TICK" '
	BEGIN { printf "%6s %-6s %-8s %8s %9s %10s\n", "N", "build", "thread", "CPU s", "wake-ups",
		"log lines" }
	{ printf "%6d %-6s %-8s %8.2f %9d %10d\n", $1, $2 == after ? "after" : "before", $3,
		$4 / tick, $5, $6 }
' "$IDLE"
if [ "$failed" -ne 0 ]; then
	echo "renewal-scale: FAILED: $failed renewal(s) not verified" >&2
	exit 1
fi
exit 0
