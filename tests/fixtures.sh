#!/bin/sh
# fixtures.sh DIR - makes the certificates, keys and broken files that
# tests/test-x509.c checks, with the openssl command, and writes beside
# them what openssl itself says of the leaf (fingerprints, dates, subject)
# so the C code is compared with an independent implementation.
#
# Made at test time rather than shipped: nothing expires in the tree, and
# the dates are whatever "now" is, which is why disk_pair_load() takes now.
set -eu

dir=${1:?usage: fixtures.sh DIR}
cd "$dir"
log=openssl.log
: > "$log"

ossl() { openssl "$@" >> "$log" 2>&1; }

cat > ext.cnf <<'EOF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:mail.example.com, DNS:*.example.org, IP:192.0.2.7, IP:2001:DB8:0:0:0:0:0:7

[cnonly]
basicConstraints = critical, CA:FALSE
subjectAltName = DNS:www.example.net

[nosan]
basicConstraints = critical, CA:FALSE
EOF

ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256"

# A root, and an intermediate it signs.
ossl req -x509 $ec -nodes -keyout root.key -out root.pem -days 3650 \
	-subj "/O=certwatch test/CN=certwatch test root"
ossl req -new $ec -nodes -keyout int.key -out int.csr \
	-subj "/O=certwatch test/CN=certwatch test intermediate"
ossl x509 -req -in int.csr -CA root.pem -CAkey root.key -set_serial 2 \
	-days 3650 -extfile ext.cnf -extensions ca -out int.pem

# The same intermediate name on another key: right names, wrong signature.
ossl req -x509 $ec -nodes -keyout forged.key -out forged.pem -days 3650 \
	-subj "/O=certwatch test/CN=certwatch test intermediate"

# leaf_cert NAME KEYOPTS SUBJECT EXT: a key and a leaf signed by the intermediate.
leaf_cert() {
	ossl req -new $2 -nodes -keyout "$1.key" -out "$1.csr" -subj "$3"
	ossl x509 -req -in "$1.csr" -CA int.pem -CAkey int.key -set_serial "$5" \
		-days 90 -extfile ext.cnf -extensions "$4" -out "$1.pem"
}
leaf_cert leaf "-newkey rsa:2048" "/CN=mail.example.com/O=certwatch test" leaf 10
leaf_cert leaf-ec "$ec" "/CN=mail.example.com/O=certwatch test" leaf 11
leaf_cert leaf-ed "-newkey ed25519" "/CN=mail.example.com/O=certwatch test" leaf 12
leaf_cert cn-only "$ec" "/CN=cn-only.example.com" cnonly 13
leaf_cert nosan "$ec" "/CN=nosan.example.com" nosan 15

# A leaf with 3,000 names, the one asked for last: more than any fixed count
# of names kept would let through.
{
	printf '\n[many]\nbasicConstraints = critical, CA:FALSE\nsubjectAltName = '
	seq 0 2999 | sed 's/.*/DNS:host&.example.com/' | paste -sd, -
} >> ext.cnf
leaf_cert many "$ec" "/CN=host0.example.com" many 14

ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key
ossl pkey -in leaf.key -aes256 -passout pass:secret -out encrypted.key

cat leaf.pem int.pem > fullchain.pem
# Postfix's smtpd_tls_chain_files: each key, then its certificate and chain.
cat leaf.key leaf.pem int.pem > pf-keyfirst.pem
cat leaf.pem int.pem leaf.key > pf-certfirst.pem
openssl ecparam -name prime256v1 > pf-ecparams.pem 2>> "$log"
cat leaf-ec.key leaf-ec.pem int.pem >> pf-ecparams.pem
cat leaf.key leaf.key leaf.pem int.pem > pf-twokeys.pem
cat leaf.key leaf.pem int.pem leaf-ec.key leaf-ec.pem int.pem > pf-dual.pem
cat leaf.key leaf.pem int.pem other.key leaf-ec.pem int.pem > pf-dual-broken.pem
# The leaf as a TRUSTED CERTIFICATE, which OpenSSL's loaders take as the leaf.
openssl x509 -in leaf.pem -trustout -addtrust serverAuth > fullchain-trusted.pem 2>> "$log"
cat int.pem >> fullchain-trusted.pem
cat leaf-ec.pem int.pem > fullchain-ec.pem
cat leaf-ed.pem int.pem > fullchain-ed.pem
cat cn-only.pem int.pem > fullchain-cn-only.pem
cat nosan.pem int.pem > fullchain-nosan.pem
cat many.pem int.pem > fullchain-many.pem
cat leaf.pem root.pem int.pem > chain-out-of-order.pem
cat leaf.pem forged.pem > chain-forged.pem
# The separate chain holds the root too: leaf, intermediate, root is in order.
cat int.pem root.pem > chain.pem
head -c 1024 /dev/urandom > random.bin
: > empty.pem
# Cut inside the intermediate, as a reader racing a writer would see it.
head -c "$(($(wc -c < leaf.pem) + 300))" fullchain.pem > truncated.pem
# A file over the 1 MiB bound, PEM from the first line on.
{ cat fullchain.pem; head -c 1100000 /dev/zero | tr '\0' '#'; } > huge.pem
# The same key, readable by group and others, and by its group alone.
cp leaf.key key-0644.key && chmod 0644 key-0644.key
cp leaf.key key-0640.key && chmod 0640 key-0640.key
mkdir -p a-directory
mkfifo a-fifo
if [ "$(id -u)" != 0 ]; then
	cp fullchain.pem no-permission.pem
	chmod 000 no-permission.pem
fi

# What openssl says of the leaf, for the C test to compare with.
openssl x509 -in leaf.pem -noout -fingerprint -sha256 |
	sed 's/.*=//; s/://g' | tr 'A-F' 'a-f' > leaf.sha256
openssl x509 -in leaf.pem -noout -pubkey | openssl pkey -pubin -outform der |
	openssl dgst -sha256 -r | cut -d' ' -f1 > leaf.spki
openssl x509 -in leaf-ec.pem -noout -fingerprint -sha256 |
	sed 's/.*=//; s/://g' | tr 'A-F' 'a-f' > leaf-ec.sha256
openssl x509 -in int.pem -noout -fingerprint -sha256 |
	sed 's/.*=//; s/://g' | tr 'A-F' 'a-f' > int.sha256
openssl x509 -in leaf.pem -noout -subject -nameopt RFC2253 | sed 's/^subject=//' > leaf.subject
openssl x509 -in leaf.pem -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//' > leaf.issuer
for which in start end; do
	when=$(openssl x509 -in leaf.pem -noout -"${which}date" | sed 's/.*=//')
	date -u -d "$when" +%s > "leaf.${which}"
	date -u -d "$when" '+%Y-%m-%d %H:%M:%S UTC' > "leaf.${which}.text"
done
