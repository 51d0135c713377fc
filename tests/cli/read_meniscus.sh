#!/bin/sh
# meterbench read meniscus: rendered necks read back, one JSON line per file in input order,
# refusals with a reason, an undecodable file reported and the rest still read.
# usage: read_meniscus.sh PATH/TO/meterbench
set -u
MB=$1
fails=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
ok() { echo "ok   $1"; }

"$MB" sim render --kind neck --vessel can-20l-ss304-td --count 3 --seed 11 --nuisance 0.3 --out "$T/n" >/dev/null || fail "render"
"$MB" sim render --kind neck --vessel can-20l-ss304-td --count 1 --seed 12 --fault glare --out "$T/g" >/dev/null || fail "render glare"
printf 'not an image' >"$T/x.png"
files=$(ls "$T/n"/*.png | sort)
"$MB" read meniscus --vessel can-20l-ss304-td $files "$T/x.png" "$T"/g/*.png >"$T/out.jsonl"
rc=$?
[ $rc = 1 ] && ok "exit 1 with an undecodable file" || fail "exit $rc"
[ "$(wc -l <"$T/out.jsonl")" = 5 ] && ok "5 lines" || fail "$(cat "$T/out.jsonl")"
i=0
for f in $files; do
	i=$((i + 1))
	line=$(sed -n "${i}p" "$T/out.jsonl")
	echo "$line" | grep -q "^{\"file\":\"$f\",\"level_div\":[0-9.]*,\"volume_l\":[0-9.]*,\"confidence\":[0-9.]*}$" \
		&& ok "line $i" || fail "line $i: $line"
	truth=$(basename "$f" | cut -d_ -f1)
	got=$(echo "$line" | sed 's/.*"level_div":\([0-9.]*\).*/\1/')
	awk -v t="$truth" -v g="$got" 'BEGIN { d = t - g; if (d < 0) d = -d; exit !(d <= 0.1) }' \
		&& ok "level $got for $truth" || fail "level $got for $truth"
	vol=$(echo "$line" | sed 's/.*"volume_l":\([0-9.]*\).*/\1/')
	awk -v g="$got" -v v="$vol" 'BEGIN { d = 19.9 + g * 0.01 - v; if (d < 0) d = -d; exit !(d < 1e-6) }' \
		&& ok "volume $vol" || fail "volume $vol for level $got"
done
sed -n 4p "$T/out.jsonl" | grep -q '"error":"cannot decode image"' && ok "undecodable" || fail "$(sed -n 4p "$T/out.jsonl")"
sed -n 5p "$T/out.jsonl" | grep -q '"level_div":null,"volume_l":null,"confidence":[0-9.]*,"reason":"glare' \
	&& ok "glare refused" || fail "$(sed -n 5p "$T/out.jsonl")"

expect2() {
	err=$("$MB" "$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc = 2 ] && [ "$(echo "$err" | wc -l)" = 1 ] && echo "$err" | grep -q "^meterbench: read meniscus: " \
		&& ok "refuses: $*" || fail "rc $rc '$err' for: $*"
}
expect2 read meniscus "$T/x.png"
expect2 read meniscus --vessel nosuch "$T/x.png"
expect2 read meniscus --vessel can-20l-ss304-td
expect2 read meniscus --vessel can-20l-ss304-td --expected-div 30 "$T/x.png"
[ $fails = 0 ] || { echo "$fails failed"; exit 1; }
