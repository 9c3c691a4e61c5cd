#!/bin/sh
# certwatch tlsa FILE...: the 3 1 1 record of each leaf's key, the 2 1 1 of
# its issuer's, and its pin-sha256, compared with what the openssl command
# computes; the owner name from --port and --name or the leaf; and the
# errors a person can make.
. "$TESTS_SRCDIR/lib.sh"

require_cmd openssl
ca_init || bail_out "cannot make the test CA"
set -- "$CERTWATCH" tlsa
[ -x "$1" ] || bail_out "$1 is not built"

# t ARGS...: runs the command; stdout in $out, stderr in $err, status in $rc.
t() {
	"$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	rc=$?
	out=$(cat "$TEST_TMP/out")
	err=$(cat "$TEST_TMP/err")
	# Under --enable-sanitizers a report does not always change the status.
	if printf '%s\n' "$err" | grep -Eq 'Sanitizer|runtime error:'; then
		_tap_result 1 "$*: no sanitizer report"
		diag "$err"
	fi
}

# What the openssl command says: the hex and the base64 SHA-256 of the SPKI.
spki_hex() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
		openssl dgst -sha256 -r | cut -d' ' -f1
}
spki_pin() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
		openssl dgst -sha256 -binary | openssl base64 -A
}

ca_leaf "$TEST_TMP/mx" 60 mx.example.net mail.example.net || bail_out "cannot make a certificate"
CA_KEY=rsa ca_leaf "$TEST_TMP/rsa" 60 '*.example.org' www.example.org ||
	bail_out "cannot make a certificate"
ca_leaf "$TEST_TMP/ip" 60 192.0.2.1 || bail_out "cannot make a certificate"

t "$@" "$TEST_TMP/mx.fullchain.pem"
is "$rc" 0 "a full chain: exit 0"
like "$out" "^_25\\._tcp\\.mx\\.example\\.net\\. IN TLSA 3 1 1 $(spki_hex "$TEST_TMP/mx.crt")\$" \
	"a full chain: 3 1 1 of the leaf's key, as openssl computes it, owner from its first name"
like "$out" "^_25\\._tcp\\.mx\\.example\\.net\\. IN TLSA 2 1 1 $(spki_hex "$CA_DIR/root.pem")\$" \
	"a full chain: 2 1 1 of the issuer's key"
like "$out" "^; pin-sha256 = \"$(spki_pin "$TEST_TMP/mx.crt" | sed 's/+/\\+/g')\"\$" \
	"a full chain: the leaf's pin-sha256, as openssl computes it"
like "$out" "^; .*mx\\.fullchain\\.pem: CN=mx\\.example\\.net" "a full chain: a comment names the file and subject"

t "$@" --port 465 --name smtp.example.com "$TEST_TMP/mx.fullchain.pem"
like "$out" "^_465\\._tcp\\.smtp\\.example\\.com\\. IN TLSA 3 1 1 " "--port and --name form the owner name"

t "$@" -p 587 "$TEST_TMP/rsa.crt"
is "$rc" 0 "a leaf alone: exit 0"
like "$out" "^_587\\._tcp\\.www\\.example\\.org\\. IN TLSA 3 1 1 $(spki_hex "$TEST_TMP/rsa.crt")\$" \
	"an RSA leaf whose first name is a wildcard: its first name that can own records"
unlike "$out" "IN TLSA 2 1 1" "a leaf alone: no 2 1 1 record"
like "$out" "^; no issuer certificate in .*rsa\\.crt: 2 1 1 needs the full chain" "a leaf alone: said so"

t "$@" "$TEST_TMP/mx.crt" "$TEST_TMP/rsa.crt"
is "$(printf '%s\n' "$out" | grep -c ' IN TLSA 3 1 1 ')" 2 "two files: a 3 1 1 record for each"

t "$@" "$TEST_TMP/ip.crt"
is "$rc" 3 "a leaf with no DNS name and no --name: exit 3"
like "$err" "ip\\.crt: the certificate has no DNS name .*--name" "a leaf with no DNS name: said what to do"
t "$@" --name mx.example.net "$TEST_TMP/ip.crt"
is "$rc" 0 "a leaf with no DNS name and --name: exit 0"

t "$@" "$TEST_TMP/no-such.pem"
is "$rc" 3 "a missing file: exit 3"
like "$err" "no-such\\.pem: No such file" "a missing file: named"
head -c 300 /dev/urandom >"$TEST_TMP/random.bin"
t "$@" "$TEST_TMP/random.bin"
is "$rc" 3 "a file with no certificate: exit 3"
like "$err" "random\\.bin: no PEM certificate" "a file with no certificate: said so"
mkfifo "$TEST_TMP/fifo.pem"
t "$@" "$TEST_TMP/fifo.pem"
is "$rc" 3 "a FIFO: exit 3, without waiting for a writer"
like "$err" "fifo\\.pem: is a FIFO, not a regular file" "a FIFO: said what it is"
t "$@" "$TEST_TMP"
like "$err" ": is a directory, not a regular file" "a directory: said what it is"
t "$@" "$TEST_TMP/mx.fullchain.pem" "$TEST_TMP/no-such.pem"
is "$rc/$(printf '%s\n' "$out" | grep -c ' 3 1 1 ')" 3/1 "a good and a missing file: the good one printed, exit 3"
t "$@" --port 0 "$TEST_TMP/mx.crt"
is "$rc" 3 "--port 0: exit 3"
like "$err" "not a port number" "--port 0: said so"
t "$@" --name 'bad name' "$TEST_TMP/mx.crt"
is "$rc" 3 "a --name that cannot be a host name: exit 3"
t "$@"
is "$rc" 3 "no file: exit 3"
like "$err" "^Usage: certwatch tlsa" "no file: the usage"
t "$@" --help
is "$rc/$(printf '%s\n' "$out" | head -n 1)" "0/Usage: certwatch tlsa [--port PORT] [--name NAME] FILE..." \
	"--help: the usage on stdout, exit 0"

done_testing
