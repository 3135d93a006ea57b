#!/bin/sh
# gen_certs.sh DIR - make the TLS test certificates in DIR with the openssl
# CLI, at test time (nothing secret or expiring is kept in the tree).
#
#   ca.pem            test CA (ca-key.pem)
#   server-cert.pem   server/route cert for 127.0.0.1 and localhost, signed by
#   server-key.pem    the CA, usable as TLS server and client (routes dial)
#   server2-*.pem     a second server cert (CN=modnats-test-2), for reloads
#   alice-*.pem       client: CN=alice,O=Acme,C=US, SAN email alice@example.com
#   bob-*.pem         client: CN=bob,OU=Ops,O=Acme,C=US, SAN DNS bob.example.com
#   carol-*.pem       client: CN=carol,O=Acme,C=US (mapped by no user)
#   rogue-*.pem       client: CN=alice,... signed by another CA (rogue-ca.pem)
#   garbage.pem       not a certificate
set -eu
dir=${1:?usage: gen_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
days=30

ca() {   # ca NAME SUBJECT
    openssl req -x509 -newkey rsa:2048 -nodes -days $days -sha256 \
        -keyout "$1-key.pem" -out "$1.pem" -subj "$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

leaf() { # leaf NAME SUBJECT CA EXTFILE-TEXT
    openssl req -newkey rsa:2048 -nodes -keyout "$1-key.pem" -out "$1.csr" \
        -subj "$2" 2>/dev/null
    printf '%s\n' "$4" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3-key.pem" \
        -CAcreateserial -days $days -sha256 -extfile "$1.ext" \
        -out "$1-cert.pem" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}

srv_ext='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:localhost,IP:127.0.0.1'
cli_ext() { printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n%s' "$1"; }

ca ca "/CN=modnats test CA/O=modnats"
ca rogue-ca "/CN=rogue CA/O=elsewhere"
leaf server "/CN=modnats-test/O=modnats" ca "$srv_ext"
leaf server2 "/CN=modnats-test-2/O=modnats" ca "$srv_ext"
leaf alice "/C=US/O=Acme/CN=alice" ca "$(cli_ext 'subjectAltName=email:alice@example.com')"
leaf bob "/C=US/O=Acme/OU=Ops/CN=bob" ca "$(cli_ext 'subjectAltName=DNS:bob.example.com')"
leaf carol "/C=US/O=Acme/CN=carol" ca "$(cli_ext '')"
leaf rogue "/C=US/O=Acme/CN=alice" rogue-ca "$(cli_ext 'subjectAltName=email:alice@example.com')"
echo "this is not a certificate" > garbage.pem
rm -f ./*.srl
