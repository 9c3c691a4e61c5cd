#!/bin/sh
# The shipped monitoring definitions parse with the real tools:
# contrib/icinga2/certwatch.conf under `icinga2 daemon -C`, and with
# certwatch-agents.conf in a zone tree (a master, its agents, a global zone
# for the commands) as on a real master; contrib/nagios/certwatch.cfg and
# certwatch-agents.cfg under `nagios4 -v`; each in a private minimal
# configuration in the test's directory (nothing under /etc is read or
# written).  Their options are ones check_certwatch accepts, the Nagios
# command line, expanded as Nagios would, runs the plugin, and the sudoers
# rule the agents need parses.
. "$TESTS_SRCDIR/lib.sh"

require_root
require_certwatch_check

ICINGA_DEF="$TESTS_SRCDIR/../contrib/icinga2/certwatch.conf"
ICINGA_AGENTS="$TESTS_SRCDIR/../contrib/icinga2/certwatch-agents.conf"
NAGIOS_DEF="$TESTS_SRCDIR/../contrib/nagios/certwatch.cfg"
NAGIOS_AGENTS="$TESTS_SRCDIR/../contrib/nagios/certwatch-agents.cfg"
SUDOERS="$TESTS_SRCDIR/../contrib/sudoers/certwatch"
PLUGINS="$TEST_TMP/plugins"
mkdir -p "$PLUGINS" && ln -s "$CERTWATCH" "$PLUGINS/check_certwatch" ||
	bail_out "cannot link check_certwatch"
"$PLUGINS/check_certwatch" --help >"$TEST_TMP/help.out" 2>&1

# ---- Icinga 2 ----------------------------------------------------------------------

if ! command -v icinga2 >/dev/null 2>&1; then
	skip "icinga2 is not installed (tools/install-deps installs icinga2-bin)"
else
	I="$TEST_TMP/icinga2"
	mkdir -p "$I/cache"
	# icinga2 (minimal_conf EXTRA): the constants the ITL-less core needs, the
	# shipped definition, and a host and service that use it.
	icinga_conf() {
		cat >"$I/icinga2.conf" <<EOF
const PluginDir = "$PLUGINS"
const NodeName = "certwatch-test"
const ZoneName = "certwatch-test"
include "$ICINGA_DEF"
object CheckCommand "nothing" { command = [ "/bin/true" ] }
object Host "mail" {
	address = "127.0.0.1"
	check_command = "nothing"
}
object Service "imap certificate" {
	host_name = "mail"
	check_command = "certwatch"
	vars.certwatch_address = "\$address\$"
	vars.certwatch_port = 143
	vars.certwatch_starttls = "imap"
	vars.certwatch_name = "mail.example.com"
	vars.certwatch_warning = "21:"
	vars.certwatch_critical = "7:"
}
object Service "configured certificates" {
	host_name = "mail"
	check_command = "certwatch"
	vars.certwatch_service = "dovecot"
	vars.certwatch_verbose = true
}
$1
EOF
		# Its own cache directory, as root: no /var/cache/icinga2, no nagios user.
		ICINGA2_USER=root ICINGA2_GROUP=root icinga2 daemon -C -c "$I/icinga2.conf" \
			-DConfiguration.CacheDir="$I/cache" -x warning >"$I/out" 2>&1
	}
	icinga_conf ""
	rc=$?
	is "$rc" 0 "icinga2 daemon -C accepts the shipped CheckCommand used by two services" ||
		diag "$(cat "$I/out")"
	icinga_conf 'object Service "broken" { host_name = "mail"; check_command = "no-such" }'
	isnt "$?" 0 "icinga2 daemon -C in this setup does reject a service with an unknown command"
	ok "icinga2 wrote its cache into the test's directory, not /var/cache/icinga2" \
		test -s "$I/cache/icinga2.vars"

	for arg in $(sed -n 's/^[[:space:]]*"\(-[-a-zA-Z]*\)" = {.*/\1/p' "$ICINGA_DEF"); do
		grep -Eq -- "(^|[ ,])$arg( |,|$)" "$TEST_TMP/help.out"
		ok "the CheckCommand's argument $arg is an option of check_certwatch" test $? -eq 0
	done
	like "$(grep -c '^[[:space:]]*"-' "$ICINGA_DEF")" '^1[0-9]$' \
		"the CheckCommand maps every option (found its argument list)"

	# ---- Icinga 2 agents in a zone tree, as the master sees them ------------------
	# The commands in the global zone, the apply rules and the hosts in the
	# master's zone (zones.d/, as on a real master), the agents as child zones.
	Z="$I/zones.d"
	mkdir -p "$Z/global-templates" "$Z/master"
	cp "$ICINGA_DEF" "$Z/global-templates/certwatch.conf"
	cp "$ICINGA_AGENTS" "$Z/master/certwatch-agents.conf"
	# zone_tree NODE ZONE: the top of an icinga2.conf in the tree, as node
	# NODE of zone ZONE: the master's zone and the global zone.
	zone_tree() {
		cat <<EOF
const PluginDir = "$PLUGINS"
const NodeName = "$1"
const ZoneName = "$2"
object Endpoint "master.test" { }
object Zone "master" { endpoints = [ "master.test" ] }
object Zone "global-templates" { global = true }
EOF
	}
	# icinga_zones HOSTS [ZONES]: validates the tree with these host objects
	# (in the master's zone) and any further endpoints and zones.
	icinga_zones() {
		{
			zone_tree master.test master
			cat <<EOF
object Endpoint "web.test" { host = "127.0.0.1" }
object Zone "web.test" { endpoints = [ "web.test" ]; parent = "master" }
object Endpoint "mail.test" { host = "127.0.0.1" }
object Zone "mail.test" { endpoints = [ "mail.test" ]; parent = "master" }
${2:-}
EOF
		} >"$I/master.conf"
		{
			echo 'object CheckCommand "nothing" { command = [ "/bin/true" ] }'
			printf '%s\n' "$1"
		} >"$Z/master/hosts.conf"
		ICINGA2_USER=root ICINGA2_GROUP=root icinga2 daemon -C -c "$I/master.conf" \
			-DConfiguration.CacheDir="$I/cache" -DConfiguration.ZonesDir="$Z" \
			-x warning >"$I/zones.out" 2>&1
	}
	# A host that opts in, one with per-service checks and thresholds, one
	# that does not.
	hosts='object Host "web.test" { check_command = "nothing"; vars.certwatch = true }
object Host "mail.test" {
	check_command = "nothing"
	vars.certwatch = { certwatch_warning = "30:" }
	vars.certwatch_services = [ "dovecot", "postfix" ]
}
object Host "plain.test" { check_command = "nothing" }'
	icinga_zones "$hosts"
	rc=$?
	is "$rc" 0 "icinga2 daemon -C accepts the agents' apply rules in a master/agent zone tree" ||
		diag "$(cat "$I/zones.out")"
	# What the rules made: icinga2 wrote the objects into its cache.
	ICINGA2_USER=root ICINGA2_GROUP=root icinga2 object list --type Service \
		-DConfiguration.CacheDir="$I/cache" -DConfiguration.ObjectsPath="$I/cache/icinga2.debug" \
		>"$I/services.out" 2>&1
	services=$(sed -n "s/^Object '\(.*\)' of type 'Service':$/\1/p" "$I/services.out" | sort |
		tr '\n' ',')
	is "$services" "mail.test!certificates dovecot,mail.test!certificates postfix,web.test!certificates," \
		"a service on each opted-in host (one per certwatch service where listed), none elsewhere"
	is "$(grep -c '\* command_endpoint = "\(web\|mail\)\.test"' "$I/services.out")" 3 \
		"each runs on its host's agent (command_endpoint = host.name)"
	is "$(grep -c '\* check_command = "certwatch-sudo"' "$I/services.out")" 3 \
		"through sudo, as root"
	like "$(cat "$I/services.out")" 'certwatch_service = "postfix"' \
		"a listed certwatch service becomes the check's --service"
	is "$(grep -c 'certwatch_warning = "30:"' "$I/services.out")" 2 \
		"the host's vars.certwatch dictionary sets the check's variables"

	icinga_zones "$hosts
object Host \"stray.test\" { check_command = \"nothing\"; vars.certwatch = true }" \
		'object Endpoint "stray.test" { }
object Zone "stray.test" { endpoints = [ "stray.test" ] }'
	isnt "$?" 0 "the zone tree is checked: an agent outside the master's child zones is refused"
	like "$(cat "$I/zones.out")" "Command endpoint must be in zone 'master' or in a direct child zone" \
		"with Icinga's reason"

	# A fleet: the agents below a satellite (one zone per data centre), their
	# hosts in the satellite's zone; the rules stay on the master.
	mkdir -p "$Z/dc1"
	{
		zone_tree master.test master
		cat <<'EOF'
object Endpoint "satellite.test" { host = "127.0.0.1" }
object Zone "dc1" { endpoints = [ "satellite.test" ]; parent = "master" }
object Endpoint "web.test" { host = "127.0.0.1" }
object Zone "web.test" { endpoints = [ "web.test" ]; parent = "dc1" }
EOF
	} >"$I/satellite.conf"
	echo 'object CheckCommand "nothing" { command = [ "/bin/true" ] }' >"$Z/master/hosts.conf"
	echo 'object Host "web.test" { check_command = "nothing"; vars.certwatch = true }' \
		>"$Z/dc1/hosts.conf"
	ICINGA2_USER=root ICINGA2_GROUP=root icinga2 daemon -C -c "$I/satellite.conf" \
		-DConfiguration.CacheDir="$I/cache" -DConfiguration.ZonesDir="$Z" \
		-x warning >"$I/satellite.out" 2>&1
	is "$?" 0 "icinga2 daemon -C accepts them for agents below a satellite" ||
		diag "$(cat "$I/satellite.out")"
	ICINGA2_USER=root ICINGA2_GROUP=root icinga2 object list --type Service \
		-DConfiguration.CacheDir="$I/cache" -DConfiguration.ObjectsPath="$I/cache/icinga2.debug" \
		>"$I/services.out" 2>&1
	like "$(tr -d '\n' <"$I/services.out")" "web\.test!certificates.*command_endpoint = \"web\.test\".*zone = \"dc1\"" \
		"the agent's service lands in the satellite's zone, which schedules it"
	rm -r "$Z/dc1"

	# The agent's own view: the commands, synced from the global zone, compile.
	mkdir -p "$I/agent-zones/global-templates" "$I/agent-cache"
	cp "$ICINGA_DEF" "$I/agent-zones/global-templates/"
	{
		zone_tree web.test web.test
		cat <<'EOF'
object Endpoint "web.test" { }
object Zone "web.test" { endpoints = [ "web.test" ]; parent = "master" }
EOF
	} >"$I/agent.conf"
	ICINGA2_USER=root ICINGA2_GROUP=root icinga2 daemon -C -c "$I/agent.conf" \
		-DConfiguration.CacheDir="$I/agent-cache" -DConfiguration.ZonesDir="$I/agent-zones" \
		-x warning >"$I/agent.out" 2>&1
	is "$?" 0 "icinga2 daemon -C on the agent accepts the commands from the global zone" ||
		diag "$(cat "$I/agent.out")"
fi

# ---- Nagios 4 --------------------------------------------------------------------------

if ! command -v nagios4 >/dev/null 2>&1; then
	skip "nagios4 is not installed (tools/install-deps installs nagios4-core)"
else
	N="$TEST_TMP/nagios"
	mkdir -p "$N/checkresults"
	echo "\$USER1\$=$PLUGINS" >"$N/resource.cfg"
	cat >"$N/nagios.cfg" <<EOF
cfg_file=$NAGIOS_DEF
cfg_file=$N/objects.cfg
cfg_file=$NAGIOS_AGENTS
resource_file=$N/resource.cfg
log_file=$N/nagios.log
status_file=$N/status.dat
temp_file=$N/nagios.tmp
temp_path=$N
lock_file=$N/nagios.lock
check_result_path=$N/checkresults
object_cache_file=$N/objects.cache
precached_object_file=$N/objects.precache
state_retention_file=$N/retention.dat
command_file=$N/nagios.cmd
nagios_user=root
nagios_group=root
illegal_macro_output_chars=\`~\$&|'"<>
EOF
	# The least Nagios accepts: a time period, a contact (with a
	# notification command), templates, a host with services using both
	# commands, and a host in the host group certwatch.
	cat >"$N/objects.cfg" <<'EOF'
define timeperiod {
	timeperiod_name  always
	alias            always
	sunday           00:00-24:00
	monday           00:00-24:00
	tuesday          00:00-24:00
	wednesday        00:00-24:00
	thursday         00:00-24:00
	friday           00:00-24:00
	saturday         00:00-24:00
}
define command {
	command_name  notify-nobody
	command_line  /bin/true
}
define contact {
	contact_name                   admin
	host_notification_period       always
	service_notification_period    always
	host_notification_options      n
	service_notification_options   n
	host_notification_commands     notify-nobody
	service_notification_commands  notify-nobody
}
# The templates Debian's nagios4 ships (objects/templates.cfg), reduced to
# what Nagios requires; certwatch-agents.cfg uses generic-service.
define host {
	name                   generic-host
	max_check_attempts     1
	check_period           always
	notification_period    always
	notification_interval  0
	contacts               admin
	register               0
}
define service {
	name                   generic-service
	max_check_attempts     1
	check_interval         60
	retry_interval         5
	check_period           always
	notification_period    always
	notification_interval  0
	contacts               admin
	register               0
}
define host {
	use                    generic-host
	host_name              mail
	address                127.0.0.1
}
define host {
	use                    generic-host
	host_name              agent
	address                127.0.0.2
	hostgroups             certwatch
}
define service {
	use                    generic-service
	host_name              mail
	service_description    imap certificate
	check_command          check_certwatch_endpoint!143!--starttls imap --name mail.example.com -w 21: -c 7:
}
define service {
	use                    generic-service
	host_name              mail
	service_description    configured certificates
	check_command          check_certwatch!--service dovecot
}
EOF
	nagios4 -v "$N/nagios.cfg" >"$N/out" 2>&1
	rc=$?
	is "$rc" 0 "nagios4 -v accepts the shipped commands and agents' service used by three hosts' services" ||
		diag "$(cat "$N/out")"
	like "$(cat "$N/out")" 'Total Warnings: 0' "with no warnings"
	like "$(cat "$N/out")" 'Checked 4 commands' "the three shipped commands were read"
	like "$(cat "$N/out")" 'Checked 3 services' \
		"the host group certwatch gave its host the NRPE service"

	sed 's/check_certwatch_endpoint!/no_such_command!/' "$N/objects.cfg" >"$N/bad.cfg"
	sed "s|$N/objects.cfg|$N/bad.cfg|" "$N/nagios.cfg" >"$N/bad-nagios.cfg"
	nagios4 -v "$N/bad-nagios.cfg" >"$N/bad.out" 2>&1
	isnt "$?" 0 "nagios4 -v in this setup does reject a service with an unknown command"

	# The endpoint command as Nagios expands it, against a port nobody listens on.
	line=$(sed -n 's/^[[:space:]]*command_line[[:space:]]*\(.*check_certwatch -H \$HOSTADDRESS\$.*\)/\1/p' "$NAGIOS_DEF")
	line=$(printf '%s\n' "$line" | sed -e "s|\\\$USER1\\\$|$PLUGINS|" \
		-e 's/\$HOSTADDRESS\$/127.0.0.1/' -e 's/\$ARG1\$/1/' -e 's/\$ARG2\$/-w 21: -c 7: -t 5/')
	# shellcheck disable=SC2086 # Nagios splits the command line on spaces too
	out=$($line)
	is "$?" 2 "the endpoint command, expanded, runs check_certwatch: CRITICAL for a closed port"
	like "$out" '^CERTWATCH CRITICAL - 1 of 1 endpoints unreachable: 127\.0\.0\.1:1' \
		"and it prints the plugin's status line"
	like "$(sed -n 's/^[[:space:]]*command_line[[:space:]]*\(.*-c check_certwatch\)$/\1/p' "$NAGIOS_DEF")" \
		'^\$USER1\$/check_nrpe -H \$HOSTADDRESS\$ -c check_certwatch$' \
		"the NRPE command asks the host's NRPE for check_certwatch"
	is "$(sed -n 's/^command\[\(check_certwatch\)\]=.*/\1/p' "$TESTS_SRCDIR/../contrib/nrpe/certwatch.cfg")" \
		check_certwatch "which is the command the shipped NRPE definition names"
fi

# ---- the agents' sudoers rule -------------------------------------------------------------

if ! command -v visudo >/dev/null 2>&1; then
	skip "visudo is not installed (tools/install-deps installs sudo)"
else
	visudo -c -f "$SUDOERS" >"$TEST_TMP/visudo.out" 2>&1
	is "$?" 0 "visudo -c accepts the sudoers rule for the agents" ||
		diag "$(cat "$TEST_TMP/visudo.out")"
fi

done_testing
