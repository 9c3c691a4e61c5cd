#!/bin/sh
# A private InspIRCd 3 (Debian's inspircd, GnuTLS) on loopback, as the
# user irc: STARTTLS (m_starttls) on one port, TLS on another.  certwatch
# must see what openssl s_client sees (a small reference client for
# STARTTLS, which s_client gives up on).  InspIRCd loads its certificate
# once; it reloads it on SIGUSR1 (m_sslrehashsignal), not on the SIGHUP of
# Debian's unit, which rehashes everything else: a certbot renewal must be
# reloaded through reload-signal = "USR1" with InspIRCd's pid file (its
# own, written as irc), and verified: kind "inspircd" with the recipe it
# names for an InspIRCd that writes a pid file, overriding the kind's own
# (SIGUSR1 through systemd to inspircd.service, which is not this one).
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/lib-servers.sh"

server_test 63 inspircd openssl setpriv

I="$TEST_TMP/inspircd"
mkdir -p "$I"
# InspIRCd reads the key as irc.
key_to_irc() {
	chown irc "$LIVE/privkey.pem"
}
RENEW_HOOK=key_to_irc
server_pairs irc irc.test 2

irc_port=$(free_port)
ircs_port=$(free_port)
cat >"$I/inspircd.conf" <<EOF
<server name="irc.test" description="certwatch test" network="certwatch">
<admin name="test" nick="test" email="test@irc.test">
<module name="ssl_gnutls">
<module name="starttls">
<module name="sslrehashsignal">
<sslprofile name="main" provider="gnutls" certfile="$LIVE/fullchain.pem"
	keyfile="$LIVE/privkey.pem" dhfile="">
<bind address="127.0.0.1" port="$irc_port" type="clients">
<bind address="127.0.0.1" port="$ircs_port" type="clients" sslprofile="main">
<connect allow="*" timeout="60" pingfreq="120" localmax="100" globalmax="100" limit="100">
<pid file="$I/inspircd.pid">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="$I/ircd.log">
<path configdir="$I" datadir="$I" logdir="$I" moduledir="/usr/lib/inspircd/modules"
	runtimedir="$I">
EOF
chown -R irc "$I"
start_bg inspircd setpriv --reuid=irc --regid=irc --init-groups \
	"$(command -v inspircd)" --config="$I/inspircd.conf" --nofork
wait_port 127.0.0.1 "$ircs_port" 20 "$bg_pid" && wait_port 127.0.0.1 "$irc_port" 10 "$bg_pid" &&
	wait_for 10 test -s "$I/inspircd.pid" ||
	bail_out "inspircd did not start: $(tail -n 5 "$TEST_TMP/inspircd.log")"

# openssl s_client -starttls irc gives up at InspIRCd's first notice.
ref=$(dialogue_fp "$irc_port" irc.test "STARTTLS| 670 ")
cw check --connect "127.0.0.1:$irc_port" --starttls irc --name irc.test --json
same_fp "$(json_get "$cw_out" endpoints.0.served.sha256)" "$ref" \
	"inspircd STARTTLS: certwatch's fingerprint equals the reference client's" ||
	diag "$(cat "$TEST_TMP/reference.err")"
is "$(json_get "$cw_out" endpoints.0.probe.status)" ok "inspircd STARTTLS: probe status ok"
server_fp_same "inspircd TLS" "$ircs_port" - - irc.test

server_guarded inspircd irc.test 1 'kind = "inspircd"' 'reload-signal = "USR1"' \
	"pid-file = \"$I/inspircd.pid\"" 'pid-file-owner = "irc"' \
	"pid-program = \"$(command -v inspircd)\"" \
	"endpoint irc { port = $irc_port }" "endpoint ircs { port = $ircs_port }"
is "$(served_fp 127.0.0.1 "$ircs_port" - irc.test)" "$(cert_fp "$LAST.crt")" \
	"inspircd: openssl s_client sees the renewed certificate"
done_testing
