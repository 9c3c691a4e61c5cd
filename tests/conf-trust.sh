#!/bin/sh
# What certwatch --test-config must not trust in a configuration: a FIFO
# for a file (refused at once, never waited on), the environment (${VAR}
# is refused, set or not, never expanded), and programs to run as root
# that anyone else could change.
. "$TESTS_SRCDIR/lib.sh"

require_certwatch_check

svc='service web {
	cert = "/etc/ssl/web.pem"
	key = "/etc/ssl/web.key"
	endpoint https { port = 443 }
}'

# test_config CONF: --test-config with a deadline far shorter than cw's, so
# that a configuration load that blocks fails at once.
test_config() {
	_tc_t0=$(now_ms)
	timeout -k 2 10 "$CERTWATCH" --test-config --config "$1" >"$TEST_TMP/tc.out" 2>"$TEST_TMP/tc.err"
	tc_rc=$?
	tc_ms=$(($(now_ms) - _tc_t0))
	tc_err=$(cat "$TEST_TMP/tc.err")
}

# ---- files that are not regular files ------------------------------------------

conf="$TEST_TMP/fifo-include/certwatch.conf"
printf '%s\n' "$svc" | write_conf "$conf"
mkfifo "$TEST_TMP/fifo-include/conf.d/x.conf"
test_config "$conf"
is "$tc_rc" 1 "a FIFO named x.conf in conf.d: --test-config fails, it does not hang"
like "$tc_err" "conf.d/x.conf: is a FIFO, not a regular file" "the error names the FIFO and what it is"
ok "the FIFO is refused, no hang (${tc_ms} ms)" [ "$tc_ms" -lt 20000 ]

mkdir -m 0700 "$TEST_TMP/fifo-main"
mkfifo -m 0600 "$TEST_TMP/fifo-main/certwatch.conf"
test_config "$TEST_TMP/fifo-main/certwatch.conf"
is "$tc_rc" 1 "a FIFO as the main file: --test-config fails, it does not hang"
like "$tc_err" "fifo-main/certwatch.conf: is a FIFO, not a regular file" \
	"the error names the main file and what it is"

# ---- environment variables -----------------------------------------------------

conf="$TEST_TMP/env/certwatch.conf"
write_conf "$conf" <<'EOF'
service scratch {
	cert = "/etc/ssl/web.pem"
	key = "/etc/ssl/web.key"
	reload-command = {"/bin/rm", "-rf", "${SCRATCH}/cache"}
	endpoint https { port = 443 }
}
EOF
unset SCRATCH
cw --test-config --config "$conf"
is "$cw_rc" 1 "an unset SCRATCH in reload-command fails --test-config"
like "$cw_err" 'env/certwatch.conf:4: [$][{]SCRATCH[}] would be replaced by the environment variable SCRATCH' \
	"the error names file, line and variable"
unlike "$cw_out" "/cache" "no configuration with rm -rf /cache is printed"

SCRATCH=/var/tmp/scratch cw --test-config --config "$conf"
is "$cw_rc" 1 "the same file fails with SCRATCH set too: the daemon's environment is not the shell's"

# ---- programs run as root ----------------------------------------------------------

# prog_conf FILE SETTING PROGRAM: a service that runs PROGRAM as SETTING.
prog_conf() {
	write_conf "$1" <<EOF
service web {
	cert = "/etc/ssl/web.pem"
	key = "/etc/ssl/web.key"
	reload-unit = "web.service"
	$2 = {"$3", "reload"}
	endpoint https { port = 443 }
}
EOF
}

mkdir -m 1777 "$TEST_TMP/drop"
printf '#!/bin/sh\nexit 0\n' >"$TEST_TMP/drop/reload.sh"
chmod 0777 "$TEST_TMP/drop/reload.sh"
conf="$TEST_TMP/prog/certwatch.conf"
if [ "$(id -u)" -eq 0 ] && chown nobody "$TEST_TMP/drop/reload.sh" 2>/dev/null; then
	prog_conf "$conf" reload-check "$TEST_TMP/drop/reload.sh"
	cw --test-config --config "$conf"
	is "$cw_rc" 1 "a world-writable script of nobody's in a 1777 directory fails --test-config"
	like "$cw_err" "certwatch.conf:5: reload-check program $TEST_TMP/drop/reload.sh is owned by uid [0-9]+, not root; certwatch runs it as root: run \"chown root $TEST_TMP/drop/reload.sh\"" \
		"the error names the line, the program, what is wrong and the fix"
	chown root "$TEST_TMP/drop/reload.sh"
	cw --test-config --config "$conf"
	like "$cw_err" "is writable by group and others \\(mode 0777\\); certwatch runs it as root: run \"chmod go-w $TEST_TMP/drop/reload.sh\"" \
		"once root's, the same script is refused for its mode"
	chmod 0755 "$TEST_TMP/drop/reload.sh"
	cw --test-config --config "$conf"
	is "$cw_rc" 0 "root's and 0755, in root's sticky directory, the script is accepted"
else
	skip "not root: cannot give a file to nobody"
	skip "not root"
	skip "not root"
	skip "not root"
fi

prog_conf "$conf" reload-check /usr/sbin/ngnix
cw --test-config --config "$conf"
is "$cw_rc" 1 "a misspelled reload-check program fails --test-config"
like "$cw_err" "certwatch.conf:5: reload-check program /usr/sbin/ngnix does not exist" \
	"the error names the line and the missing program"

prog_conf "$conf" reload-command /usr/sbin/ngnix
cw --test-config --config "$conf"
like "$cw_err" "has both reload-unit and reload-command" \
	"a second reload method is refused before its program is looked at"

done_testing
