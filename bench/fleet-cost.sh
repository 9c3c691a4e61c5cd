#!/bin/sh
# bench/fleet-cost.sh - what one host's check costs, for sizing a fleet
# (doc/fleet.md): the plugin (check_certwatch, as an Icinga 2 agent or NRPE
# runs it) and `certwatch check --prometheus` (what a timer would write for
# node_exporter) over N endpoints of a loopback nginx, and how many series
# a host's metrics file adds to Prometheus.
#
# Usage, as root, from the build directory after make:
#	../bench/fleet-cost.sh [N...]        (default: 1 10 100)
# Environment: CERTWATCH (default ./certwatch), REPEAT (runs of each
# figure, the median is shown; default 5).
#
# For each N: N names, each with its own ECDSA certificate from a
# throw-away CA, served by one private nginx on one port (SNI picks the
# name); one certwatch.conf service with N endpoints.  /usr/bin/time -v
# gives wall time, user+system CPU and peak RSS of each run.  Everything
# lives in a temporary directory removed at the end.  Exit status 0 when
# every run reported every endpoint OK, 1 when one did not, 2 when the
# setup failed.
set -u

REPEAT=${REPEAT:-5}
[ $# -gt 0 ] || set -- 1 10 100
if [ "$(id -u)" -ne 0 ]; then
	echo "fleet-cost: run me as root: I start a private nginx" >&2
	exit 2
fi
CERTWATCH=${CERTWATCH:-$PWD/certwatch}
[ -x "$CERTWATCH" ] || {
	echo "fleet-cost: no certwatch in $PWD: run me from the build directory after make" >&2
	exit 2
}
TESTS_SRCDIR=$(cd "$(dirname "$0")/../tests" && pwd) || exit 2
export CERTWATCH TESTS_SRCDIR
# shellcheck source=../tests/lib.sh
. "$TESTS_SRCDIR/lib.sh"

# No TAP here: a setup failure is a plain message and exit status 2.
bail_out() {
	echo "fleet-cost: $*" >&2
	exit 2
}
[ -x /usr/bin/time ] || bail_out "/usr/bin/time is not installed (apt-get install time)"
command -v nginx >/dev/null 2>&1 || bail_out "nginx is not installed"
port_range 41
ca_init || bail_out "cannot make the CA"
ln -s "$CERTWATCH" "$TEST_TMP/check_certwatch" || bail_out "cannot link check_certwatch"

# run LABEL N COMMAND...: REPEAT runs; prints the medians of wall ms, CPU ms
# and peak RSS KiB; fails when a run did not exit 0.
run() {
	_label=$1
	_n=$2
	shift 2
	_r=1
	: >"$TEST_TMP/runs"
	while [ "$_r" -le "$REPEAT" ]; do
		_t0=$(now_ms)
		/usr/bin/time -v -o "$TEST_TMP/time.out" "$@" >"$TEST_TMP/out" 2>&1 || {
			echo "fleet-cost: $_label over $_n endpoints failed: $(head -c 300 "$TEST_TMP/out")" >&2
			return 1
		}
		_t1=$(now_ms)
		awk -v wall=$((_t1 - _t0)) '/User time|System time/ { cpu += $NF }
			/Maximum resident set size/ { rss = $NF }
			END { printf "%d %d %d\n", wall, cpu * 1000, rss }' "$TEST_TMP/time.out" >>"$TEST_TMP/runs"
		_r=$((_r + 1))
	done
	for _col in 1 2 3; do
		sort -n -k "$_col" "$TEST_TMP/runs" | awk -v c="$_col" -v n="$REPEAT" \
			'NR == int((n + 1) / 2) { printf "%s ", $c }'
	done
	echo
}

printf '%-34s %6s %8s %8s %8s %9s\n' "" endpoints "wall ms" "CPU ms" "RSS KiB" "series"
status=0
for n in "$@"; do
	dir="$TEST_TMP/n$n"
	mkdir -p "$dir" && : >"$dir/servers" || bail_out "cannot make $dir"
	nport=$(free_port)
	i=1
	while [ "$i" -le "$n" ]; do
		ca_leaf "$dir/vh$i" 90 "vh$i.fleet.test" || bail_out "cannot make a certificate"
		printf '\tserver { listen 127.0.0.1:%s ssl; server_name vh%s.fleet.test; ' "$nport" "$i"
		printf 'ssl_certificate %s; ssl_certificate_key %s; }\n' \
			"$dir/vh$i.fullchain.pem" "$dir/vh$i.key"
		i=$((i + 1))
	done >>"$dir/servers"
	TEST_TMP_SAVED=$TEST_TMP
	NGINX_HTTP_EXTRA="server_names_hash_bucket_size 128;"
	TEST_TMP=$dir nginx_start "$nport" <"$dir/servers" || bail_out "nginx did not start"
	TEST_TMP=$TEST_TMP_SAVED
	{
		printf 'state-dir = "%s"\nservice fleet {\n\taddress = "127.0.0.1"\n' "$dir/state"
		i=1
		while [ "$i" -le "$n" ]; do
			printf '\tendpoint vh%s { port = %s name = "vh%s.fleet.test" cert = "%s" key = "%s" }\n' \
				"$i" "$nport" "$i" "$dir/vh$i.fullchain.pem" "$dir/vh$i.key"
			i=$((i + 1))
		done
		echo "}"
	} | write_conf "$dir/etc/certwatch.conf" || bail_out "cannot write the configuration"

	set -- $(run check_certwatch "$n" "$TEST_TMP/check_certwatch" --config "$dir/etc/certwatch.conf")
	[ $# -eq 3 ] || status=1
	grep -q "^CERTWATCH OK - " "$TEST_TMP/out" || status=1
	printf '%-34s %6d %8s %8s %8s %9s\n' "check_certwatch (plugin)" "$n" "${1:--}" "${2:--}" "${3:--}" -
	set -- $(run prometheus "$n" "$CERTWATCH" --config "$dir/etc/certwatch.conf" check --prometheus)
	[ $# -eq 3 ] || status=1
	series=$(grep -c '^certwatch_' "$TEST_TMP/out")
	[ "$(grep -c '^certwatch_endpoint_state{.*state="OK"} 1$' "$TEST_TMP/out")" -eq "$n" ] || status=1
	printf '%-34s %6d %8s %8s %8s %9s\n' "certwatch check --prometheus" "$n" "${1:--}" "${2:--}" "${3:--}" "$series"
	stop_pid "$nginx_pid"
done
echo "fleet-cost: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end;" \
	"medians of $REPEAT runs; certwatch $("$CERTWATCH" --version | sed 's/^certwatch //')," \
	"$(openssl version | cut -d' ' -f1-2)"
[ "$status" -eq 0 ] || echo "fleet-cost: FAILED: a run did not report every endpoint OK" >&2
exit "$status"
