#!/bin/sh
# Records what Postfix 3.7's bounce daemon prints for `postconf -b` (templates
# expanded) and `postconf -t` (templates as written), with the built-in templates and
# with the two template files here. Run as root where Debian's postfix is installed.
# The notices in requests/ are recorded by the test that compares them:
#   BOUNCE_RECORD=1 cargo test -p bounce --test requests
set -e
cd "$(dirname "$0")"
conf=$(mktemp -d)
cp main.cf "$conf/main.cf"
echo "queue_directory = $conf" >> "$conf/main.cf"
for mode in b t; do
    MAIL_CONFIG=$conf /usr/sbin/postconf -$mode > $mode.ref
    for file in tmpl tmpl2; do
        MAIL_CONFIG=$conf /usr/sbin/postconf -$mode "$PWD/$file.cf" > $mode-$file.ref 2>/dev/null
    done
done
# With SMTPUTF8 on (compatibility level 3.6), $myhostname and $mydomain are shown in
# lower case and Unicode.
cp main-idna.cf "$conf/main.cf"
echo "queue_directory = $conf" >> "$conf/main.cf"
MAIL_CONFIG=$conf /usr/sbin/postconf -b "$PWD/tmpl-idna.cf" > b-idna.ref 2>/dev/null
rm -rf "$conf"
