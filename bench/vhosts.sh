# bench/vhosts.sh - what the benchmarks share: N virtual hosts, each with
# its own ECDSA P-256 certificate from a throw-away CA, served by one
# private nginx on one 127.0.0.1 port, SNI choosing the block.
#
# Sourced after tests/lib.sh (for ca_init, nginx_start, $TEST_TMP) and
# after the sourcing script has defined bail_out.  vhosts_names N writes
# $NAMES (vh1.bench.test ... vhN.bench.test); vhosts_certs makes
# $CERTS/NAME.{key,crt,pem} for every name (pem: leaf and root); and
# vhosts_nginx PORT FILE starts nginx with the server blocks that
# vhosts_server_lines wrote to FILE.  Each sets a *_ms figure: how long it
# took.

NAMES="$TEST_TMP/names"
CERTS="$TEST_TMP/certs"

# vhosts_names N: vh1.bench.test ... vhN.bench.test in $NAMES.
vhosts_names() {
	_i=1
	while [ "$_i" -le "$1" ]; do
		echo "vh$_i.bench.test"
		_i=$((_i + 1))
	done >"$NAMES"
}

# vhost_cert NAME PREFIX: a key and a leaf for NAME signed by the root, in
# one openssl call: PREFIX.key, PREFIX.crt (the leaf), PREFIX.pem (leaf
# and root).
vhost_cert() {
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$2.key" -out "$2.crt" -days 90 -subj "/CN=$1" \
		-addext "subjectAltName=DNS:$1" -addext "basicConstraints=critical,CA:FALSE" \
		-CA "$CA_DIR/root.pem" -CAkey "$CA_DIR/root.key" \
		>>"$CA_DIR/openssl.log" 2>&1 &&
	cat "$2.crt" "$CA_DIR/root.pem" >"$2.pem"
}

# _vhosts_certs_part FIRST STEP: the certificates of lines FIRST,
# FIRST+STEP, ... of $NAMES.
_vhosts_certs_part() {
	sed -n "$1~$2p" "$NAMES" | while read -r _n; do
		vhost_cert "$_n" "$CERTS/$_n" || exit 1
	done
}

# _vhosts_certs_python: every name's certificate from one python3 process
# (python3-cryptography), some hundred times faster than one openssl
# process per name at N = 10,000; fails when the module is missing.
_vhosts_certs_python() {
	"$PYTHON" - "$CA_DIR/root.pem" "$CA_DIR/root.key" "$NAMES" "$CERTS" <<'PYEOF'
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

root_pem = open(sys.argv[1], "rb").read()
root = x509.load_pem_x509_certificate(root_pem)
root_key = serialization.load_pem_private_key(open(sys.argv[2], "rb").read(), None)
now = datetime.datetime.now(datetime.timezone.utc)
for name in open(sys.argv[3]).read().split():
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(root.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(root_key, hashes.SHA256()))
    leaf = cert.public_bytes(serialization.Encoding.PEM)
    base = "%s/%s" % (sys.argv[4], name)
    open(base + ".key", "wb").write(key.private_bytes(serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    open(base + ".crt", "wb").write(leaf)
    open(base + ".pem", "wb").write(leaf + root_pem)
PYEOF
}

# vhosts_certs: the CA and every name's certificate, from python3 when it
# can, else as many openssl processes at a time as there are CPUs; sets
# certs_ms and jobs (the processes used).
vhosts_certs() {
	_t0=$(now_ms)
	mkdir -p "$CERTS" || bail_out "cannot make $CERTS"
	ca_init || bail_out "cannot make the CA (see $CA_DIR/openssl.log)"
	jobs=1
	if ! _vhosts_certs_python 2>"$TEST_TMP/python-certs.err"; then
		jobs=$(nproc 2>/dev/null || echo 1)
		_pids=""
		_j=1
		while [ "$_j" -le "$jobs" ]; do
			_vhosts_certs_part "$_j" "$jobs" &
			_pids="$_pids $!"
			_j=$((_j + 1))
		done
		for _p in $_pids; do
			wait "$_p" ||
				bail_out "cannot make the certificates: $(tail -n 3 "$CA_DIR/openssl.log")"
		done
	fi
	[ "$(find "$CERTS" -name '*.pem' | wc -l)" -eq "$(wc -l <"$NAMES")" ] ||
		bail_out "fewer certificates made than names in $NAMES"
	certs_ms=$(($(now_ms) - _t0))
}

# vhosts_server_lines PORT DIR SUFFIX KEY-SUFFIX: one nginx server block a
# line for every name, serving DIR/NAME$SUFFIX with the key DIR/NAME$KEY-SUFFIX.
vhosts_server_lines() {
	while read -r _n; do
		printf '\tserver { listen 127.0.0.1:%s ssl; server_name %s; ' "$1" "$_n"
		printf 'ssl_certificate %s; ssl_certificate_key %s; }\n' "$2/$_n$3" "$2/$_n$4"
	done <"$NAMES"
}

# vhosts_nginx PORT FILE: nginx with the server blocks of FILE, one worker,
# room for thousands of names; sets nginx_ms and nginx_rss (KiB, workers).
vhosts_nginx() {
	_t0=$(now_ms)
	NGINX_CONNECTIONS=2048
	NGINX_START_WAIT=600
	NGINX_HTTP_EXTRA="server_names_hash_bucket_size 128; server_names_hash_max_size 65536;"
	nginx_start "$1" <"$2" || bail_out "nginx did not start"
	nginx_ms=$(($(now_ms) - _t0))
	nginx_rss=$(ps -o rss= --ppid "$nginx_pid" | awk '{ s += $1 } END { print s + 0 }')
}
