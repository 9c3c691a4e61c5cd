#!/bin/sh
# The shipped systemd units load (systemd-analyze verify), the template
# instance for a service loads too, both leave room for max-probes sockets
# (LimitNOFILE=), and the hardening keeps systemd's exposure score at or
# below 4.0 ("OK").
n=0 failed=0
t() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "1..0 # SKIP systemd-analyze is not installed"
	exit 0
fi
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
units="$TESTS_SRCDIR/../units"
for u in certwatch.service certwatch@.service; do
	sed -e "s|@sbindir@/certwatch|$CERTWATCH|" -e "s|@localstatedir@|/var|" "$units/$u.in" >"$dir/$u"
done
# An instance needs the unit it guards to exist as a name only.
printf '[Service]\nExecStart=/bin/true\n' >"$dir/dovecot.service"

out=$(cd "$dir" && systemd-analyze verify --man=no certwatch.service 2>&1)
[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/# /'
t "$([ -z "$out" ]; echo $?)" "certwatch.service passes systemd-analyze verify"
out=$(cd "$dir" && systemd-analyze verify --man=no certwatch@dovecot.service 2>&1)
[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/# /'
t "$([ -z "$out" ]; echo $?)" "certwatch@dovecot.service passes systemd-analyze verify"
for u in certwatch.service certwatch@.service; do
	grep -Eq '^LimitNOFILE=[0-9]+$' "$dir/$u"
	t $? "$u raises the limit of open files above max-probes (LimitNOFILE=)"
done
for u in certwatch.service certwatch@dovecot.service; do
	score=$(cd "$dir" && systemd-analyze security --offline=yes "$u" 2>&1 |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	echo "# $u: exposure $score"
	(cd "$dir" && systemd-analyze security --offline=yes --threshold=40 "$u" >/dev/null 2>&1)
	t $? "$u has an exposure level of at most 4.0 ($score)"
done
echo "1..$n"
exit $failed
