#!/bin/sh
# certwatch's command line: help, version, usage errors, --test-config on
# good, broken and unsafe files, and a check of a port nobody listens on.
. "$TESTS_SRCDIR/lib.sh"

require_root
require_cmd openssl
require_certwatch_check
port_range 0

# ---- help, version, usage errors ----------------------------------------

cw --help
is "$cw_rc" 0 "--help exits 0"
like "$cw_out" '^Usage: certwatch' "--help prints the usage on stdout"
like "$cw_out" 'check' "--help names the check command"

cw --version
is "$cw_rc" 0 "--version exits 0"
like "$cw_out" '^certwatch [0-9]' "--version prints the name and a version number"

cw --no-such-option
is "$cw_rc" 3 "an unknown global option exits 3 (UNKNOWN)"
like "$cw_err" 'no-such-option|unrecognized|unknown' "an unknown global option is named on stderr"

cw check --no-such-option
is "$cw_rc" 3 "an unknown option of check exits 3"
like "$cw_err" 'no-such-option|unrecognized|unknown' "an unknown option of check is named on stderr"

cw no-such-command
is "$cw_rc" 3 "an unknown command exits 3"
like "$cw_err" 'no-such-command' "an unknown command is named on stderr"

cw check --connect localhost
is "$cw_rc" 3 "--connect without a port exits 3"
like "$cw_err" 'HOST:PORT' "--connect without a port says what is expected"

cw check --connect 127.0.0.1:25 --starttls no-such-proto
is "$cw_rc" 3 "--starttls with an unknown protocol exits 3"
like "$cw_err" 'smtp' "--starttls with an unknown protocol lists the known ones"

cw check --connect 127.0.0.1:25 --timeout soon
is "$cw_rc" 3 "--timeout that is not a duration exits 3"

# ---- --test-config --------------------------------------------------------------

ca_init || bail_out "cannot make the test CA"
ca_leaf "$TEST_TMP/mail" 60 mail.test || bail_out "cannot make a certificate"

conf="$TEST_TMP/etc/certwatch.conf"
write_conf "$conf" <<EOF
warn-days = 20
crit-days = 5

service dovecot {
	cert = "$TEST_TMP/mail.fullchain.pem"
	key = "$TEST_TMP/mail.key"
	name = "mail.test"
	address = "127.0.0.1"
	endpoint imaps { port = 10993 }
	endpoint imap { port = 10143 starttls = "imap" }
}
EOF
cw --test-config --config "$conf"
is "$cw_rc" 0 "--test-config on a valid file exits 0"
like "$cw_out" 'service[[:space:]]+"?dovecot' "--test-config prints the effective configuration: the service"
like "$cw_out" 'starttls[[:space:]]*=[[:space:]]*"?imap' "--test-config prints the effective configuration: the endpoint's STARTTLS"
like "$cw_out" '10993' "--test-config prints the effective configuration: the ports"

cw -n -c "$conf"
is "$cw_rc" 0 "-n -c (short options) on a valid file exits 0"

# The printed configuration is itself a valid configuration.
printf '%s\n' "$cw_out" | write_conf "$TEST_TMP/etc2/certwatch.conf"
cw -n -c "$TEST_TMP/etc2/certwatch.conf"
is "$cw_rc" 0 "the configuration --test-config prints is accepted by --test-config"

broken="$TEST_TMP/etc3/certwatch.conf"
write_conf "$broken" <<EOF
service dovecot {
	cert = "$TEST_TMP/mail.fullchain.pem"
	key = "$TEST_TMP/mail.key"
	endpoint imap { port 10143 starttls = "imap" }
}
EOF
cw --test-config --config "$broken"
is "$cw_rc" 1 "--test-config on a file with a syntax error exits 1"
like "$cw_err" "$broken:4:" "--test-config on a syntax error names FILE:LINE of the error"
is "$cw_out" "" "--test-config on a broken file prints no configuration"

write_conf "$broken" <<EOF
service dovecot {
	cert = "$TEST_TMP/mail.fullchain.pem"
	key = "$TEST_TMP/mail.key"
	frobnicate = 1
	endpoint imap { port = 10143 starttls = "imap" }
}
EOF
cw --test-config --config "$broken"
is "$cw_rc" 1 "--test-config on an unknown setting exits 1"
like "$cw_err" "$broken:4:.*frobnicate" "--test-config on an unknown setting names FILE:LINE and the setting"

write_conf "$broken" <<EOF
service dovecot {
	cert = "$TEST_TMP/mail.fullchain.pem"
	endpoint imap { port = 10143 starttls = "imap" }
}
EOF
cw --test-config --config "$broken"
is "$cw_rc" 1 "--test-config on an endpoint without a key exits 1"
like "$cw_err" "$broken:[0-9]+:.*key" "--test-config on an endpoint without a key says which setting is missing"

write_conf "$broken" <<EOF
service dovecot {
	cert = "$TEST_TMP/mail.fullchain.pem"
	key = "$TEST_TMP/mail.key"
	endpoint imap { port = 10143 starttls = "smtpx" }
}
EOF
cw --test-config --config "$broken"
is "$cw_rc" 1 "--test-config on an unknown STARTTLS protocol exits 1"
like "$cw_err" "$broken:4:" "--test-config on an unknown STARTTLS protocol names FILE:LINE of the endpoint"

write_conf "$broken" <<EOF
service dovecot {
	cert = "$TEST_TMP/mail.fullchain.pem"
	key = "$TEST_TMP/mail.key"
	endpoint imap { port = 99999 }
}
EOF
cw --test-config --config "$broken"
is "$cw_rc" 1 "--test-config on a port out of range exits 1"
like "$cw_err" "$broken:4:" "--test-config on a port out of range names FILE:LINE"

cw check --config "$broken"
is "$cw_rc" 3 "check with a broken configuration exits 3 (UNKNOWN)"

# ---- unsafe permissions ----------------------------------------------------------

chmod 0666 "$conf"
cw --test-config --config "$conf"
is "$cw_rc" 1 "--test-config refuses a configuration file writable by others"
like "$cw_err" 'chmod' "the refusal of a world-writable file gives a chmod hint"
like "$cw_err" "$conf" "the refusal names the file"
cw check --config "$conf"
is "$cw_rc" 3 "check refuses a configuration file writable by others (exit 3)"

chmod 0620 "$conf"
cw --test-config --config "$conf"
is "$cw_rc" 1 "--test-config refuses a configuration file writable by its group"
chmod 0600 "$conf"

chmod 0777 "$TEST_TMP/etc"
cw --test-config --config "$conf"
is "$cw_rc" 1 "--test-config refuses a configuration directory writable by others"
like "$cw_err" 'chmod' "the refusal of a world-writable directory gives a chmod hint"
chmod 0700 "$TEST_TMP/etc"

cw --test-config --config "$conf"
is "$cw_rc" 0 "the same file with safe permissions is accepted again"

# ---- nothing listening --------------------------------------------------------------

port=$(free_port)
cw check --connect "127.0.0.1:$port" --json
is "$cw_rc" 2 "check of a port nobody listens on exits 2 (CRITICAL)"
is "$(json_get "$cw_out" status)" CRITICAL "check of a closed port: JSON status CRITICAL"
is "$(json_get "$cw_out" endpoints.0.state)" UNREACHABLE "check of a closed port: state UNREACHABLE"
is "$(json_get "$cw_out" endpoints.0.probe.status)" connection-refused \
	"check of a closed port: probe status connection-refused"
is "$(json_get "$cw_out" endpoints.0.probe.phase)" connect "check of a closed port: failed in phase connect"
is "$(json_get "$cw_out" endpoints.0.served)" null "check of a closed port: nothing served"
is "$(json_get "$cw_out" endpoints.0.port)" "$port" "check of a closed port: JSON names the port"

cw check --connect "127.0.0.1:$port"
is "$cw_rc" 2 "the table form of the same check exits 2 as well"
like "$cw_out" 'UNREACHABLE' "the table shows UNREACHABLE"

cw check --connect "127.0.0.1:$port" --starttls smtp --json
is "$(json_get "$cw_out" endpoints.0.protocol)" smtp "--starttls smtp is reported as protocol smtp"
is "$(json_get "$cw_out" endpoints.0.probe.status)" connection-refused \
	"a STARTTLS check of a closed port: connection-refused too"

# ---- a FIFO where a certificate or key should be -------------------------------------

# Nobody writes to it: a plain open() would wait for a writer for ever, and
# cw's timeout turns such a hang into a failure instead of a stuck suite.
mkfifo "$TEST_TMP/fifo.pem" || bail_out "cannot make a FIFO"
cw check --connect "127.0.0.1:$port" --cert "$TEST_TMP/fifo.pem" --key "$TEST_TMP/mail.key" --json
is "$cw_rc" 2 "check with a FIFO as certificate returns, CRITICAL"
is "$(json_get "$cw_out" endpoints.0.disk.status)" unreadable "a FIFO as certificate is unreadable"
like "$(json_get "$cw_out" endpoints.0.disk.detail)" "certificate file $TEST_TMP/fifo.pem is a FIFO, not a regular file" \
	"a FIFO as certificate: the detail says what the file is"
cw check --connect "127.0.0.1:$port" --cert "$TEST_TMP/mail.fullchain.pem" --key "$TEST_TMP/fifo.pem" --json
is "$cw_rc" 2 "check with a FIFO as key returns, CRITICAL"
like "$(json_get "$cw_out" endpoints.0.disk.detail)" "key file $TEST_TMP/fifo.pem is a FIFO, not a regular file" \
	"a FIFO as key: the detail says what the file is"

# ---- a private key others may read --------------------------------------------------

# $conf's two endpoints share mail.key: one warning for the file, on stderr.
chmod 0644 "$TEST_TMP/mail.key"
cw check --config "$conf"
is "$(printf '%s\n' "$cw_err" | grep -c 'warning: key file')" 1 \
	"a key readable by others: check warns once for the file its two endpoints share"
like "$cw_err" "warning: key file $TEST_TMP/mail.key is readable by group and others \\(mode 0644\\): chmod 600 it" \
	"a key readable by others: the warning names the file, its mode and the fix"
unlike "$cw_out" 'warning' "a key readable by others: the warning is not in the table"
cw check --config "$conf" --json
is "$(json_endpoint "$cw_out" dovecot imaps disk.key_warning)" \
	"key file $TEST_TMP/mail.key is readable by group and others (mode 0644): chmod 600 it" \
	"a key readable by others: JSON carries the warning on the disk side"
chmod 0600 "$TEST_TMP/mail.key"
cw check --config "$conf" --json
is "$(json_endpoint "$cw_out" dovecot imaps disk.key_warning)" null "a key of mode 0600: no warning"
unlike "$cw_err" 'warning' "a key of mode 0600: nothing on stderr"

# ---- no configuration file: discovery ------------------------------------------------

# The built binary's default file (under its --sysconfdir) does not exist in
# a build tree; `check` then checks what `discover` finds in this machine's
# own daemon configurations.  Their servers are not running here, so what
# matters is that discovery ran and every discovered endpoint was probed.
if [ ! -e "$("$CERTWATCH" --help | sed -n 's/.*main configuration file (default \(.*\))$/\1/p')" ]; then
	cw discover
	is "$cw_rc" 0 "discover exits 0"
	like "$cw_err" 'found; review the output' "discover says how many services it found and what to do"
	if printf '%s\n' "$cw_out" | grep -q '^service '; then
		mkdir -p "$TEST_TMP/disc" && chmod 0700 "$TEST_TMP/disc"
		printf '%s\n' "$cw_out" >"$TEST_TMP/disc/certwatch.conf"
		chmod 0600 "$TEST_TMP/disc/certwatch.conf"
		cw --test-config --config "$TEST_TMP/disc/certwatch.conf"
		is "$cw_rc" 0 "what discover prints for this machine passes --test-config"
		cw check --json
		like "$cw_err" "checking the .* that 'certwatch discover' finds" \
			"check without a configuration file says it checks what discover finds"
		ok "check without a configuration file probes the discovered endpoints" \
			[ "$(json_get "$cw_out" endpoints.0.probe.status)" != "" ]
	else
		diag "no local daemon configuration with TLS found: $cw_err"
	fi
fi

done_testing
