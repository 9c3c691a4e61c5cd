#!/bin/sh
# A private vsftpd 3.0 (Debian's) on loopback, AUTH TLS.  vsftpd's package
# conflicts with ProFTPD's (both are the ftp-server), so tools/install-deps
# unpacks it with dpkg-deb -x into a root of its own, beside the installed
# ProFTPD, and this script runs the binary from there with a configuration
# of its own.  certwatch must see what openssl s_client sees.  vsftpd
# loads its certificate once and ignores SIGHUP for it (Debian's unit's
# reload): a certbot renewal must be reloaded by a restart, here a
# reload-command that stops it by its pid and starts it again, and
# verified: kind "vsftpd", whose restart of vsftpd.service this private
# instance's own restart overrides.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/lib-servers.sh"

VSFTPD=${CERTWATCH_TEST_ROOT:-/usr/local/lib/certwatch-tests}/usr/sbin/vsftpd
[ -x "$VSFTPD" ] || skip_all "$VSFTPD is missing (tools/install-deps unpacks it)"
server_test 64 openssl setsid

V="$TEST_TMP/vsftpd"
mkdir -p "$V/empty"
CA_KEY=rsa server_pairs ftp ftp.test 3

ftp_port=$(free_port)
cat >"$V/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$ftp_port
background=NO
anonymous_enable=NO
local_enable=YES
pam_service_name=vsftpd
nopriv_user=nobody
secure_chroot_dir=$V/empty
ssl_enable=YES
ssl_tlsv1=NO
ssl_sslv2=NO
ssl_sslv3=NO
rsa_cert_file=$LIVE/fullchain.pem
rsa_private_key_file=$LIVE/privkey.pem
vsftpd_log_file=$V/vsftpd.log
EOF
# The restart: vsftpd stopped by its pid, then started again in a session
# of its own, its output in a log rather than the command's.
cat >"$V/restart" <<EOF
#!/bin/sh
pid=\$(cat "$V/vsftpd.pid" 2>/dev/null)
if [ -n "\$pid" ]; then
	kill "\$pid" 2>/dev/null
	while kill -0 "\$pid" 2>/dev/null; do sleep 0.05; done
fi
setsid "$VSFTPD" "$V/vsftpd.conf" >>"$V/stderr.log" 2>&1 </dev/null &
echo \$! >"$V/vsftpd.pid"
EOF
chmod 0755 "$V/restart"
at_exit "stop_pidfile $V/vsftpd.pid"
"$V/restart"
wait_port 127.0.0.1 "$ftp_port" 10 "$(cat "$V/vsftpd.pid")" ||
	bail_out "vsftpd did not start: $(tail -n 5 "$V/stderr.log")"

server_fp_same "vsftpd AUTH TLS" "$ftp_port" ftp ftp ftp.test

# The fault: renewed files and a SIGHUP leave the old certificate served.
disk_renew certbot "$LIVE" "$TEST_TMP/certs/ftp-1" || bail_out "cannot renew"
kill -HUP "$(cat "$V/vsftpd.pid")"
is "$(served_fp 127.0.0.1 "$ftp_port" ftp ftp.test)" "$(leaf_fp certs/ftp-0)" \
	"vsftpd serves its old certificate after a renewal and a SIGHUP"
"$V/restart"
wait_port 127.0.0.1 "$ftp_port" 10 "$(cat "$V/vsftpd.pid")" || bail_out "vsftpd did not restart"
is "$(served_fp 127.0.0.1 "$ftp_port" ftp ftp.test)" "$(leaf_fp certs/ftp-1)" \
	"vsftpd serves the renewed certificate after a restart"

server_guarded vsftpd ftp.test 1 'kind = "vsftpd"' \
	"reload-command = $(conf_argv /bin/sh "$V/restart")" "endpoint ftp { port = $ftp_port }"
is "$(served_fp 127.0.0.1 "$ftp_port" ftp ftp.test)" "$(cert_fp "$LAST.crt")" \
	"vsftpd: openssl s_client sees the renewed certificate"
done_testing
