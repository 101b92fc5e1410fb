#!/usr/bin/env bash
# record.sh - record Postfix 3.7's TLS log lines and Received: clauses for crates/tls's goldens.
#
# Usage: record.sh            (as root; Debian's postfix package and openssl installed)
#
# Builds a private Postfix instance in a scratch directory (the system's Postfix is not
# touched), with one smtpd service per configuration on 127.0.0.1, drives each case with
# `openssl s_client` pinned to one protocol, cipher, key-exchange group and signature
# algorithm (the in-process tests pin rustls's client the same way), and writes:
#
#   NAME.log       smtpd's lines for the session (text after "postfix/smtpd[PID]: "),
#                  queue ids as QUEUEID
#   NAME.received  the Received: header smtpd added (the message is held, then read back
#                  with postcat), unfolded with the folding kept as "\n\t"
#   start-NAME.log smtpd's start-up warnings for a broken certificate or key
#
# The certificates under certs/ (X.509 v3: rustls refuses v1 peer certificates) are made
# once (openssl) and kept: the goldens name their
# key sizes, and the tests load the same files. Delete certs/ to make new ones, then
# record again. Recorded with Postfix 3.7.11 (Debian 3.7.11-0+deb12u1), OpenSSL 3.0.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
certs=$here/certs

make_certs() {
    mkdir -p "$certs" && cd "$certs"
    local days=36500
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days $days \
        -subj "/CN=ironpost test CA" 2>/dev/null
    issue() { # name keyspec subject
        openssl req -newkey "$2" -nodes -keyout "$1.key" -out "$1.csr" -subj "$3" 2>/dev/null
        openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
            -days $days -out "$1.pem" -extfile <(printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:%s\n' "${3#/CN=}") \
            2>/dev/null
        rm "$1.csr"
    }
    issue rsa rsa:2048 "/CN=mail.example"
    openssl ecparam -name prime256v1 -out p256.param
    issue ecdsa ec:p256.param "/CN=mail.example"
    rm p256.param
    issue client rsa:2048 "/CN=client.example"
    # Postfix allows key and chain in one file (smtpd_tls_chain_files).
    cat rsa.key rsa.pem ca.pem > rsa-chain.pem
    # Broken files for the start-up warnings.
    head -c 200 rsa.key > broken.key
    printf 'not a certificate\n' > broken.pem
    cd - >/dev/null
}
[ -f "$certs/rsa.pem" ] || make_certs

top=$(mktemp -d /tmp/tls-golden-XXXXXX)
# Results go to $out first and replace the goldens only when every case worked (a
# stray client on one of the ports, or a slow machine, must not leave half a set).
out=$top/out
failed=0
chmod 755 "$top"
mkdir "$top"/{conf,queue,data,log,certs,out}
chown postfix "$top/data"
# Debian's smtpd runs as postfix and reads the files before dropping privileges; a copy
# with the recording paths keeps the goldens free of this checkout's path.
cp "$certs"/* "$top/certs/"
C=/etc/ironpost-test
cat > "$top/conf/main.cf" <<CF
compatibility_level = 3.6
myhostname = golden.example
mydomain = example
smtpd_banner = \$myhostname ESMTP
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
relay_domains =
alias_maps =
alias_database =
default_transport = discard:golden
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_end_of_data_restrictions = check_client_access static:HOLD
queue_directory = $top/queue
data_directory = $top/data
maillog_file = $top/log/maillog
maillog_file_prefixes = $top
smtpd_tls_security_level = may
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
smtpd_tls_cert_file = $top/certs/rsa.pem
smtpd_tls_key_file = $top/certs/rsa.key
CF
svc() { # port options...
    local port=$1; shift
    printf '127.0.0.1:%s inet n - n - - smtpd' "$port"
    for o in "$@"; do printf ' -o {%s}' "$o"; done
    printf '\n'
}
{
    svc 24701
    svc 24702 "smtpd_tls_loglevel = 2"
    svc 24703 "smtpd_tls_cert_file = $top/certs/ecdsa.pem" "smtpd_tls_key_file = $top/certs/ecdsa.key"
    svc 24704 "smtpd_tls_ask_ccert = yes"
    svc 24705 "smtpd_tls_wrappermode = yes"
    svc 24706 "smtpd_tls_loglevel = 0"
    svc 24707 "smtpd_tls_chain_files = $top/certs/rsa-chain.pem" "smtpd_tls_cert_file =" "smtpd_tls_key_file ="
    svc 24708 "smtpd_tls_ask_ccert = yes" "smtpd_tls_loglevel = 2"
    svc 24709 "smtpd_tls_ask_ccert = yes" "smtpd_tls_CAfile = $top/certs/ca.pem"
    svc 24710 "smtpd_starttls_timeout = 2s"
    svc 24716 "smtpd_tls_fingerprint_digest = bogus"
    svc 24717 "smtpd_tls_ask_ccert = yes" "smtpd_tls_loglevel = 2" "smtpd_tls_fingerprint_digest = md5"
    svc 24718 "smtpd_tls_key_file = $top/certs/client.key"
    svc 24719 "smtpd_tls_CAfile = $top/certs/broken.pem" "smtpd_tls_ask_ccert = yes"
    svc 24720 "smtpd_tls_CAfile = $top/certs/missing.pem" "smtpd_tls_ask_ccert = yes"
    svc 24721 "smtpd_tls_protocols = TLSv9"
    svc 24722 "smtpd_tls_wrappermode = yes"
    svc 24723 "smtpd_tls_security_level = encrypt" "smtpd_tls_req_ccert = yes"
    svc 24724 "smtpd_tls_security_level = encrypt" "smtpd_tls_req_ccert = yes"
    svc 24711 "smtpd_tls_key_file = $top/certs/broken.key"
    svc 24712 "smtpd_tls_cert_file = $top/certs/broken.pem"
    svc 24713 "smtpd_tls_key_file = $top/certs/missing.key"
    svc 24714 "smtpd_tls_cert_file = $top/certs/missing.pem"
    svc 24715 "smtpd_tls_chain_files = $top/certs/broken.key" "smtpd_tls_cert_file =" "smtpd_tls_key_file ="
    cat <<'SERVICES'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
postlog   unix-dgram n  -       n       -       1       postlogd
SERVICES
} > "$top/conf/master.cf"

conf=$top/conf
maillog=$top/log/maillog
cleanup() { /usr/sbin/postfix -c "$conf" stop >/dev/null 2>&1 || true; sleep 1; rm -rf "$top"; }
trap cleanup EXIT
/usr/sbin/postfix -c "$conf" start
sleep 2

# The smtpd lines logged since byte offset $1, up to the session's "disconnect from".
session_log() {
    local start=$1 i
    for i in $(seq 50); do
        tail -c +"$((start + 1))" "$maillog" | grep -q 'postfix/smtpd\[[0-9]*\]: disconnect from' && break
        sleep 0.2
    done
    tail -c +"$((start + 1))" "$maillog" | grep ' postfix/smtpd\[' |
        sed -E 's/^.*? postfix\/smtpd\[[0-9]+\]: //; s/^[0-9A-F]{6,}:/QUEUEID:/' |
        sed -E "s|$top|$C|g"
}

# case NAME PORT starttls|wrapper s_client-options...
case_() {
    local name=$1 port=$2 mode=$3; shift 3
    local start reply id
    start=$(stat -c %s "$maillog")
    local how=(-starttls smtp)
    [ "$mode" = wrapper ] && how=()
    reply=$( { sleep 1; printf 'EHLO client.example\n'; sleep 0.3
             printf 'MAIL FROM:<sender@example.com>\n'; sleep 0.3
             printf 'RCPT TO:<rcpt@example.net>\n'; sleep 0.3
             printf 'DATA\n'; sleep 0.3; printf 'Subject: t\n\nbody\n.\n'; sleep 0.5
             printf 'QUIT\n'; sleep 0.5; } |
        timeout 20 openssl s_client "${how[@]}" -connect 127.0.0.1:"$port" -crlf -quiet \
            -servername mail.example "$@" 2>/dev/null || true)
    session_log "$start" > "$out/$name.log"
    id=$(printf '%s' "$reply" | sed -n 's/.*queued as \([0-9A-F]*\).*/\1/p' | tr -d '\r')
    if [ -n "$id" ]; then
        /usr/sbin/postcat -c "$conf" -h -q "$id" 2>/dev/null |
            awk '/^Received:/{r=1; printf "%s", $0; next} r && /^[ \t]/{printf "\\n%s", $0; next} r{print ""; exit}' |
            sed -E 's/ id [0-9A-F]+/ id QUEUEID/; s/; [A-Z][a-z]{2}, .*$/; DATE/' \
            > "$out/$name.received"
        /usr/sbin/postsuper -c "$conf" -d "$id" >/dev/null 2>&1 || true
    elif [ -z "${NOQUEUE:-}" ]; then
        echo "record.sh: $name: no message queued" >&2
        failed=1
    fi
    [ -n "${NOQUEUE:-}" ] || [ -s "$out/$name.received" ] || failed=1
}

# start-up warnings of a service with broken files: connect, then keep what it logged
startup() { # name port
    local start=$(stat -c %s "$maillog")
    timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$2; sleep 1; printf 'QUIT\\r\\n' >&3; cat <&3 >/dev/null" || true
    session_log "$start" > "$out/start-$1.log"
}

# STARTTLS, then silence: the handshake timeout (smtpd_starttls_timeout).
silent() { # name port
    local start
    start=$(stat -c %s "$maillog")
    timeout 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$2; sleep 0.5; printf 'EHLO client.example\\r\\nSTARTTLS\\r\\n' >&3; sleep 4; exec 3>&-" || true
    session_log "$start" > "$out/$1.log"
}

x25519=(-groups X25519)
pss256=(-sigalgs rsa_pss_rsae_sha256)
case_ tls13-aes256 24701 starttls -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 "${x25519[@]}" "${pss256[@]}"
case_ tls13-aes128 24701 starttls -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256 -groups P-256 "${pss256[@]}"
case_ tls13-chacha 24701 starttls -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256 -groups P-384 -sigalgs rsa_pss_rsae_sha512
case_ tls12-ecdhe-rsa-aes256 24701 starttls -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384 "${x25519[@]}" "${pss256[@]}"
case_ tls12-ecdhe-rsa-aes128 24701 starttls -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 -groups P-256 -sigalgs RSA+SHA256
case_ tls12-ecdhe-rsa-chacha 24701 starttls -tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305 "${x25519[@]}" -sigalgs RSA+SHA384
case_ tls13-loglevel2 24702 starttls -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 "${x25519[@]}" "${pss256[@]}"
case_ tls13-ecdsa 24703 starttls -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 "${x25519[@]}" -sigalgs ecdsa_secp256r1_sha256
case_ tls12-ecdsa 24703 starttls -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384 -groups X25519:P-256 -sigalgs ECDSA+SHA256
case_ tls13-ccert 24704 starttls -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 "${x25519[@]}" "${pss256[@]}" \
    -cert "$top/certs/client.pem" -key "$top/certs/client.key"
case_ tls13-ccert-none 24704 starttls -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 "${x25519[@]}" "${pss256[@]}"
case_ tls13-wrapper 24705 wrapper -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 "${x25519[@]}" "${pss256[@]}"
case_ tls13-loglevel0 24706 starttls -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 "${x25519[@]}" "${pss256[@]}"
case_ tls13-chain 24707 starttls -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 "${x25519[@]}" "${pss256[@]}"
case_ tls13-ccert-loglevel2 24708 starttls -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 "${x25519[@]}" "${pss256[@]}" \
    -cert "$top/certs/client.pem" -key "$top/certs/client.key"
case_ tls13-ccert-trusted 24709 starttls -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 "${x25519[@]}" "${pss256[@]}" \
    -cert "$top/certs/client.pem" -key "$top/certs/client.key"
case_ tls13-ccert-md5 24717 starttls -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 "${x25519[@]}" "${pss256[@]}" \
    -cert "$top/certs/client.pem" -key "$top/certs/client.key"
NOQUEUE=1 case_ tls12-no-shared-cipher 24701 starttls -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384 "${x25519[@]}" -sigalgs ECDSA+SHA256
silent starttls-timeout 24710
NOQUEUE=1 case_ tls13-req-ccert-none 24723 starttls -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 "${x25519[@]}" "${pss256[@]}"
NOQUEUE=1 case_ tls13-req-ccert-untrusted 24724 starttls -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 "${x25519[@]}" "${pss256[@]}" \
    -cert "$top/certs/client.pem" -key "$top/certs/client.key"
# A plaintext client on the wrapper-mode port.
start=$(stat -c %s "$maillog")
timeout 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/24722; printf 'EHLO client.example\\r\\n' >&3; sleep 1; cat <&3 >/dev/null" || true
session_log "$start" > "$out/wrapper-plaintext.log"
# STARTTLS, then a partial ClientHello and a close: the lost connection.
start=$(stat -c %s "$maillog")
timeout 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/24701; sleep 0.5; printf 'EHLO client.example\\r\\n' >&3; sleep 0.3; printf 'STARTTLS\\r\\n' >&3; sleep 0.3; printf '\\x16\\x03\\x01\\x00' >&3; sleep 0.3; exec 3>&-" || true
session_log "$start" > "$out/starttls-lost.log"
startup broken-key 24711
startup broken-cert 24712
startup missing-key 24713
startup missing-cert 24714
startup broken-chain 24715
startup bad-digest 24716
startup mismatched-key 24718
startup broken-cafile 24719
startup missing-cafile 24720
startup bad-protocols 24721
if [ "$failed" != 0 ]; then
    echo "record.sh: some cases failed; the goldens are unchanged" >&2
    exit 1
fi
cp "$out"/* "$here/"
