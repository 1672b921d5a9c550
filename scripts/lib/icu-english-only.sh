#!/usr/bin/env bash
# Cuts the ICU data embedded in an official (full-icu) Node binary down to the root and English locales, in
# place: 33 MB of locale data, 36 % of the compressed .deb, for a device agent that formats nothing in other
# languages. Every non-locale item stays (time zones, normalization, collation root, break iterators,
# converters); Intl falls back to English for any other locale, as a Node built with small-icu does.
#
#   scripts/lib/icu-english-only.sh <unstripped node binary> <nm>     (before strip: needs the symbol table)
#
# The reduced package is written over the original at the same address and the rest zero-filled (which
# compresses to nothing); ICU reads its own table of contents and never looks past it.
set -euo pipefail
bin=$1
NM=${2:-nm}
command -v icupkg >/dev/null && command -v genrb >/dev/null || { echo "icu-english-only: icupkg/genrb missing (apt-get install icu-devtools)" >&2; exit 1; }
read -r addr size sym < <("$NM" -S "$bin" | awk '$4 ~ /^icudt[0-9]+_dat$/ {print $1, $2, $4; exit}')
[ -n "${sym:-}" ] || { echo "icu-english-only: no icudt*_dat symbol in $bin" >&2; exit 1; }
addr=$((16#$addr)) size=$((16#$size))
# The file offset of that address: the LOAD segment that holds it.
offset=
while read -r type off va _ fs _; do
  if [ "$type" = LOAD ] && [ "$addr" -ge $((va)) ] && [ "$addr" -lt $((va + fs)) ]; then offset=$((addr - va + off)); break; fi
done < <(readelf -lW "$bin")
[ -n "$offset" ] || { echo "icu-english-only: $sym not in a LOAD segment" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
name=${sym%_dat}l.dat   # icudt78 → icudt78l.dat: icupkg checks that item names start with the package name
dd if="$bin" of="$work/$name" bs=1M skip="$offset" count="$size" iflag=skip_bytes,count_bytes status=none
# Locale bundles are <lang>[_<Script|Region|Variant>...].res in every tree (coll/, curr/, zone/, ...).
icupkg -l "$work/$name" | grep -E '(^|/)[a-z]{2,3}(_[A-Za-z0-9]*)*\.res$' |
  grep -Ev '(^|/)(root|en|en_US|en_US_POSIX|en_001|en_150|res_index)\.res$' >"$work/remove.txt"
mkdir "$work/out" "$work/index"
# Item names start with the package's file name: the output keeps it.
icupkg -r "$work/remove.txt" "$work/$name" "$work/out/$name"
# Each tree's res_index lists its installed locales: rewritten with those left, or Intl would pick a listed
# locale whose bundle is gone (V8 aborts in DateTimePatternGenerator for toLocaleString('de')).
icupkg -l "$work/out/$name" | grep -E '(^|/)res_index\.res$' | while read -r item; do
  tree=$(dirname "$item")
  mkdir -p "$work/index/$tree"
  {
    echo 'res_index:table(nofallback){'
    echo '  InstalledLocales:table{'
    icupkg -l "$work/out/$name" | grep -E "^$( [ "$tree" = . ] || echo "$tree/")en(_[A-Za-z0-9]+)*\.res\$" | sed -E 's|.*/||; s|\.res$||; s|.*|    &{""}|'
    echo '  }'
    echo '}'
  } >"$work/index/$tree/res_index.txt"
  genrb -q -d "$work/index/$tree" "$work/index/$tree/res_index.txt"
  echo "$item" >>"$work/index/list.txt"
done
icupkg -s "$work/index" -a "$work/index/list.txt" "$work/out/$name"
mv "$work/out/$name" "$work/small.dat"
small=$(stat -c %s "$work/small.dat")
[ "$small" -le "$size" ] || { echo "icu-english-only: the reduced package is larger ($small > $size)" >&2; exit 1; }
{ cat "$work/small.dat"; head -c $((size - small)) /dev/zero; } | dd of="$bin" bs=1M seek="$offset" oflag=seek_bytes conv=notrunc status=none
echo "icu-english-only: $sym $size → $small bytes ($(wc -l <"$work/remove.txt") locale bundles removed)"
