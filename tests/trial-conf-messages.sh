#!/bin/sh
# Found in a trial: an unterminated string (a missing closing quote) in a
# service is reported as
#   FILE:1: the section opened here is not closed: a '}' is missing ...
# which sends the administrator looking for a brace at the service's first
# line, while the mistake is the quote on line 4.  certwatch.conf(5): "Every
# error names the file and line, what is wrong and what would be right".
# Expected: the line of the opening quote, and that a quote is missing.
. "$TESTS_SRCDIR/lib.sh"

require_certwatch_check

conf="$TEST_TMP/etc/certwatch.conf"
printf 'state-dir = "%s"\n' "$TEST_TMP/state" | write_conf "$conf"
cat >"$TEST_TMP/etc/conf.d/web.conf" <<'EOF2'
service web {
	cert = "/etc/ssl/web.pem"
	key = "/etc/ssl/web.key"
	name = "www.example.com
	address = "127.0.0.1"
	endpoint https { port = 443 }
}
EOF2
chmod 0600 "$TEST_TMP/etc/conf.d/web.conf"

cw --config "$conf" --test-config
is "$cw_rc" 1 "--test-config refuses the file"
diag "stderr: $cw_err"
like "$cw_err" "web\.conf:[45]:" "the error names line 4 (where the quote opens) or 5 (where the string left open at the end begins)"
like "$cw_err" "quot|string" "and says that a quote (a string) is not closed"

done_testing
