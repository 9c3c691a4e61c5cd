#!/bin/sh
# A private INN 2.7 (Debian's inn2) on loopback: innd with a configuration
# of its own (INNCONF), its database copied from the package's.  To a
# client it peers with (loopback, by Debian's incoming.conf) innd answers
# in transit mode: its capabilities list MODE-READER, not STARTTLS, and
# only the nnrpd it hands over to after MODE READER speaks TLS.  certwatch
# used to stop at "does not offer STARTTLS"; it must now get the
# certificate, the same as a small reference client (openssl s_client
# cannot send MODE READER first).  innd starts an nnrpd for each reader,
# which reads the certificate files anew: a certbot renewal is served with
# no reload, as kind "inn" says.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/lib-servers.sh"

INND=/usr/lib/news/bin/innd
[ -x "$INND" ] || skip_all "inn2 is not installed"
server_test 62 openssl setpriv

N="$TEST_TMP/inn"
mkdir -p "$N/db" "$N/spool" "$N/run" "$N/log" "$N/tmp" "$N/overview" "$N/incoming" \
	"$N/outgoing" "$N/archive" "$N/http"
cp -a /etc/news "$N/etc" && cp -a /var/lib/news/. "$N/db/" ||
	bail_out "cannot copy INN's configuration and database"
# nnrpd reads the key as news, as Debian's INN documentation has it.
key_to_news() {
	chown news "$LIVE/privkey.pem"
}
RENEW_HOOK=key_to_news
server_pairs news news.test 2

nntp_port=$(free_port)
# inn.conf as the package's, with this instance's paths, port and files.
"$PYTHON" - "$N/etc/inn.conf" "$N" "$nntp_port" "$LIVE" <<'EOF'
import sys
path, n, port, live = sys.argv[1:]
ours = {"pathetc": n + "/etc", "pathdb": n + "/db", "pathspool": n + "/spool",
        "pathrun": n + "/run", "pathlog": n + "/log", "pathtmp": n + "/tmp",
        "pathoverview": n + "/overview", "pathincoming": n + "/incoming",
        "pathoutgoing": n + "/outgoing", "patharchive": n + "/archive",
        "pathhttp": n + "/http", "bindaddress": "127.0.0.1", "port": port,
        "tlscertfile": live + "/fullchain.pem", "tlskeyfile": live + "/privkey.pem",
        "nnrpdloadlimit": "0"}    # a loaded test machine is no reason to refuse
lines = [l for l in open(path).read().splitlines()
         if l.split(":", 1)[0].strip() not in ours]
lines += ["%s: %s" % kv for kv in ours.items()]
open(path, "w").write("\n".join(lines) + "\n")
EOF
chown -R news:news "$N"
INNCONF="$N/etc/inn.conf"
export INNCONF
start_bg innd setpriv --reuid=news --regid=news --init-groups "$INND" -f
# innd's own way down, before stop_pid's SIGTERM (which it may sit out).
at_exit "/usr/lib/news/bin/ctlinnd -s -t 5 shutdown certwatch-test"
wait_port 127.0.0.1 "$nntp_port" 20 "$bg_pid" ||
	bail_out "innd did not start: $(tail -n 5 "$TEST_TMP/innd.log" "$N/log/errlog")"

ref=$(dialogue_fp "$nntp_port" news.test "|^20" "MODE READER|^20" "STARTTLS|^382")
is "$ref" "$(leaf_fp certs/news-0)" "the reference client sees the certificate after MODE READER" ||
	diag "$(cat "$TEST_TMP/reference.err")"
cw check --connect "127.0.0.1:$nntp_port" --starttls nntp --name news.test --json
same_fp "$(json_get "$cw_out" endpoints.0.served.sha256)" "$ref" \
	"innd in transit mode: certwatch's fingerprint equals the reference client's"
is "$(json_get "$cw_out" endpoints.0.probe.status)" ok "innd in transit mode: probe status ok" ||
	diag "$(json_get "$cw_out" endpoints.0.probe.detail)"

server_guarded inn news.test 0 'kind = "inn"' "endpoint nntp { port = $nntp_port }"
done_testing
