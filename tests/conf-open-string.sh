#!/bin/sh
# A closing quote left out (name = "www.example.com on line 4) makes a
# string that takes the rest of the file, braces included: --test-config
# names line 4 and the missing quote, not the service's first line and a
# missing '}'.
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
like "$cw_err" "web\.conf:4: the string that begins here runs over the end of its line" \
	"the error names line 4, where the string runs over its line's end"
like "$cw_err" "a closing quote \(\"\) is missing, most likely at the end of this line" \
	"and says that a closing quote is missing there"
unlike "$cw_err" "a '}' is missing" "and does not send anyone looking for a brace"

done_testing
