#!/bin/sh
# What the daemon says when it happens, and once: a private key that group
# or others may read is named once per key file however many endpoints
# share it and however many passes see it (and so does --test-config);
# the fall back to polling at the inotify watch limit is announced at once,
# naming the limit and how to raise it, not at the first periodic pass.
# The watch limit is a stand-in for the kernel's: tests/fakeinotify.so in
# the daemon's LD_PRELOAD fails its third new watch with ENOSPC, as the
# kernel does at its limit, so the daemon takes its real path, and its
# message names the kernel's real limit.  No sysctl is touched.
. "$TESTS_SRCDIR/lib.sh"

require_root
require_certwatch_check
require_cmd openssl
fakeinotify="$TESTS_BUILDDIR/fakeinotify.so"
[ -f "$fakeinotify" ] || bail_out "$fakeinotify is not built (make check builds it)"
port_range 38
ca_init || bail_out "cannot make the test CA"
ca_leaves 60 web.test A B

live="$TEST_TMP/live/web"
mkdir -p "$live" && cp "$TEST_TMP/A.fullchain.pem" "$live/fullchain.pem" &&
	cp "$TEST_TMP/A.key" "$live/privkey.pem" && chmod 0644 "$live/privkey.pem" ||
	bail_out "cannot lay out the files"
port=$(free_port)   # nobody listens there: the files are what matters

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	printf 'poll-interval = "1s"\n'
	for svc in web mail; do
		conf_service "$svc" web.test "$live" \
			"endpoint a { port = $port }" "endpoint b { port = $port }"
	done
} | write_conf "$conf"
warning="key file $live/privkey.pem is readable by group and others \\(mode 0644\\): chmod 600 it"

# ---- a readable key --------------------------------------------------------------

cw --test-config --config "$conf"
is "$cw_rc" 0 "--test-config accepts the configuration"
is "$(printf '%s\n' "$cw_err" | grep -Ec "warning: $warning")" 1 \
	"--test-config warns of the readable key once, though four endpoints share it"

mark=$(log_mark)
daemon_start "$conf"
ok "the daemon warns of the readable key" wait_log "$mark" "$warning" 20 ||
	diag "$(log_since "$mark")"
# A renewal, seen and looked at: more passes over the same key.
cp "$TEST_TMP/B.fullchain.pem" "$live/fullchain.pem" && cp "$TEST_TMP/B.key" "$live/privkey.pem"
ok "a renewal is looked at" wait_log "$mark" "web/a: certificate on disk changed" 20 ||
	diag "$(log_since "$mark")"
ok "by both services" wait_log "$mark" "mail/b: certificate on disk changed" 20
is "$(log_count "$mark" "$warning")" 1 "the warning was said once, for its file, over every pass and endpoint"

chmod 0600 "$live/privkey.pem"
mark=$(log_mark)
cp "$TEST_TMP/A.fullchain.pem" "$live/fullchain.pem"
ok "with the key made private, a renewal is looked at" \
	wait_log "$mark" "mail/b: certificate on disk changed" 20
chmod 0640 "$live/privkey.pem"
cp "$TEST_TMP/B.fullchain.pem" "$live/fullchain.pem"
ok "readable again, the key is named again" \
	wait_log "$mark" "key file $live/privkey.pem is readable by its group \\(mode 0640\\)" 20 ||
	diag "$(log_since "$mark")"
daemon_stop_ok

# ---- the watch limit -------------------------------------------------------------------

# The daemon at a watch limit of 2 (its chains need more).
# (ASan wants its runtime first among the preloads; the seam needs none.)
cat >"$TEST_TMP/limited" <<SCRIPT
#!/bin/sh
LD_PRELOAD="$fakeinotify" CERTWATCH_TEST_INOTIFY_WATCHES=2 \
ASAN_OPTIONS="\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}verify_asan_link_order=0" exec "\$@"
SCRIPT
chmod 0755 "$TEST_TMP/limited"
mark=$(log_mark)
t0=$(now_ms)
DAEMON_EXEC_PREFIX="$TEST_TMP/limited" daemon_start "$conf"
ok "at the watch limit the fallback to polling is announced at once, not after interval (1h)" \
	wait_log "$mark" "the certificate files are no longer watched but polled every 1s \\(poll-interval\\) from now on: the inotify watch limit of [0-9]+ watches per user is reached" 10 ||
	diag "$(log_since "$mark")"
[ -n "$log_ms" ] && diag "announced $((log_ms - t0)) ms after the start"
# The number is the kernel's, not the seam's.
like "$log_line" "limit of $(cat /proc/sys/user/max_inotify_watches) watches per user" \
	"it names the kernel's limit (user.max_inotify_watches)"
like "$log_line" 'raise it with "sysctl -w fs.inotify.max_user_watches=N"' "and it says how to raise the limit"
cp "$TEST_TMP/A.fullchain.pem" "$live/fullchain.pem"
ok "polling sees a renewal" wait_log "$mark" "web/a: certificate on disk changed" 20 ||
	diag "$(log_since "$mark")"
is "$(log_count "$mark" "no longer watched but polled")" 1 "the fallback is announced once"
daemon_stop_ok

daemon_log_clean
done_testing
