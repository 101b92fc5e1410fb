#!/bin/sh
# record.sh -- record golden outputs of the REAL Postfix postmap(1).
#
# Usage: record.sh [CASE...]        (default: every case directory here)
#
# Each case is a directory next to this script. Files in it:
#   args      (required) postmap arguments, split like a shell would:
#             eval "set -- $(cat args)". Tables are named by RELATIVE
#             paths (e.g. -q foo texthash:table), so outputs never mention
#             the temp directory.
#   program   (optional) command to run instead of "postmap", e.g.
#             "postalias". It is always run as: PROGRAM -c $DIR ARGS
#   stdin     (optional) standard input; /dev/null when absent.
#   setup     (optional) sh commands run in $DIR before the main command
#             (e.g. "postmap lmdb:table" to build a database), with the
#             same clean environment plus MAIL_CONFIG=$DIR (so a plain
#             "postmap" there uses $DIR/main.cf); its output is discarded,
#             but a non-zero exit aborts the case.
#   main.cf   (optional) configuration; an empty main.cf is created if absent.
#   anything else: input files (table sources) copied into $DIR.
# Recorded outputs (written by this script, never copied into $DIR):
#   stdout    standard output (temp dir path replaced by $DIR, as below).
#   stderr    standard error; the temp directory path is replaced by the
#             literal string $DIR.
#   status    exit status as a decimal number and a newline.
#   *.after   reserved (never copied into $DIR).
#
# Procedure per case: fresh temp dir $DIR=/tmp/pmrec-XXXXXX; copy inputs;
# create main.cf; backdate every file to 2000-01-01 (Postfix treats
# recently modified files specially); run setup (files it creates or
# modifies are then backdated to 2000-01-02, i.e. newer than their
# sources, unless setup itself set an older time); then
#   cd $DIR && env -i PATH=/usr/sbin:/usr/bin:/bin LANG=C \
#       postmap -c $DIR ARGS < stdin-or-/dev/null
# Recorded with Debian's Postfix 3.7 (postfix, postfix-lmdb, postfix-cdb,
# postfix-pcre packages).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CLEANENV="env -i PATH=/usr/sbin:/usr/bin:/bin LANG=C"

if [ $# -eq 0 ]; then
    set --
    for d in "$HERE"/*/; do
        [ -f "$d/args" ] && set -- "$@" "$(basename "$d")"
    done
fi

run_case() {
    c=${1%/}
    C="$HERE/$c"
    if [ ! -f "$C/args" ]; then
        echo "record.sh: $c: no args file" >&2; return 1
    fi
    T=$(mktemp -d /tmp/pmrec-XXXXXX) || exit 1
    for f in "$C"/* "$C"/.[!.]*; do
        [ -f "$f" ] || continue
        b=$(basename "$f")
        case $b in
            args|program|stdin|setup|stdout|stderr|status|*.after) continue ;;
        esac
        cp "$f" "$T/$b"
    done
    [ -f "$T/main.cf" ] || : > "$T/main.cf"
    find "$T" -mindepth 1 -exec touch -h -d 2000-01-01 {} +
    if [ -f "$C/setup" ]; then
        S=$(mktemp /tmp/pmrec-XXXXXX) || exit 1   # timestamp reference
        E=$(mktemp /tmp/pmrec-XXXXXX) || exit 1   # setup's stderr
        if ! (cd "$T" && $CLEANENV MAIL_CONFIG="$T" sh "$C/setup") >/dev/null 2>"$E"; then
            echo "record.sh: $c: setup failed:" >&2; cat "$E" >&2
            rm -rf "$T" "$S" "$E"; return 1
        fi
        rm -f "$E"
        # Backdate what setup created or rewrote (not files it backdated
        # itself, e.g. "touch -d 2001-01-01 table" to make a source newer).
        find "$T" -mindepth 1 -newer "$S" -exec touch -h -d 2000-01-02 {} +
        rm -f "$S"
    fi
    prog=postmap
    [ -f "$C/program" ] && prog=$(cat "$C/program")
    stdin=/dev/null
    [ -f "$C/stdin" ] && stdin="$C/stdin"
    eval "set -- $(cat "$C/args")"
    (cd "$T" && $CLEANENV "$prog" -c "$T" "$@") <"$stdin" \
        >"$C/stdout.tmp" 2>"$C/stderr.tmp"
    echo $? >"$C/status"
    # Replace the temp dir path by the literal $DIR (T has no regex chars).
    sed "s|$T|\$DIR|g" "$C/stdout.tmp" >"$C/stdout"
    sed "s|$T|\$DIR|g" "$C/stderr.tmp" >"$C/stderr"
    rm -f "$C/stdout.tmp" "$C/stderr.tmp"
    rm -rf "$T"
}

fail=0
for c in "$@"; do
    run_case "$c" || fail=1
done
exit $fail
