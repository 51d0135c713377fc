#!/bin/sh
# meterbench verdict / help / --version as CONTRACTS.md states them.
# usage: verdict.sh PATH/TO/meterbench
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
# expect_exit NAME CODE STDERR-SUBSTRING -- args...
expect_exit() {
	name=$1 code=$2 want=$3; shift 4
	err=$("$MB" "$@" 2>&1 >/dev/null); rc=$?
	check "$name: exit" "$code" "$rc"
	case "$err" in *"$want"*) echo "ok   $name: message";; *) echo "FAIL $name: message '$err' lacks '$want'"; fails=$((fails + 1));; esac
	lines=$(printf '%s\n' "$err" | wc -l)
	check "$name: one line" 1 "$lines"
	case "$err" in "meterbench: "*) ;; *) echo "FAIL $name: no 'meterbench: ' prefix"; fails=$((fails + 1));; esac
}

out=$("$MB" verdict --standard r49-2013 --class 2 --q3-m3h 2.5 --ratio 160 --flow-lph 20 --indicated-l 10.30 --actual-l 10.00)
check "contract example" \
  '{"zone":"lower","q1_lph":15.625,"q2_lph":25.0,"q4_lph":3125.0,"error_pct":3.0,"mpe_pct":5.0,"verdict":"pass","standard":"OIML R49:2013","mode":"verification"}' "$out"

out=$("$MB" verdict --standard r49-2024 --class 2 --q3-m3h 2.5 --ratio 160 --flow-lph 25 --indicated-l 10.21 --actual-l 10.00 --u-exp-pct 0.3)
check "upper zone fail" \
  '{"zone":"upper","q1_lph":15.625,"q2_lph":25.0,"q4_lph":3125.0,"error_pct":2.1,"mpe_pct":2.0,"verdict":"fail","standard":"OIML R49:2024","mode":"verification","u_exp_pct":0.3}' "$out"

out=$("$MB" verdict --standard r49-2013 --meter dn15-r160-c2 --flow-lph 2500 --indicated-l 100 --actual-l 100 --u-exp-pct 0.7)
check "invalid" invalid "$(printf '%s' "$out" | sed 's/.*"verdict":"\([^"]*\)".*/\1/')"

out=$("$MB" verdict --standard r49-2013 --class 2 --q3-m3h 2.5 --ratio 160 --flow-lph 10 --indicated-l 1 --actual-l 1)
check "out of range" '{"zone":null,"q1_lph":15.625,"q2_lph":25.0,"q4_lph":3125.0,"error_pct":0.0,"mpe_pct":null,"verdict":"out-of-range","standard":"OIML R49:2013","mode":"verification"}' "$out"

out=$("$MB" verdict --standard r49-2013 --class 2 --q3-m3h 2.5 --ratio 160 --flow-lph 16 --indicated-l 9.3 --actual-l 10 --mode in-service)
check "in-service doubling" '{"zone":"lower","q1_lph":15.625,"q2_lph":25.0,"q4_lph":3125.0,"error_pct":-7.0,"mpe_pct":10.0,"verdict":"pass","standard":"OIML R49:2013","mode":"in-service"}' "$out"

out=$("$MB" verdict --standard=r49-2013 --class=1 --q3-m3h=16 --ratio=80 --flow-lph=2000 --indicated-l=10.15 --actual-l=10 --water-temp-c=50)
check "class 1 hot water" '"mpe_pct":2.0,"verdict":"pass"' "$(printf '%s' "$out" | grep -o '"mpe_pct":[^,]*,"verdict":"[a-z]*"')"

expect_exit "missing option" 2 "missing --flow-lph" -- verdict --standard r49-2013 --class 2 --q3-m3h 2.5 --ratio 160 --indicated-l 1 --actual-l 1
expect_exit "bad standard" 2 "--standard: unknown rule set 'r49-1999'" -- verdict --standard r49-1999 --class 2 --q3-m3h 2.5 --ratio 160 --flow-lph 20 --indicated-l 1 --actual-l 1
expect_exit "bad class" 2 "--class: must be 1 or 2" -- verdict --standard r49-2013 --class 3 --q3-m3h 2.5 --ratio 160 --flow-lph 20 --indicated-l 1 --actual-l 1
expect_exit "bad number" 2 "--indicated-l: not a decimal number: '1,5'" -- verdict --standard r49-2013 --class 2 --q3-m3h 2.5 --ratio 160 --flow-lph 20 --indicated-l 1,5 --actual-l 1
expect_exit "zero actual" 2 "--actual-l: must be > 0" -- verdict --standard r49-2013 --class 2 --q3-m3h 2.5 --ratio 160 --flow-lph 20 --indicated-l 1 --actual-l 0
expect_exit "negative q3" 2 "--q3-m3h: must be > 0" -- verdict --standard r49-2013 --class 2 --q3-m3h -2.5 --ratio 160 --flow-lph 20 --indicated-l 1 --actual-l 1
expect_exit "unknown option" 2 "unknown option '--colour'" -- verdict --colour red
expect_exit "repeated option" 2 "given twice" -- verdict --standard r49-2013 --standard r49-2024
expect_exit "no value" 2 "needs a value" -- verdict --standard
expect_exit "unknown meter" 2 "no types named 'dn99'" -- verdict --standard r49-2013 --meter dn99 --flow-lph 20 --indicated-l 1 --actual-l 1
expect_exit "meter and class" 2 "--class cannot be combined with --meter" -- verdict --standard r49-2013 --meter dn15-r160-c2 --class 2 --flow-lph 20 --indicated-l 1 --actual-l 1
expect_exit "above MAT" 2 "above the type's maximum admissible temperature of 30 C" -- verdict --standard r49-2013 --meter dn15-r160-c2 --flow-lph 20 --indicated-l 1 --actual-l 1 --water-temp-c 45
expect_exit "bad mode" 2 "--mode: must be verification or in-service" -- verdict --standard r49-2013 --class 2 --q3-m3h 2.5 --ratio 160 --flow-lph 20 --indicated-l 1 --actual-l 1 --mode dispute
expect_exit "unknown command" 2 "unknown command 'frobnicate'" -- frobnicate
expect_exit "help unknown" 2 "help: unknown command 'nope'" -- help nope

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'name: t\ndn: 15\nq3_m3h: 2.5\nratio: abc\naccuracy_class: 2\nscale_interval_l: 0.05\nregister_layout: x\n' > "$tmp/t.yaml"
expect_exit "bad type file" 2 "$tmp/t.yaml: line 4: field 'ratio': not a number: 'abc'" -- verdict --standard r49-2013 --meter "$tmp/t.yaml" --flow-lph 20 --indicated-l 1 --actual-l 1

v=$("$MB" --version); case "$v" in "meterbench "[0-9]*) echo "ok   --version";; *) echo "FAIL --version: $v"; fails=$((fails + 1));; esac
"$MB" help | grep -q "verdict" && echo "ok   help lists verdict" || { echo "FAIL help"; fails=$((fails + 1)); }
"$MB" help verdict | grep -q -- "--u-exp-pct" && echo "ok   help verdict" || { echo "FAIL help verdict"; fails=$((fails + 1)); }
"$MB" >/dev/null 2>&1; check "no command exits 2" 2 $?

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
