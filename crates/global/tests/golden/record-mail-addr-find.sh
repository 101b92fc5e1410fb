#!/bin/sh
# record-mail-addr-find.sh -- record mail_addr_find.ref (standard output) and
# mail_addr_find.err (warnings) with Postfix 3.7's own mail_addr_find test driver:
# `make -C POSTFIX/src/global mail_addr_find` (see record.sh), then
# DRIVERS=POSTFIX/src/global sh record-mail-addr-find.sh. The driver names its table list
# after its own path; that becomes "mail_addr_find". Its "expected ..." complaints concern
# optional expectation fields the cases do not use, and are left out.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
: "${DRIVERS:?set DRIVERS to the directory with the mail_addr_find driver}"
CONF=$(mktemp -d)
: > "$CONF/main.cf"
sed "s|@DIR@|$HERE|g" "$HERE/mail_addr_find.in" |
    MAIL_CONFIG=$CONF "$DRIVERS/mail_addr_find" 2>"$CONF/err" |
    sed -e "s|$HERE|@DIR@|g" > "$HERE/mail_addr_find.ref"
grep -v ': warning: expected no result but got' "$CONF/err" |
    sed -e "s|$HERE|@DIR@|g" -e 's|^[^ ]*: warning: |warning: |' \
        -e "s|$DRIVERS/mail_addr_find|mail_addr_find|g" > "$HERE/mail_addr_find.err"
rm -rf "$CONF"
