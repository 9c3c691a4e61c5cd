#!/bin/sh
# A private ProFTPD (Debian's proftpd-core, mod_tls) on loopback: AUTH TLS
# on one port, implicit TLS on another.  certwatch must see what openssl
# s_client sees; its probes must leave the server's TLS log as quiet as
# s_client's (a client that closed without close_notify made mod_tls log
# "unexpected OpenSSL error, disconnecting" for most implicit-TLS probes);
# and a certbot renewal must be served.  ProFTPD forks a process per
# session that reads the certificate files anew, so a renewal needs no
# reload: kind "proftpd" only verifies (and knows ftp is AUTH TLS).
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/lib-servers.sh"

server_test 60 proftpd openssl

P="$TEST_TMP/proftpd"
mkdir -p "$P"
CA_KEY=rsa server_pairs ftp ftp.test 2

ftp_port=$(free_port)
ftps_port=$(free_port)
tls_conf="TLSEngine on
TLSLog $P/tls.log
TLSProtocol TLSv1.2 TLSv1.3
TLSRSACertificateFile $LIVE/fullchain.pem
TLSRSACertificateKeyFile $LIVE/privkey.pem
TLSCertificateChainFile $LIVE/chain.pem"
cat >"$P/proftpd.conf" <<EOF
ServerType standalone
ServerName "certwatch test"
DefaultAddress 127.0.0.1
Port $ftp_port
UseIPv6 off
PidFile $P/proftpd.pid
ScoreboardFile $P/scoreboard
DelayTable none
WtmpLog off
User nobody
Group nogroup
SystemLog $P/system.log
ModulePath /usr/lib/proftpd
LoadModule mod_tls.c
$tls_conf
<VirtualHost 127.0.0.1>
Port $ftps_port
$tls_conf
TLSOptions UseImplicitSSL
</VirtualHost>
EOF
proftpd -t -c "$P/proftpd.conf" >"$P/configtest.log" 2>&1 ||
	bail_out "proftpd refuses its configuration: $(tail -n 3 "$P/configtest.log")"
start_bg proftpd proftpd -n -c "$P/proftpd.conf"
wait_port 127.0.0.1 "$ftps_port" 10 "$bg_pid" && wait_port 127.0.0.1 "$ftp_port" 10 "$bg_pid" ||
	bail_out "proftpd did not start: $(tail -n 5 "$TEST_TMP/proftpd.log")"

server_fp_same "proftpd AUTH TLS" "$ftp_port" ftp ftp ftp.test
server_fp_same "proftpd implicit TLS" "$ftps_port" - - ftp.test

# proftpd -n logs on its stderr, a line for each session's end, and
# mod_tls's complaints there too (and in its TLS log).
closed='FTP session closed'
probes_quiet "proftpd implicit TLS" "$TEST_TMP/proftpd.log" 'unexpected OpenSSL error' \
	"$closed" 10 --connect "127.0.0.1:$ftps_port" --name ftp.test
probes_quiet "proftpd AUTH TLS" "$TEST_TMP/proftpd.log" 'unexpected OpenSSL error' \
	"$closed" 10 --connect "127.0.0.1:$ftp_port" --starttls ftp --name ftp.test
is "$(lines_matching "$P/tls.log" 'unexpected OpenSSL error')" 0 \
	"proftpd's TLS log holds no \"unexpected OpenSSL error\" either"

server_guarded proftpd ftp.test 0 'kind = "proftpd"' \
	"endpoint ftp { port = $ftp_port }" "endpoint ftps { port = $ftps_port }"
done_testing
