#!/bin/sh
# check and the plugin read the options of one endpoint alike: each wrong
# value is refused with exit 3 in the same words (after "certwatch check: "
# on stderr, after "CERTWATCH UNKNOWN - " on the plugin's status line), and
# each way of naming an endpoint reaches the same address and port.
. "$TESTS_SRCDIR/lib.sh"

require_root
require_certwatch_check
port_range 22

PLUGIN="$TEST_TMP/check_certwatch"
ln -s "$CERTWATCH" "$PLUGIN" || bail_out "cannot link check_certwatch"
closed=$(free_port)

# plugin ARGS...: check_certwatch's output in $pl_out, its exit in $pl_rc.
plugin() {
	timeout -k 5 60 "$PLUGIN" "$@" >"$TEST_TMP/pl.out" 2>&1
	pl_rc=$?
	pl_out=$(cat "$TEST_TMP/pl.out")
}

# ---- the same refusal, word for word ----------------------------------------------

for bad in "--connect localhost" "--connect 127.0.0.1:0" "--connect ::1:993" \
	"-H 127.0.0.1 -p 99999" "-H 127.0.0.1:443" "-H 127.0.0.1 --starttls smtpx" \
	"-H 127.0.0.1 --key-type dsa" "-H 127.0.0.1 -t soon" "--connect 127.0.0.1:1 -p 2" \
	"-H 127.0.0.1 --key k.pem" "--name mail.test" "--key-type rsa" "-p 443" \
	"-H 127.0.0.1 --service web" "-H" "-H 127.0.0.1 --key-types rsa"; do
	# shellcheck disable=SC2086 # word splitting wanted
	cw check $bad
	check_says=$(printf '%s\n' "$cw_err" | sed -n '1s/^certwatch check: //p')
	# shellcheck disable=SC2086
	plugin $bad
	plugin_says=$(printf '%s\n' "$pl_out" | sed -n '1s/^CERTWATCH UNKNOWN - //p')
	is "$cw_rc/$pl_rc" 3/3 "check $bad and check_certwatch $bad: both exit 3"
	ok "check $bad: the refusal says what is wrong ($check_says)" test -n "$check_says"
	is "$plugin_says" "$check_says" "check_certwatch $bad: refused in the same words as check"
done

# ---- the same endpoint, however named ----------------------------------------------

for good in "--connect 127.0.0.1:$closed" "-H 127.0.0.1 -p $closed" \
	"--hostname=127.0.0.1 --port=$closed" "-H [::1] -p $closed --key-type rsa -t 5s" \
	"--connect [::1]:$closed --starttls smtp"; do
	# shellcheck disable=SC2086
	cw check $good --json
	host=$(json_get "$cw_out" endpoints.0.address)
	is "$cw_rc/$(json_get "$cw_out" endpoints.0.state)/$(json_get "$cw_out" endpoints.0.port)" \
		"2/UNREACHABLE/$closed" "check $good: probes port $closed, nobody listens: CRITICAL"
	addr=$host:$closed
	case $host in *:*) addr="[$host]:$closed" ;; esac
	# shellcheck disable=SC2086
	plugin $good
	like "$pl_rc/$pl_out" "^2/CERTWATCH CRITICAL - 1 of 1 endpoints unreachable: \\[?$host\\]?:$closed: " \
		"check_certwatch $good: the same endpoint ($addr), CRITICAL"
done
cw check -H 127.0.0.1 -p "$closed" --starttls smtp --key-type ecdsa --json
is "$(json_get "$cw_out" endpoints.0.protocol)/$(json_get "$cw_out" endpoints.0.key_type)" smtp/ecdsa \
	"check -H --starttls --key-type: the protocol and key type reach the probe"
cw check -H 127.0.0.1 --starttls imap --json
is "$(json_get "$cw_out" endpoints.0.port)" 143 "check -H without -p: the --starttls protocol's port"

done_testing
