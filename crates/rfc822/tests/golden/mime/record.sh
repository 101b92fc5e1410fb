#!/bin/sh
# Re-records the .ref files in this directory with the test driver of Postfix 3.7's MIME
# processor (the -DTEST main() of src/global/mime_state.c).
#
#   record.sh [POSTFIX_SOURCE_DIR]
#
# POSTFIX_SOURCE_DIR is an unpacked Postfix 3.7 source tree (default /tmp/pf37/postfix, the
# postfix/ directory of github.com/vdukhovni/postfix on its 3.7 branch; the .ref files were
# recorded with 3.7.11). It is copied to /tmp/pfbuild-mime and built there without optional
# features (only a C compiler and make are needed); an existing build there is reused.
#
# The driver reads a message on stdin as records of at most REC_LEN bytes (a longer line
# becomes partial 'L' records, a last line without newline too), runs mime_state_update()
# on each, and writes what the call-backs get to stdout: "MAIN|MULT|NEST offset<TAB>|header",
# "HEADER END", "BODY N|L offset<TAB>|text", "BODY END", errors as "mime_state: warning:
# <error text>: <first 100 bytes>", and, as it runs with msg_verbose = 1, the
# "mime_state: PUSH/POP boundary", "header_token:" and "garbage in" lines. At the end it
# logs one warning per error bit that the last update returned.
#
# The stock driver has fixed settings: header_size_limit 2000, mime_nesting_limit 20,
# mime_boundary_length_limit 2000, REC_LEN 1024, and the options REPORT_8BIT_IN_7BIT_BODY,
# REPORT_8BIT_IN_HEADER, REPORT_ENCODING_DOMAIN, REPORT_TRUNC_HEADER, REPORT_NESTING and
# DOWNGRADE. The variants below are the same source with only those settings changed (a sed
# turns them into macros that a per-variant header defines). A case's file name prefix
# selects its driver:
#
#   stock-*    the unmodified driver
#   nocvt-*    stock without DOWNGRADE
#   nomime-*   stock plus DISABLE_MIME
#   small-*    header_size_limit 300, mime_nesting_limit 3, boundary length limit 12
#   quiet-*    the small limits, and no options at all
#   rec40-*    REC_LEN 40 (the driver's own "stress test" setting)
#
# Each variant binary is called mime_state (in its own directory), because the driver logs
# under the name it was run as.
set -eu

src=${1:-/tmp/pf37/postfix}
here=$(cd "$(dirname "$0")" && pwd)
tree=/tmp/pfbuild-mime

if [ ! -f "$tree/src/global/libglobal.a" ] || [ ! -f "$tree/lib/libutil.a" ]; then
    rm -rf "$tree"
    cp -a "$src" "$tree"
    cd "$tree"
    make makefiles CCARGS='-DNO_NIS -DNO_PCRE -DNO_LMDB -DNO_DB -DNO_EAI -DNO_TLS -DNO_SASL' \
        AUXLIBS=''
    make -C src/util update
    make -C src/global update
fi
cd "$tree/src/global"

# The stock driver, with the stock Makefile rule.
make mime_state

# The parameterized copy: exactly five substitutions, each checked.
sed -e 's/^int     var_header_limit = 2000;$/int     var_header_limit = TEST_HEADER_LIMIT;/' \
    -e 's/^int     var_mime_maxdepth = 20;$/int     var_mime_maxdepth = TEST_MAXDEPTH;/' \
    -e 's/^int     var_mime_bound_len = 2000;$/int     var_mime_bound_len = TEST_BOUND_LEN;/' \
    -e 's/^#define REC_LEN	1024$/#define REC_LEN	TEST_REC_LEN/' \
    -e 's/mime_state_alloc(MIME_OPTIONS,$/mime_state_alloc(TEST_OPTIONS,/' \
    mime_state.c >mime_state_var.c
test "$(grep -c 'TEST_HEADER_LIMIT\|TEST_MAXDEPTH\|TEST_BOUND_LEN\|TEST_REC_LEN\|TEST_OPTIONS' \
    mime_state_var.c)" = 5
printf '%s\n' 'include Makefile' \
    'variants/%/mime_state: mime_state_var.c variants/%/variant.h $(LIB) $(LIBS)' \
    '	$(CC) -DTEST $(CFLAGS) -include variants/$*/variant.h -o $@ mime_state_var.c $(LIB) $(LIBS) $(SYSLIBS)' \
    >variant.mk

# variant NAME HEADER_LIMIT MAXDEPTH BOUND_LEN REC_LEN OPTIONS
variant() {
    mkdir -p "variants/$1"
    printf '#define TEST_HEADER_LIMIT %s\n#define TEST_MAXDEPTH %s\n#define TEST_BOUND_LEN %s\n#define TEST_REC_LEN %s\n#define TEST_OPTIONS (%s)\n' \
        "$2" "$3" "$4" "$5" "$6" >"variants/$1/variant.h.new"
    if ! cmp -s "variants/$1/variant.h.new" "variants/$1/variant.h"; then
        mv "variants/$1/variant.h.new" "variants/$1/variant.h"
    else
        rm "variants/$1/variant.h.new"
    fi
    make -f variant.mk "variants/$1/mime_state"
}
variant nocvt 2000 20 2000 1024 'MIME_OPTIONS & ~MIME_OPT_DOWNGRADE'
variant nomime 2000 20 2000 1024 'MIME_OPTIONS | MIME_OPT_DISABLE_MIME'
variant small 300 3 12 1024 MIME_OPTIONS
variant quiet 300 3 12 1024 MIME_OPT_NONE
variant rec40 2000 20 2000 40 MIME_OPTIONS

for in in "$here"/*.in; do
    case $(basename "$in") in
    stock-*) driver=./mime_state ;;
    nocvt-*) driver=variants/nocvt/mime_state ;;
    nomime-*) driver=variants/nomime/mime_state ;;
    small-*) driver=variants/small/mime_state ;;
    quiet-*) driver=variants/quiet/mime_state ;;
    rec40-*) driver=variants/rec40/mime_state ;;
    *) echo "no driver for $in" >&2; exit 1 ;;
    esac
    "$driver" <"$in" >"${in%.in}.ref" 2>&1
    echo "recorded ${in%.in}.ref"
done
