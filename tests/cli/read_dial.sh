#!/bin/sh
# meterbench read dial: arguments, errors, output shape (accuracy: tests/perf/dial_eval.c).
# usage: read_dial.sh PATH/TO/meterbench
set -u
MB=$1
fails=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
ok() { echo "ok   $1"; }
expect_exit() {   # NAME CODE STDERR-SUBSTRING -- args...
	name=$1 code=$2 want=$3; shift 4
	err=$("$MB" "$@" 2>&1 >/dev/null); rc=$?
	[ "$rc" = "$code" ] && ok "$name: exit" || fail "$name: exit $rc, expected $code"
	case "$err" in "meterbench: "*"$want"*) ok "$name: message";; *) fail "$name: message '$err' lacks '$want'";; esac
	[ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && ok "$name: one line" || fail "$name: one line"
}
"$MB" sim render --kind dial --count 2 --seed 5 --nuisance 0.3 --out "$T" >/dev/null || fail "render"
set -- "$T"/*.jpg
expect_exit "no meter" 2 "read dial: missing --meter TYPE" -- read dial "$1"
expect_exit "unknown meter" 2 "read dial: --meter: no types named 'nope'" -- read dial --meter nope "$1"
expect_exit "no file" 2 "read dial: no image file given" -- read dial --meter dn15-r160-c2
printf 'not an image' > "$T/x.jpg"
out=$("$MB" read dial --meter dn15-r160-c2 "$T/x.jpg" "$1" 2>/dev/null); rc=$?
first=$(printf '%s\n' "$out" | head -1)
case "$first" in '{"file":"'"$T"'/x.jpg","error":"cannot decode image"'*) ok "undecodable file";; *) fail "undecodable file: $first";; esac
[ "$rc" = 1 ] && ok "undecodable: exit 1" || fail "undecodable: exit $rc"
if [ -f vision/models/needle.onnx ] || [ -n "${MTB_MODEL_DIR:-}" ]; then
	second=$(printf '%s\n' "$out" | sed -n 2p)
	case "$second" in '{"file":"'"$1"'","volume_l":'*'"resolution_l":0.00001'*'"digits":['*'],"pointers":['*']}') ok "dial line";;
		*) fail "dial line: $second";; esac
	combined=$("$MB" read dial --meter dn15-r160-c2 --combine "$@")
	case "$combined" in '{"files":["'*'"],"volume_l":'*) ok "combine";; *) fail "combine: $combined";; esac
else
	echo "skip reading: no pointer model in vision/models"
fi
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
