#!/bin/sh
# Re-records the .ref files in this directory with Postfix 3.7's own test drivers.
#
#   record.sh [POSTFIX_SOURCE_DIR]
#
# POSTFIX_SOURCE_DIR is an unpacked Postfix 3.7 source tree (default /tmp/pf37/postfix, the
# postfix/ directory of github.com/vdukhovni/postfix on its 3.7 branch; the .ref files were
# recorded with 3.7.11). The tree is copied to /tmp/pfbuild and built there without optional
# features, so only a C compiler and make are needed (Debian: build-essential).
#
# Drivers, each the -DTEST main() of a file in src/global:
#   tok822_parse      reads logical lines (readlline: '#' comments, blank lines dropped,
#                     indented lines continue the previous one) and prints the parse tree,
#                     the internal form and two external forms; it scans at most 20 tokens
#                     per line.                                      -> tok822_parse-*.in
#   tok822_nolimit    the same driver source with its 20-token limit set to 0 (no limit),
#                     for long input and many addresses.            -> tok822_nolimit-*.in
#   quote_822_local   commands "quote ADDR", "quote_with_flags FLAGS ADDR", "unquote ADDR";
#                     "<>" stands for the empty address.           -> quote_822_local*.in
#   quote_821_local   quotes each input line.                        -> quote_821_local*.in
#
# Warnings (stderr) are recorded with stdout, in the order the drivers write them.
set -eu

src=${1:-/tmp/pf37/postfix}
here=$(cd "$(dirname "$0")" && pwd)
build=/tmp/pfbuild

rm -rf "$build"
mkdir -p "$build"
cp -a "$src" "$build/postfix"
cd "$build/postfix"

make makefiles CCARGS='-DNO_NIS -DNO_PCRE -DNO_LMDB -DNO_DB -DNO_EAI -DNO_TLS -DNO_SASL' AUXLIBS=''
make -C src/util update
make -C src/global update
cd src/global
make tok822_parse quote_822_local quote_821_local

sed 's/^#define TEST_TOKEN_LIMIT 20$/#define TEST_TOKEN_LIMIT 0/' tok822_parse.c >tok822_nolimit.c
grep -q '^#define TEST_TOKEN_LIMIT 0$' tok822_nolimit.c
# Built with the stock driver's rule, compiler flags and libraries; the object made from
# tok822_nolimit.c provides every symbol of tok822_parse.o, so that archive member is not
# linked in.
printf '%s\n' 'include Makefile' \
    'tok822_nolimit: tok822_nolimit.c $(LIB) $(LIBS)' \
    '	$(CC) -DTEST $(CFLAGS) -o $@ tok822_nolimit.c $(LIB) $(LIBS) $(SYSLIBS)' >nolimit.mk
make -f nolimit.mk tok822_nolimit

for in in "$here"/*.in; do
    case $(basename "$in") in
    tok822_parse*) driver=./tok822_parse ;;
    tok822_nolimit*) driver=./tok822_nolimit ;;
    quote_822_local*) driver=./quote_822_local ;;
    quote_821_local*) driver=./quote_821_local ;;
    *) echo "no driver for $in" >&2; exit 1 ;;
    esac
    "$driver" <"$in" >"${in%.in}.ref" 2>&1
    echo "recorded ${in%.in}.ref"
done
