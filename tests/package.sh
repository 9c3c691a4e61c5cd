#!/bin/sh
# The Debian package as an administrator meets it: built from a copy of
# the source tree with `dpkg-buildpackage -us -uc -b`, clean under lintian
# (no error, no warning), its contents, conffiles and dependencies, then
# installed with `dpkg -i` (nothing enabled, nothing started), the
# installed certwatch, `certwatch check` and check_certwatch against a
# loopback nginx through /etc/certwatch/conf.d, a guard enabled, the daemon
# leaving state, and a purge that leaves nothing behind.
#
# It installs into / and so is not part of `make check`: .ci/run runs it
# after the test suites, with CERTWATCH=/usr/sbin/certwatch.  It skips on
# a machine where certwatch is already installed.
. "$TESTS_SRCDIR/lib.sh"

top=$(cd "$TESTS_SRCDIR/.." && pwd)
require_root
require_cmd dpkg-buildpackage dpkg-parsechangelog lintian nginx openssl
if dpkg -s certwatch >/dev/null 2>&1 || [ -e /etc/certwatch ] || [ -e /usr/sbin/certwatch ]; then
	skip_all "certwatch is installed on this machine already; the test installs and purges it"
fi
port_range 30
ca_init || bail_out "cannot make the test CA"

version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version) ||
	bail_out "cannot read debian/changelog"
arch=$(dpkg --print-architecture)
deb="$TEST_TMP/certwatch_${version}_$arch.deb"
changes="$TEST_TMP/certwatch_${version}_$arch.changes"

# ---- build ----------------------------------------------------------------------

# The files git tracks (as in the working tree), never the
# checkout itself: the build writes only into the copy.
copy="$TEST_TMP/certwatch-$version"
mkdir -p "$copy"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$top" ls-files -z --cached |
		(cd "$top" && tar --null -T - -cf -) | tar -xf - -C "$copy"
else
	(cd "$top" && tar --exclude='./build*' --exclude=./.git -cf - .) | tar -xf - -C "$copy"
fi || bail_out "cannot copy the source tree"
before=$(git -C "$top" status --porcelain 2>/dev/null)

(cd "$copy" && dpkg-buildpackage -us -uc -b -j2) >"$TEST_TMP/build.log" 2>&1
rc=$?
is "$rc" 0 "dpkg-buildpackage -us -uc -b builds the package" ||
	bail_out "the build failed: $(tail -n 30 "$TEST_TMP/build.log")"
ok "it made $(basename "$deb")" test -s "$deb"
is "$(git -C "$top" status --porcelain 2>/dev/null)" "$before" \
	"the checkout is as it was: the build wrote only into its copy"

lintian --fail-on error,warning "$changes" >"$TEST_TMP/lintian.out" 2>&1
is "$?" 0 "lintian reports no error and no warning" || diag "$(cat "$TEST_TMP/lintian.out")"
# For the log: every tag down to info, and the overridden ones (O:), whose
# reasons are in debian/certwatch.lintian-overrides.
lintian --display-info --show-overrides "$changes" 2>&1 | grep '^[EWIO]: ' |
	sed 's/^/# lintian: /'

# ---- what is in it -----------------------------------------------------------------

dpkg-deb -c "$deb" | awk '{ print $1, $6, $7, $8 }' | sed 's| \./| /|' >"$TEST_TMP/contents"
has() {    # MODE-PREFIX PATH: the package holds PATH with that mode
	grep -q "^$1[^ ]* $2\( \|$\)" "$TEST_TMP/contents"
}
for f in /usr/sbin/certwatch /lib/systemd/system/certwatch.service \
	/lib/systemd/system/certwatch@.service /usr/share/man/man8/certwatch.8.gz \
	/usr/share/man/man5/certwatch.conf.5.gz /usr/share/certwatch/icinga2/certwatch.conf \
	/usr/share/certwatch/icinga2/certwatch-agents.conf /usr/share/certwatch/nagios/certwatch.cfg \
	/usr/share/certwatch/nagios/certwatch-agents.cfg /usr/share/certwatch/nrpe/certwatch.cfg \
	/usr/share/certwatch/sudoers/certwatch \
	/usr/share/certwatch/prometheus/certwatch.rules.yml \
	/usr/share/doc/certwatch/examples/dovecot.conf.example /usr/share/doc/certwatch/README.gz \
	/usr/share/doc/certwatch/fleet.md.gz; do
	ok "the package holds $f" has - "$f"
done
ok "check_certwatch in /usr/lib/nagios/plugins is a relative link to certwatch" \
	grep -qx 'lrwxrwxrwx /usr/lib/nagios/plugins/check_certwatch -> ../../../sbin/certwatch' \
	"$TEST_TMP/contents"
ok "/etc/certwatch is root's alone (0700)" has drwx------ /etc/certwatch/
ok "so is /etc/certwatch/conf.d" has drwx------ /etc/certwatch/conf.d/
ok "certwatch.conf is 0600" has -rw------- /etc/certwatch/certwatch.conf
unlike "$(cat "$TEST_TMP/contents")" ' /var/' \
	"nothing in /var: the state directory is the units' StateDirectory="
unlike "$(cat "$TEST_TMP/contents")" ' /usr/lib/systemd/' \
	"no unit under /usr/lib/systemd, where Debian 12 does not look for packaged units"
dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles >"$TEST_TMP/conffiles" 2>/dev/null
is "$(cat "$TEST_TMP/conffiles")" /etc/certwatch/certwatch.conf "certwatch.conf is the conffile"

# Depends: exactly the packages of the libraries the binary links.
depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/[ (].*//; s/^ *//' |
	grep . | sort | tr '\n' ' ')
dpkg-deb -x "$deb" "$TEST_TMP/unpacked"
needed=$(objdump -p "$TEST_TMP/unpacked/usr/sbin/certwatch" | awk '$1 == "NEEDED" { print $2 }')
libpkgs=$(for lib in $needed; do
	dpkg -S "$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')" 2>/dev/null |
		sed 's/:.*//'
done | sort -u | tr '\n' ' ')
is "$depends" "$libpkgs" "Depends names the packages of the linked libraries and nothing else"

# ---- installed --------------------------------------------------------------------

at_exit "dpkg --purge certwatch"
at_exit "rm -f /etc/certwatch/conf.d/web.conf"
dpkg -i "$deb" >"$TEST_TMP/dpkg-i.log" 2>&1
is "$?" 0 "dpkg -i installs it" || diag "$(cat "$TEST_TMP/dpkg-i.log")"
is "$(dpkg-query -W -f '${db:Status-Status}' certwatch)" installed "dpkg sees it installed"

is "$(stat -c '%U:%G %a' /etc/certwatch /etc/certwatch/conf.d /etc/certwatch/certwatch.conf |
	tr '\n' ' ')" "root:root 700 root:root 700 root:root 600 " \
	"the installed configuration is root's, 0700 and 0600"
is "$(find /etc/systemd/system -name 'certwatch*' 2>/dev/null | wc -l | tr -d ' ')" 0 \
	"no unit is enabled by the install"
# certwatch_pids: the processes running the installed binary.
certwatch_pids() {
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = /usr/sbin/certwatch ] && echo "${p#/proc/}"
	done
}
is "$(certwatch_pids)" "" "and nothing runs the installed certwatch"

CERTWATCH=/usr/sbin/certwatch
cw --version
is "$cw_out" "certwatch $version" "the installed certwatch --version is the package's version"
cw --test-config
is "$cw_rc" 0 "the shipped certwatch.conf is valid (certwatch --test-config)" || diag "$cw_err"

ca_leaves 90 web.test A
web_fixture rename web.test=A
(umask 077 && web_service web web.test >/etc/certwatch/conf.d/web.conf)
cw check
is "$cw_rc" 0 "certwatch check, reading /etc/certwatch and its conf.d, is OK for nginx" ||
	diag "$cw_out" "$cw_err"
like "$cw_out" 'web +https .*OK' "its table names the endpoint as OK"
out=$(/usr/lib/nagios/plugins/check_certwatch 2>&1)
is "$?" 0 "/usr/lib/nagios/plugins/check_certwatch exits 0 (OK)"
like "$out" '^CERTWATCH OK - ' "and prints the plugin's status line"

# An agent (NRPE, the Icinga 2 agent) runs as nagios and the check through
# sudo, with the shipped rule; nothing but the shipped definitions' options.
if getent passwd nagios >/dev/null && command -v sudo >/dev/null 2>&1; then
	at_exit "rm -f /etc/sudoers.d/certwatch"
	install -m 0440 /usr/share/certwatch/sudoers/certwatch /etc/sudoers.d/certwatch
	nrpe=$(sed -n 's/^command\[check_certwatch\]=//p' /usr/share/certwatch/nrpe/certwatch.cfg)
	out=$(su nagios -s /bin/sh -c "$nrpe" 2>&1)
	is "$?" 0 "NRPE's command, run as nagios, checks through sudo: OK" || diag "$out"
	like "$out" '^CERTWATCH OK - ' "with the plugin's status line"
	out=$(su nagios -s /bin/sh -c "sudo -n /usr/lib/nagios/plugins/check_certwatch --service web -w 30: -c 7: -t 20 -v" 2>&1)
	is "$?" 0 "so does Icinga's certwatch-sudo with a service, thresholds, a timeout, -v" ||
		diag "$out"
	su nagios -s /bin/sh -c "sudo -n /usr/lib/nagios/plugins/check_certwatch --config /etc/shadow" \
		>/dev/null 2>&1
	isnt "$?" 0 "but sudo refuses the agent --config (root would read a file of its choosing)"
	rm -f /etc/sudoers.d/certwatch
else
	skip "no nagios user or no sudo: the agents' way is not tried"
fi

# A guard, enabled the way the README says (systemd is not needed for that).
if [ -f /lib/systemd/system/nginx.service ] && command -v systemctl >/dev/null 2>&1; then
	systemctl enable certwatch@nginx.service >"$TEST_TMP/enable.log" 2>&1
	ok "systemctl enable certwatch@nginx links the guard into nginx.service.wants" \
		test -L /etc/systemd/system/nginx.service.wants/certwatch@nginx.service ||
		diag "$(cat "$TEST_TMP/enable.log")"
else
	skip "no nginx.service or systemctl to enable a guard with"
fi

# The state the daemon leaves where systemd's StateDirectory= would put it.
mkdir -m 0700 /var/lib/certwatch
daemon_start /etc/certwatch/certwatch.conf
ok "the installed daemon writes its state in /var/lib/certwatch" \
	wait_for 30 test -s /var/lib/certwatch/state || diag "$(cat "$DAEMON_LOG")"
daemon_stop
is "$daemon_rc" 0 "and stops cleanly"

# ---- purged ------------------------------------------------------------------------

rm -f /etc/certwatch/conf.d/web.conf    # the administrator's file, not the package's
dpkg --purge certwatch >"$TEST_TMP/purge.log" 2>&1
is "$?" 0 "dpkg --purge removes it" || diag "$(cat "$TEST_TMP/purge.log")"
dpkg-query -W certwatch >/dev/null 2>&1
isnt "$?" 0 "dpkg has forgotten it"
left=$(awk '$1 !~ /^d/ { print $2 }' "$TEST_TMP/contents" | while read -r f; do
	if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi
done)
for d in /etc/certwatch /var/lib/certwatch /usr/share/certwatch /usr/share/doc/certwatch \
	/etc/systemd/system/nginx.service.wants/certwatch@nginx.service; do
	if [ -e "$d" ] || [ -L "$d" ]; then left="$left $d"; fi
done
is "$left" "" "nothing of it is left: files, configuration, state, the guard's link"
is "$(certwatch_pids)" "" "and nothing runs it"

done_testing
