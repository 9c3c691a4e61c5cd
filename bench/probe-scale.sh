#!/bin/sh
# bench/probe-scale.sh - how `certwatch check` scales with the number of
# virtual hosts behind one port, against what an administrator's
# `openssl s_client` loop costs on the same hosts, measured in the same run.
#
# Usage, as root, from the build directory after make:
#	../bench/probe-scale.sh [N]
# N virtual hosts (default 1000).  Environment, all optional:
#	CERTWATCH   the binary (default ./certwatch)
#	PROBES      the max-probes values measured (default "1 8 32 128")
#	REPEAT      runs of each certwatch figure; the median is shown (3)
#	REF_REPEAT  runs of each reference figure; the median is shown (1)
#	PARALLEL    xargs -P of the parallel reference (32)
#	PERF_EVENT  the perf event counted (instructions); skipped when perf
#	            cannot count it, as in most virtual machines
#
# One private nginx (one worker) listens on one 127.0.0.1 port with N
# server blocks, each with its own name and ECDSA P-256 certificate from a
# throw-away CA; SNI picks the block.  The certwatch.conf has one service
# with N endpoints, one per name.  Every figure is described in bench/README.
#
# Exit status: 0 when every certwatch run reported every endpoint OK with
# the fingerprint of that endpoint's own certificate file, 1 when one did
# not, 2 when the setup failed.  The servers, certificates and
# configuration live in a temporary directory removed at the end.
set -u

N=${1:-1000}
PROBES=${PROBES:-1 8 32 128}
REPEAT=${REPEAT:-3}
REF_REPEAT=${REF_REPEAT:-1}
PARALLEL=${PARALLEL:-32}
PERF_EVENT=${PERF_EVENT:-instructions}

for v in "$N" "$REPEAT" "$REF_REPEAT" "$PARALLEL" $PROBES; do
	case $v in
	'' | *[!0-9]* | 0*)
		echo "probe-scale: '$v' is not a positive integer" \
			"(usage: probe-scale.sh [N], see the head of the script)" >&2
		exit 2
		;;
	esac
done
if [ "$(id -u)" -ne 0 ]; then
	echo "probe-scale: run me as root: I start a private nginx" >&2
	exit 2
fi
CERTWATCH=${CERTWATCH:-$PWD/certwatch}
if [ ! -x "$CERTWATCH" ]; then
	echo "probe-scale: no certwatch in $PWD: run me from the build directory after make," \
		"or name the binary in CERTWATCH" >&2
	exit 2
fi
TESTS_SRCDIR=$(cd "$(dirname "$0")/../tests" && pwd) || exit 2
export CERTWATCH TESTS_SRCDIR
# shellcheck source=../tests/lib.sh
. "$TESTS_SRCDIR/lib.sh"

# No TAP here: a setup failure is a plain message and exit status 2.
bail_out() {
	echo "probe-scale: $*" >&2
	exit 2
}
for c in nginx openssl timeout xargs; do
	command -v "$c" >/dev/null 2>&1 || bail_out "$c is not installed"
done
[ -x /usr/bin/time ] || bail_out "/usr/bin/time is not installed (apt-get install time)"
"$PYTHON" -c 'import hashlib, json' 2>/dev/null || bail_out "python3 is not installed"

port_range 40
port=$(free_port)
RESULTS="$TEST_TMP/results"
: >"$RESULTS"
# shellcheck source=vhosts.sh
. "$(dirname "$0")/vhosts.sh"
vhosts_names "$N"

# ---- setup: certificates, nginx, certwatch.conf ---------------------------

vhosts_certs
vhosts_server_lines "$port" "$CERTS" .pem .key >"$TEST_TMP/servers"
vhosts_nginx "$port" "$TEST_TMP/servers"

# conf_for MAX-PROBES: the configuration file with that bound (written once).
conf_for() {
	echo "$TEST_TMP/etc-$1/certwatch.conf"
}
for m in $PROBES; do
	{
		cat <<EOF
state-dir = "$TEST_TMP/state"
max-probes = $m
service bench {
	address = "127.0.0.1"
EOF
		while read -r n; do
			printf '\tendpoint %s { port = %s name = "%s" cert = "%s" key = "%s" }\n' \
				"${n%%.*}" "$port" "$n" "$CERTS/$n.pem" "$CERTS/$n.key"
		done <"$NAMES"
		echo "}"
	} | write_conf "$(conf_for "$m")" || bail_out "cannot write $(conf_for "$m")"
done
"$CERTWATCH" --config "$(conf_for "$m")" --test-config >/dev/null 2>"$TEST_TMP/test-config.err" ||
	bail_out "certwatch rejects the configuration: $(head -n 5 "$TEST_TMP/test-config.err")"

# ---- measuring --------------------------------------------------------------

# Counting with perf only when it really counts (in a VM it usually says
# "<not supported>" and exits 0).
perf_ok=""
if command -v perf >/dev/null 2>&1 &&
	perf stat -x, -e "$PERF_EVENT" -o "$TEST_TMP/perf.probe" -- true >/dev/null 2>&1 &&
	grep -Eq '^[0-9]+,' "$TEST_TMP/perf.probe"; then
	perf_ok=1
fi

# measure LABEL OUT COMMAND [ARG...]: runs the command with its output in
# OUT, under /usr/bin/time -v (and perf stat when it counts), and appends
# "LABEL WALL-MS CPU-S PEAK-RSS-KB COUNT" to $RESULTS.  CPU and peak RSS
# cover the command's descendants (a loop of openssl calls: all of them
# for CPU, the largest one for RSS).
measure() {
	_label=$1
	_out=$2
	shift 2
	set -- /usr/bin/time -v -o "$TEST_TMP/time.out" timeout -k 5 600 "$@"
	[ -n "$perf_ok" ] && set -- perf stat -x, -e "$PERF_EVENT" -o "$TEST_TMP/perf.out" -- "$@"
	_t0=$(now_ms)
	"$@" >"$_out" 2>"$TEST_TMP/run.err"
	_t1=$(now_ms)
	_count=-
	[ -n "$perf_ok" ] && _count=$(grep -Eo -m 1 '^[0-9]+' "$TEST_TMP/perf.out")
	awk -v label="$_label" -v wall=$((_t1 - _t0)) -v count="${_count:--}" '
		/User time/ { cpu += $NF }
		/System time/ { cpu += $NF }
		/Maximum resident set size/ { rss = $NF }
		END { printf "%s %d %.2f %d %s\n", label, wall, cpu, rss, count }
	' "$TEST_TMP/time.out" >>"$RESULTS"
}

# fingerprints MODE SOURCE: "GOOD BAD FIRST-PROBLEM" for the N names; MODE
# "check" reads certwatch's JSON, "ref" the directory of s_client outputs.
# GOOD counts the names seen (and for check: reported OK) serving exactly
# their own certificate file, by SHA-256 of the DER.
fingerprints() {
	"$PYTHON" - "$1" "$2" "$CERTS" "$NAMES" <<'EOF'
import base64, hashlib, json, os, re, sys

mode, source, certs, names_file = sys.argv[1:5]
PEM = re.compile(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)

def first_fp(data):
    m = PEM.search(data)
    return hashlib.sha256(base64.b64decode(b"".join(m.group(1).split()))).hexdigest() if m else None

names = open(names_file).read().split()
seen = {}
if mode == "check":
    try:
        report = json.load(open(source))
    except (OSError, ValueError) as e:
        print(0, len(names), "no JSON from certwatch: %s" % e)
        sys.exit(0)
    for e in report.get("endpoints", []):
        served = (e.get("served") or {}).get("sha256")
        seen[e.get("name")] = (e.get("state"), served, e.get("reason"))
else:
    for n in names:
        try:
            out = open(os.path.join(source, n), "rb").read()
        except OSError:
            continue
        i = out.find(b"Server certificate")
        seen[n] = ("OK", first_fp(out[i:]) if i >= 0 else None, "s_client")
good, problem = 0, []
for n in names:
    want = first_fp(open(os.path.join(certs, n + ".crt"), "rb").read())
    state, got, reason = seen.get(n, (None, None, "not reported"))
    if state == "OK" and got == want:
        good += 1
    elif not problem:
        problem = ["%s: %s, served %s, its file %s (%s)" % (n, state, got, want, reason)]
print(good, len(names) - good, *problem)
EOF
}

# Interleaved, so that a noisy neighbour hurts every figure alike.
bad_runs=0
first_problem=""
r=1
while [ "$r" -le "$REPEAT" ] || [ "$r" -le "$REF_REPEAT" ]; do
	if [ "$r" -le "$REPEAT" ]; then
		for m in $PROBES; do
			measure "cw$m" "$TEST_TMP/check-$m.json" \
				"$CERTWATCH" --config "$(conf_for "$m")" check --json
			# shellcheck disable=SC2046 # GOOD BAD PROBLEM...
			set -- $(fingerprints check "$TEST_TMP/check-$m.json")
			echo "cw$m $1" >>"$TEST_TMP/correct"
			if [ "$2" -ne 0 ]; then
				bad_runs=$((bad_runs + 1))
				shift 2
				[ -n "$first_problem" ] ||
					first_problem="max-probes=$m: $* $(head -c 300 "$TEST_TMP/run.err")"
			fi
		done
	fi
	if [ "$r" -le "$REF_REPEAT" ]; then
		for mode in seq par; do
			rm -rf "$TEST_TMP/ref"
			mkdir "$TEST_TMP/ref" || bail_out "cannot make $TEST_TMP/ref"
			if [ "$mode" = seq ]; then
				# shellcheck disable=SC2016 # expanded by the inner shell
				measure seq /dev/null sh -c '
					while read -r n; do
						openssl s_client -connect "127.0.0.1:$1" -servername "$n" \
							</dev/null >"$2/$n" 2>&1
					done <"$3"' sh "$port" "$TEST_TMP/ref" "$NAMES"
			else
				# shellcheck disable=SC2016 # expanded by the inner shell
				measure par /dev/null xargs -P "$PARALLEL" -n 1 <"$NAMES" sh -c '
					openssl s_client -connect "127.0.0.1:$1" -servername "$3" \
						</dev/null >"$2/$3" 2>&1' sh "$port" "$TEST_TMP/ref"
			fi
			# shellcheck disable=SC2046 # GOOD BAD PROBLEM...
			set -- $(fingerprints ref "$TEST_TMP/ref")
			echo "$mode $1" >>"$TEST_TMP/correct"
		done
	fi
	r=$((r + 1))
done

# ---- the table ----------------------------------------------------------------

echo "probe-scale: $N virtual hosts on 127.0.0.1:$port, one nginx worker, $(nproc) CPUs," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "  $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(openssl version | cut -d' ' -f1-2)," \
	"certwatch $("$CERTWATCH" --version 2>/dev/null | head -n 1 | sed 's/^certwatch //')"
printf '  setup: %d certificates in %s s (%s processes at a time), nginx up in %s s holding %s MiB\n' \
	"$N" "$(ms_to_s "$certs_ms")" "$jobs" "$(ms_to_s "$nginx_ms")" $((nginx_rss / 1024))
if [ -n "$perf_ok" ]; then
	echo "  medians of $REPEAT certwatch run(s) and $REF_REPEAT reference run(s); count = perf $PERF_EVENT"
else
	echo "  medians of $REPEAT certwatch run(s) and $REF_REPEAT reference run(s);" \
		"$PERF_EVENT not counted: perf cannot count it here"
fi
echo
labels=""
for m in $PROBES; do
	labels="$labels cw$m"
done
awk -v n="$N" -v labels="$labels seq par" -v par="$PARALLEL" '
	function extreme(list, want_max,    a, k, i, m) {
		k = split(list, a, " ")
		m = a[1] + 0
		for (i = 2; i <= k; i++)
			if (want_max ? a[i] + 0 > m : a[i] + 0 < m)
				m = a[i] + 0
		return m
	}
	function median(list,    a, k, i, j, t) {
		k = split(list, a, " ")
		for (i = 2; i <= k; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	FILENAME ~ /correct$/ { good[$1] = good[$1] " " $2; next }
	{
		wall[$1] = wall[$1] " " $2; cpu[$1] = cpu[$1] " " $3
		rss[$1] = rss[$1] " " $4; cnt[$1] = cnt[$1] " " $5
	}
	END {
		name["seq"] = "s_client loop, sequential"
		name["par"] = "s_client, xargs -P " par
		k = split(labels, l, " ")
		for (i = 1; i <= k; i++) {
			x = l[i]
			if (!(x in name))
				name[x] = "certwatch check, max-probes " substr(x, 3)
			W[x] = median(wall[x]) / 1000; C[x] = median(cpu[x])
		}
		printf "%-32s %7s %11s %8s %6s %7s %9s %6s %8s %8s %7s\n", "", "wall s", "(min-max)", \
			"ms/vhost", "CPU s", "RSS MiB", "good", "count", "wall/seq", "wall/par", "CPU/seq"
		for (i = 1; i <= k; i++) {
			x = l[i]
			c = median(cnt[x])
			if (c !~ /^[0-9.e+]+$/)
				c = "-"
			else if (c >= 1e9)
				c = sprintf("%.2fG", c / 1e9)
			else if (c >= 1e6)
				c = sprintf("%.1fM", c / 1e6)
			g = split(good[x], gg, " "); mn = n
			for (j = 1; j <= g; j++)
				if (gg[j] + 0 < mn) mn = gg[j] + 0
			rs = (W["seq"] > 0) ? sprintf("%.3f", W[x] / W["seq"]) : "-"
			rp = (W["par"] > 0) ? sprintf("%.3f", W[x] / W["par"]) : "-"
			rc = (C["seq"] > 0) ? sprintf("%.3f", C[x] / C["seq"]) : "-"
			mm = sprintf("(%.2f-%.2f)", extreme(wall[x], 0) / 1000, extreme(wall[x], 1) / 1000)
			printf "%-32s %7.2f %11s %8.2f %6.2f %7.1f %9s %6s %8s %8s %7s\n", name[x], W[x], mm, \
				W[x] * 1000 / n, C[x], median(rss[x]) / 1024, mn "/" n, c, rs, rp, rc
		}
	}
' "$RESULTS" "$TEST_TMP/correct"
echo

if [ "$bad_runs" -ne 0 ]; then
	echo "probe-scale: FAILED: $bad_runs certwatch run(s) did not report every endpoint OK" \
		"with its own certificate; first: $first_problem" >&2
	exit 1
fi
echo "probe-scale: every certwatch run reported all $N endpoints OK, each with its own certificate"
exit 0
