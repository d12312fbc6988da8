#!/usr/bin/env bash
# test_tls.sh <dir>: a throwaway certificate authority (ca.pem), a certificate for 127.0.0.1
# and localhost signed by it (cert.pem, key.pem), and bundle.pem: the system's authorities
# plus the test one, for SSL_CERT_FILE. Does nothing when they exist and are good for a day.
set -euo pipefail
dir=$1
[ -s "$dir/bundle.pem" ] && openssl x509 -checkend 86400 -noout -in "$dir/cert.pem" >/dev/null 2>&1 && exit 0
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=azure_storage test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout key.pem -out cert.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > cert.ext
openssl x509 -req -in cert.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile cert.ext -out cert.pem 2>/dev/null
cat /etc/ssl/certs/ca-certificates.crt ca.pem > bundle.pem
# PostgreSQL, running as postgres, reads the bundle.
chmod 644 ca.pem cert.pem bundle.pem
