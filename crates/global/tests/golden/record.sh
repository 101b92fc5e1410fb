#!/bin/sh
# record.sh -- record match_list.ref with Postfix 3.7's own list drivers.
#
# Build the drivers from the Postfix 3.7 source (once):
#   make -C POSTFIX/src/global namadr_list domain_list   (after `make makefiles` and building
#   src/util and src/global, e.g. with CCARGS='-DNO_NIS -DNO_PCRE -DNO_LMDB -DNO_DB -DNO_EAI')
# then: DRIVERS=POSTFIX/src/global sh record.sh
# Each case line of match_list.in is "kind<TAB>patterns<TAB>host<TAB>address"; @DIR@ is this
# directory. The .ref holds, per case, "> " and the case, the driver's warnings (program
# name removed) and its answer.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
: "${DRIVERS:?set DRIVERS to the directory with the namadr_list and domain_list drivers}"
grep -v '^#' "$HERE/match_list.in" | while IFS='	' read -r kind patterns host addr; do
    patterns=$(printf '%s' "$patterns" | sed "s|@DIR@|$HERE|g")
    printf '> %s\t%s\t%s\t%s\n' "$kind" "$patterns" "$host" "$addr" | sed "s|$HERE|@DIR@|g"
    if [ "$kind" = domain ]; then
        "$DRIVERS/domain_list" "$patterns" "$host" 2>&1
    else
        "$DRIVERS/namadr_list" "$patterns" "$host" "$addr" 2>&1
    fi | sed -e "s|^$DRIVERS/[a-z_]*: ||" -e "s|$HERE|@DIR@|g"
done > "$HERE/match_list.ref"
