#!/bin/bash
#
# record.sh - record golden postconf(1) test cases from the REAL Postfix.
#
# Usage: record.sh [CASE...]
#
#   With no arguments, every case directory (a subdirectory of this
#   directory that contains an "args" file) is recorded.
#
# Requirements: Debian's "postfix" package (Postfix 3.7) must be installed,
# providing /usr/sbin/postconf.  The goldens were recorded with
# Postfix 3.7.11 (Debian 3.7.11-0+deb12u1).  Postfix never touches a system
# instance here: postconf is always run with "-c CONF" on a scratch copy.
#
# Case directory format (CASE = a directory next to this script):
#
#   args          required, ONE line: the postconf arguments (after
#                 "-c CONF").  Split like a shell would (eval "set -- ..."),
#                 so single/double quotes work, e.g.  -e 'a = b c'
#   main.cf       optional input; if absent an EMPTY main.cf is used
#                 (postconf dies without one).
#   master.cf     optional input; if absent, no master.cf exists in CONF.
#   stdin         optional; fed to postconf on standard input
#                 (otherwise /dev/null).
#
# Recorded outputs (written by this script, overwritten every run):
#
#   stdout        standard output of postconf
#   stderr        standard error of postconf
#   status        exit status, one line (e.g. "0" or "1")
#   main.cf.after   only if the run changed main.cf: its content afterwards
#   master.cf.after only if the run changed (or created) master.cf
#   (stale *.after files are removed when the run changed nothing)
#
#   In stdout and stderr, every occurrence of the scratch directory path
#   CONF is replaced by the literal text "$CONFIG".
#
# Invocation details (an implementation under test must match these):
#
#   env -i PATH=/usr/sbin:/usr/bin:/bin LANG=C postconf -c CONF ARGS...
#
#   The program is found via PATH (/usr/sbin/postconf), so argv[0] is the
#   plain word "postconf".  Postfix prefixes diagnostics with argv[0]
#   verbatim, so stderr lines look like "postconf: warning: ..." and
#   "postconf: fatal: ...".  The environment is empty apart from PATH and
#   LANG (no MAIL_CONFIG, no TZ).  The working directory is CONF.
#   main.cf and master.cf are backdated (mtime 2000-01-01) before the run:
#   Postfix re-reads a "hot" main.cf (modified within the last second or
#   so) until it cools down, repeating its warnings a timing-dependent
#   number of times.
#
# Determinism: Postfix 3.7 seeds its hash tables from /dev/urandom, so the
# order of anything it emits by walking a hash table is random per run:
# "unused parameter" warnings, and the order in which "postconf -e" appends
# several NEW names at the end of main.cf.  The cases are therefore built so
# that each has at most one such item; re-running record.sh must leave every
# output unchanged (check with "git diff" after a run).
#
# Postfix's msg_fatal() sleeps one second before exiting, so each case that
# ends in "fatal:" takes about a second to record.
#
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
POSTCONF=/usr/sbin/postconf

if [ ! -x "$POSTCONF" ]; then
    echo "record.sh: $POSTCONF not found; install Debian's postfix package" >&2
    exit 2
fi

if [ $# -eq 0 ]; then
    set --
    for d in "$HERE"/*/; do
        [ -f "$d/args" ] && set -- "$@" "$(basename "$d")"
    done
fi

fail=0
for case in "$@"; do
    case=${case%/}
    case=${case##*/}
    dir=$HERE/$case
    if [ ! -f "$dir/args" ]; then
        echo "record.sh: $case: no args file" >&2
        fail=1
        continue
    fi

    CONF=$(mktemp -d "${TMPDIR:-/tmp}/pcgold.XXXXXXXX") || exit 2
    if [ -f "$dir/main.cf" ]; then
        cp "$dir/main.cf" "$CONF/main.cf"
    else
        : > "$CONF/main.cf"
    fi
    if [ -f "$dir/master.cf" ]; then
        cp "$dir/master.cf" "$CONF/master.cf"
    fi
    # Backdate the inputs: Postfix re-reads a "hot" main.cf (mtime within
    # the last second or so) every 0.3s until it cools down, which repeats
    # its warnings a timing-dependent number of times.
    touch -d @946684800 "$CONF/main.cf"
    [ -f "$CONF/master.cf" ] && touch -d @946684800 "$CONF/master.cf"
    cp "$CONF/main.cf" "$CONF/.main.cf.before"
    [ -f "$CONF/master.cf" ] && cp "$CONF/master.cf" "$CONF/.master.cf.before"

    stdin=/dev/null
    [ -f "$dir/stdin" ] && stdin=$dir/stdin

    line=$(head -n 1 "$dir/args")
    eval "set -- $line"

    ( cd "$CONF" && exec env -i PATH=/usr/sbin:/usr/bin:/bin LANG=C \
        postconf -c "$CONF" "$@" ) \
        < "$stdin" > "$CONF/.stdout" 2> "$CONF/.stderr"
    status=$?

    sed "s|$CONF|\$CONFIG|g" "$CONF/.stdout" > "$dir/stdout"
    sed "s|$CONF|\$CONFIG|g" "$CONF/.stderr" > "$dir/stderr"
    echo "$status" > "$dir/status"

    if cmp -s "$CONF/main.cf" "$CONF/.main.cf.before"; then
        rm -f "$dir/main.cf.after"
    else
        cp "$CONF/main.cf" "$dir/main.cf.after"
    fi
    if [ -f "$CONF/master.cf" ] && ! { [ -f "$CONF/.master.cf.before" ] &&
            cmp -s "$CONF/master.cf" "$CONF/.master.cf.before"; }; then
        cp "$CONF/master.cf" "$dir/master.cf.after"
    else
        rm -f "$dir/master.cf.after"
    fi

    rm -rf "$CONF"
    echo "$case: status $status"
done
exit $fail
