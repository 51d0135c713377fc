#!/bin/sh
# meterbench sim render: labelled files, reproducible from the seed, clear errors.
# usage: sim_render.sh PATH/TO/meterbench
set -u
MB=$1
fails=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
ok() { echo "ok   $1"; }

for kind in digit needle dial; do
	"$MB" sim render --kind $kind --count 5 --seed 7 --out "$T/$kind" >/dev/null || fail "$kind: exit $?"
	n=$(ls "$T/$kind" | wc -l)
	[ "$n" = 5 ] && ok "$kind: 5 files" || fail "$kind: $n files"
done
# Crop labels: X.Y_ with the exact drawn position after _p, within 0.05 of the label on the circle.
for f in $(ls "$T/digit" "$T/needle" | grep jpg); do
	label=${f%%_*}
	p=$(echo "$f" | sed 's/.*_p\([0-9.]*\)\.jpg/\1/')
	awk -v l="$label" -v p="$p" 'BEGIN { d = l - p; if (d < 0) d = -d; if (d > 5) d = 10 - d; exit !(d <= 0.0301 && l ~ /^[0-9]\.[0-9]$/) }' \
		&& ok "label $f" || fail "label $f"
done
# Dial labels: litres with six decimals.
for f in $(ls "$T/dial"); do
	echo "$f" | grep -Eq '^[0-9]+\.[0-9]{6}_[0-9]{6}_roller8-pointer4_(classic|cream|blue|grey)\.jpg$' \
		&& ok "dial name $f" || fail "dial name $f"
done
# Same seed, same files; another seed, other files.
"$MB" sim render --kind digit --count 5 --seed 7 --out "$T/again" --format png >/dev/null
"$MB" sim render --kind digit --count 5 --seed 7 --out "$T/again2" --format png >/dev/null
"$MB" sim render --kind digit --count 5 --seed 8 --out "$T/other" --format png >/dev/null
if diff -r "$T/again" "$T/again2" >/dev/null; then ok "reproducible"; else fail "reproducible"; fi
if [ "$(ls "$T/again")" != "$(ls "$T/other")" ]; then ok "seed matters"; else fail "seed matters"; fi
# A fixed volume.
"$MB" sim render --kind dial --count 1 --volume-l 9999.9999 --out "$T/fixed" --style blue >/dev/null
ls "$T/fixed" | grep -q '^9999.999900_000000_roller8-pointer4_blue.jpg$' && ok "fixed volume" || fail "fixed volume: $(ls "$T/fixed")"

# expect_exit NAME CODE STDERR-SUBSTRING -- args...
expect_exit() {
	name=$1 code=$2 want=$3; shift 4
	err=$("$MB" "$@" 2>&1 >/dev/null); rc=$?
	[ "$rc" = "$code" ] && ok "$name: exit" || fail "$name: exit $rc, expected $code"
	case "$err" in "meterbench: "*"$want"*) ok "$name: message";; *) fail "$name: message '$err' lacks '$want'";; esac
	[ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && ok "$name: one line" || fail "$name: one line"
}
expect_exit "no kind" 2 "missing --kind" -- sim render --out "$T/x"
expect_exit "bad kind" 2 "--kind: must be digit, needle, dial or neck" -- sim render --kind roller --out "$T/x"
expect_exit "bad style" 2 "--style: unknown style 'plaid'" -- sim render --kind dial --style plaid --out "$T/x"
expect_exit "bad count" 2 "--count" -- sim render --kind dial --count 0 --out "$T/x"
expect_exit "bad layout" 2 "no layouts named 'nope'" -- sim render --kind dial --layout nope --out "$T/x"
expect_exit "bad size" 2 "--size" -- sim render --kind dial --size 10by10 --out "$T/x"
expect_exit "volume on crops" 2 "--volume-l: only with --kind dial" -- sim render --kind digit --volume-l 3 --out "$T/x"
touch "$T/file"
expect_exit "out is a file" 1 "cannot create directory" -- sim render --kind dial --out "$T/file"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
