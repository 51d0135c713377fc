#!/bin/sh
# meterbench sim render --kind neck: rendered necks named by their level, a manifest, faults,
# reproducible from the seed, clear errors.
# usage: sim_render_neck.sh PATH/TO/meterbench
set -u
MB=$1
fails=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
ok() { echo "ok   $1"; }

"$MB" sim render --kind neck --vessel can-20l-ss304-td --count 4 --seed 3 --out "$T/a" >"$T/a.json" \
	&& ok "renders" || fail "exit $?"
grep -q '"kind":"neck","count":4,"vessel":"can-20l-ss304-td"' "$T/a.json" && ok "summary" || fail "summary: $(cat "$T/a.json")"
n=$(ls "$T/a" | grep -c '\.png$')
[ "$n" = 4 ] && ok "4 images" || fail "$n images"
[ "$(wc -l <"$T/a/manifest.jsonl")" = 4 ] && ok "manifest lines" || fail "manifest"
for f in $(ls "$T/a" | grep png); do
	echo "$f" | grep -Eq '^[0-9]+\.[0-9]{3}_[0-9]{6}_can-20l-ss304-td\.png$' && ok "name $f" || fail "name $f"
	lv=${f%%_*}
	grep -q "\"file\":\"$f\",\"level_div\":" "$T/a/manifest.jsonl" && ok "manifest has $f" || fail "manifest lacks $f"
	awk -v l="$lv" 'BEGIN { exit !(l >= 0 && l <= 20) }' && ok "level on the scale" || fail "level $lv"
done
"$MB" sim render --kind neck --vessel can-20l-ss304-td --count 4 --seed 3 --out "$T/b" >/dev/null
for f in $(ls "$T/a"); do cmp -s "$T/a/$f" "$T/b/$f" || fail "seed 3 again differs: $f"; done
ok "same seed, same files"
"$MB" sim render --kind neck --vessel cyl-100ml-a --count 2 --seed 1 --level-div 88.25 --fault glare --out "$T/c" >/dev/null \
	&& ok "fixed level and fault" || fail "fixed level: exit $?"
ls "$T/c" | grep -q '^88\.250_000000_cyl-100ml-a_glare\.png$' && ok "fault in the name" || fail "fault name: $(ls "$T/c")"

# errors: one line, exit 2
expect2() {
	err=$("$MB" "$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc = 2 ] && [ "$(echo "$err" | wc -l)" = 1 ] && echo "$err" | grep -q "^meterbench: sim render: " \
		&& ok "refuses: $*" || fail "rc $rc '$err' for: $*"
}
expect2 sim render --kind neck --out "$T/x"
expect2 sim render --kind neck --vessel nosuch --out "$T/x"
expect2 sim render --kind neck --vessel can-20l-ss304-td --level-div 21 --out "$T/x"
expect2 sim render --kind neck --vessel can-20l-ss304-td --fault smoke --out "$T/x"
expect2 sim render --kind neck --vessel can-20l-ss304-td --out "$T/x" --count 0
[ $fails = 0 ] || { echo "$fails failed"; exit 1; }
