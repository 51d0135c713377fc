#!/bin/sh
# meterbench read digit / needle as CONTRACTS.md states them: one JSON line per file in input
# order, refusals as "value":null with a reason, undecodable files as an error line (exit 1).
# usage: read.sh PATH/TO/meterbench
set -u
MB=$1
fails=0
check() {   # check NAME EXPECTED ACTUAL
	if [ "$2" != "$3" ]; then
		echo "FAIL $1"; echo "  expected: $2"; echo "  actual:   $3"; fails=$((fails + 1))
	else
		echo "ok   $1"
	fi
}
has() {     # has NAME HAYSTACK NEEDLE
	case "$2" in *"$3"*) echo "ok   $1";; *) echo "FAIL $1: '$2' lacks '$3'"; fails=$((fails + 1));; esac
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
D=tests/data/digits
N=tests/data/needles
d1=$(ls $D | head -1)
d2=$(ls $D | tail -1)
n1=$(ls $N | head -1)
printf 'not an image\n' > "$tmp/bad.jpg"
: > "$tmp/empty.jpg"
head -c 300 "$D/$d1" > "$tmp/truncated.jpg"
R=tests/data/refuse

out=$("$MB" read digit "$D/$d1" "$tmp/bad.jpg" "$D/$d2" "$tmp/empty.jpg" "$tmp/truncated.jpg"); rc=$?
check "bad file: exit 1" 1 "$rc"
check "one line per file" 5 "$(printf '%s\n' "$out" | wc -l)"
check "input order 1" "{\"file\":\"$D/$d1\"" "$(printf '%s\n' "$out" | sed -n 1p | cut -d, -f1)"
has "undecodable file: error line" "$(printf '%s\n' "$out" | sed -n 2p)" "{\"file\":\"$tmp/bad.jpg\",\"error\":\"cannot decode image\""
check "input order 3" "{\"file\":\"$D/$d2\"" "$(printf '%s\n' "$out" | sed -n 3p | cut -d, -f1)"
has "empty file: error line" "$(printf '%s\n' "$out" | sed -n 4p)" "\"error\":\"cannot decode image\""
has "truncated file: error line" "$(printf '%s\n' "$out" | sed -n 5p)" "\"error\":\"cannot decode image\""
has "reading has a value" "$(printf '%s\n' "$out" | sed -n 1p)" "\"value\":"
has "reading has a confidence" "$(printf '%s\n' "$out" | sed -n 1p)" "\"confidence\":"

out=$("$MB" read digit "$R/blank.png" "$R/noise.png" "$R/one-pixel.png"); rc=$?
check "blank, noise, 1x1: exit 0" 0 "$rc"
check "blank: refused" '{"file":"tests/data/refuse/blank.png","value":null,' "$(printf '%s\n' "$out" | sed -n 1p | cut -d, -f1-2),"
has "blank: reason" "$(printf '%s\n' "$out" | sed -n 1p)" "\"reason\":\"unreadable crop: no contrast"
has "noise: refused" "$(printf '%s\n' "$out" | sed -n 2p)" "\"value\":null"
has "1x1: refused" "$(printf '%s\n' "$out" | sed -n 3p)" "\"reason\":\"unreadable crop: 1x1 pixels is too small"
out=$("$MB" read needle "$R/noise.png"); rc=$?
has "needle noise: refused" "$out" "\"value\":null"

out=$("$MB" read needle "$N/$n1" "$N/$n1"); rc=$?
check "needle: exit 0" 0 "$rc"
check "needle: two lines" 2 "$(printf '%s\n' "$out" | wc -l)"

err=$("$MB" read digit 2>&1 >/dev/null); rc=$?
check "no file: exit 2" 2 "$rc"
has "no file: message" "$err" "meterbench: read digit: no image file given"
err=$("$MB" read banana x.jpg 2>&1 >/dev/null); rc=$?
check "unknown kind: exit 2" 2 "$rc"
has "unknown kind: message" "$err" "meterbench: read: unknown kind 'banana'"
err=$("$MB" read digit --models /nonexistent "$D/$d1" 2>&1 >/dev/null); rc=$?
check "missing models: exit 1" 1 "$rc"
has "missing models: message" "$err" "meterbench: read digit: /nonexistent"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
