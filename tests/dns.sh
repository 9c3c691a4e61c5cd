# dns.sh - a DNSSEC chain on loopback for the DANE tests, sourced after
# lib.sh (it uses TEST_TMP, free_port, start_bg and bail_out).
#
# An NSD of the script's own, on 127.0.0.1 and a port of the script's
# range, serves zones signed in the test with ldns-signzone; the signed
# parent's DS is written as the trust anchor file that libunbound is given,
# and libunbound sends its queries to NSD as its forwarder (an
# authoritative server answers them from the most specific zone it has,
# DS queries from the parent).  NSD was chosen over Knot DNS because it
# serves pre-signed zone files as they are, with no key database or
# signing policy of its own: the test can alter a signed zone to make it
# bogus, which a signing server would repair or refuse.
#
# The zones live under "example." (RFC 2606; never a real answer, and
# unlike "test." not one of unbound's built-in local zones):
#   example.           signed; its DS is the trust anchor
#   insecure.example.  delegated with no DS: provably unsigned
#   bogus.example.     delegated with a DS and signed, then one TLSA
#                      record altered after signing: validation fails
#
# Use:
#   dns_init                        keys and the zones' heads
#   dns_add ZONE RR                 a record (ZONE: example, insecure, bogus)
#   dns_tlsa ZONE HOST USAGE FILE   a "USAGE 1 1" record at _PORT._tcp.HOST.
#                                   (PORT: DNS_TLSA_PORT, else 25) of the key
#                                   of FILE's first certificate, as the
#                                   openssl command computes it
#   dns_serve                       signs, starts NSD, waits until it
#                                   answers; sets DNS_RESOLVER (ADDR@PORT)
#                                   and DNS_ANCHOR (the trust anchor file)
#   dns_resign                      after dns_add or dns_tlsa on example:
#                                   signs it again and has NSD load it
#
# DNS_TTL, when set before dns_init, is every record's TTL (300 else).

DNS_DIR="$TEST_TMP/dns"

# spki_sha256 FILE: the hex SHA-256 of the first certificate's SubjectPublicKeyInfo.
spki_sha256() {
	openssl x509 -in "$1" -noout -pubkey |
		openssl pkey -pubin -outform DER |
		openssl dgst -sha256 -r | cut -d' ' -f1
}

_dns_head() {    # ZONE-NAME
	cat <<EOF
\$TTL ${DNS_TTL:-300}
$1. IN SOA ns.example. hostmaster.example. 1 3600 600 86400 ${DNS_TTL:-300}
$1. IN NS ns.example.
EOF
}

dns_init() {
	mkdir -p "$DNS_DIR" || bail_out "cannot make $DNS_DIR"
	(
		cd "$DNS_DIR" &&
		ldns-keygen -a ECDSAP256SHA256 -k example >example.keyname &&
		ldns-keygen -a ECDSAP256SHA256 -k bogus.example >bogus.keyname
	) 2>"$DNS_DIR/keygen.log" || bail_out "ldns-keygen failed: $(cat "$DNS_DIR/keygen.log")"
	{
		_dns_head example
		echo "ns.example. IN A 127.0.0.1"
		echo "insecure.example. IN NS ns.example."
		echo "bogus.example. IN NS ns.example."
		grep -v '^;' "$DNS_DIR/$(cat "$DNS_DIR/bogus.keyname").ds"
	} >"$DNS_DIR/example.zone"
	_dns_head insecure.example >"$DNS_DIR/insecure.zone"
	_dns_head bogus.example >"$DNS_DIR/bogus.zone"
}

dns_add() {    # ZONE RR
	printf '%s\n' "$2" >>"$DNS_DIR/$1.zone"
}

dns_tlsa() {    # ZONE HOST USAGE FILE
	_hex=$(spki_sha256 "$4")
	[ ${#_hex} -eq 64 ] || bail_out "cannot hash the key of $4"
	dns_add "$1" "_${DNS_TLSA_PORT:-25}._tcp.$2. IN TLSA $3 1 1 $_hex"
}

# The bogus zone: the first TLSA record's first data byte changes after signing.
_dns_spoil() {
	awk 'BEGIN { OFS = "\t" }
	     !done && $4 == "TLSA" {
		data = $NF
		$NF = (substr(data, 1, 2) == "00" ? "ff" : "00") substr(data, 3)
		done = 1
	     }
	     { print }' "$1" >"$1.spoilt" && mv "$1.spoilt" "$1"
}

_dns_sign() {    # ZONE-FILE KEYNAME-FILE
	(cd "$DNS_DIR" && ldns-signzone "$1" "$(cat "$2")") >>"$DNS_DIR/sign.log" 2>&1 ||
		bail_out "ldns-signzone $1 failed: $(cat "$DNS_DIR/sign.log")"
}

dns_serve() {
	_dns_sign bogus.zone bogus.keyname
	_dns_spoil "$DNS_DIR/bogus.zone.signed"
	_dns_sign example.zone example.keyname
	grep -v '^;' "$DNS_DIR/$(cat "$DNS_DIR/example.keyname").ds" >"$DNS_DIR/anchor.ds"
	DNS_ANCHOR="$DNS_DIR/anchor.ds"
	_dns_port=$(free_port)
	cat >"$DNS_DIR/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1
	port: $_dns_port
	username: ""
	chroot: ""
	zonesdir: "$DNS_DIR"
	database: ""
	zonelistfile: "$DNS_DIR/zone.list"
	xfrdfile: "$DNS_DIR/xfrd.state"
	xfrdir: "$DNS_DIR"
	pidfile: "$DNS_DIR/nsd.pid"
	logfile: "$DNS_DIR/nsd.log"
	server-count: 1
	verbosity: 1
remote-control:
	control-enable: no
zone:
	name: example.
	zonefile: example.zone.signed
zone:
	name: insecure.example.
	zonefile: insecure.zone
zone:
	name: bogus.example.
	zonefile: bogus.zone.signed
EOF
	nsd-checkconf "$DNS_DIR/nsd.conf" >"$DNS_DIR/checkconf.log" 2>&1 ||
		bail_out "nsd.conf: $(cat "$DNS_DIR/checkconf.log")"
	start_bg nsd nsd -d -c "$DNS_DIR/nsd.conf"
	_dns_pid=$bg_pid
	# Until it answers for the signed zone, as long as it lives (5 s at most);
	# over TCP, where a refused connection fails at once (UDP retries for 15 s).
	_i=0
	until drill -t -p "$_dns_port" @127.0.0.1 example. SOA 2>/dev/null | grep -q 'rcode: NOERROR'; do
		if ! kill -0 "$_dns_pid" 2>/dev/null || [ $_i -ge 50 ]; then
			cat "$TEST_TMP/nsd.log" "$DNS_DIR/nsd.log" >&2 2>/dev/null
			bail_out "NSD does not answer on 127.0.0.1@$_dns_port"
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	DNS_RESOLVER="127.0.0.1@$_dns_port"
}

dns_resign() {
	_dns_sign example.zone example.keyname
	kill -HUP "$_dns_pid" || bail_out "NSD is gone"
}
