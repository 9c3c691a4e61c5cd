#!/bin/sh
# Found in a trial: a service reloaded through systemd (reload-unit, or a
# kind such as nginx) on a machine where the system bus cannot be reached
# (a container, no systemd) fails its reload with
#   "the reload could not start: No such file or directory"
# which names neither the unit, nor the system bus, nor what to do.
# Expected: the message says that the system bus (D-Bus) could not be
# reached to reload UNIT, and what to do (run under systemd or set
# reload-command / reload-signal).
. "$TESTS_SRCDIR/lib.sh"

server_test 73 nginx openssl

ca_leaves 60 web.test w0 w1
web_fixture certbot web.test=w0

# No system bus here, whatever the machine has.
DBUS_SYSTEM_BUS_ADDRESS="unix:path=$TEST_TMP/no-such-bus"
export DBUS_SYSTEM_BUS_ADDRESS

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	web_service web web.test 'reload-unit = "certwatch-trial-nginx.service"'
} | write_conf "$conf"

daemon_start "$conf"
ok "the daemon settles" wait_for 30 status_all_ok "$conf"

mark=$(log_mark)
disk_renew certbot "$(web_live web.test)" "$TEST_TMP/w1"
ok "the reload fails" wait_log "$mark" "web: reload failed" 30
diag "$log_line"
unlike "$log_line" "could not start: No such file or directory;" \
	"the failure is more than a bare strerror"
like "$log_line" "certwatch-trial-nginx.service" "it names the unit"
like "$log_line" "(bus|D-Bus|systemd)" "it says the system bus / systemd could not be reached"

daemon_stop_ok
done_testing
