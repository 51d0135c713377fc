#!/bin/sh
# meterbench sim can: a simulated can with an injected error verified end to end (procedure,
# balance, rendered neck read by the meniscus reader); the measured error within U of the truth.
# usage: sim_can.sh PATH/TO/meterbench
set -u
MB=$1
fails=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
ok() { echo "ok   $1"; }

check() {   # vessel error-ml expected-verdict
	out=$("$MB" sim can --vessel "$1" --error-ml "$2" --seed 5 --out "$T/$1")
	rc=$?
	[ $rc = 0 ] && ok "$1 $2: exit 0" || fail "$1 $2: exit $rc"
	echo "$out" | grep -q '"state":"done"' && ok "$1 $2: done" || fail "$1 $2: $out"
	echo "$out" | grep -q '"injected_within_u":true' && ok "$1 $2: within U" || fail "$1 $2: not within U: $out"
	echo "$out" | grep -q "\"verdict\":\"$3\"" && ok "$1 $2: $3" || fail "$1 $2: verdict: $out"
	echo "$out" | grep -q '"valves_closed":true' && ok "$1 $2: valves closed" || fail "$1 $2: valves"
	[ "$(ls "$T/$1" | grep -c 'neck-.*\.png')" -ge 3 ] && ok "$1: evidence images" || fail "$1: no evidence images"
	grep -q "\"verdict\":\"$3\"" "$T/$1/results.json" && ok "$1: results.json" || fail "$1: results.json"
	# each run's meniscus frame by its SHA-256: the hashes name images that are kept
	for h in $(grep -o '"image_sha256":"[0-9a-f]*"' "$T/$1/results.json" | cut -d'"' -f4); do
		sha256sum "$T/$1"/neck-*.png | grep -q "^$h " && ok "$1: evidence $h" || fail "$1: no image has hash $h"
	done
	[ "$(grep -o '"image_sha256"' "$T/$1/results.json" | wc -l)" = 3 ] && ok "$1: 3 hashes" || fail "$1: hashes"
	pdftotext "$T/$1/certificate.pdf" - >"$T/cert.txt" 2>/dev/null && ok "$1: certificate" || fail "$1: no certificate"
	grep -q "量桶檢定報告" "$T/cert.txt" && grep -q "Measuring-can verification certificate" "$T/cert.txt" \
		&& ok "$1: certificate in zh-TW and English" || fail "$1: certificate text"
	case $3 in pass) w="合格" ;; fail) w="不合格" ;; *) w="無效" ;; esac
	grep -q "判定 Verdict: $w $3" "$T/cert.txt" && ok "$1: certificate verdict" || fail "$1: verdict not on the certificate"
}
check can-20l-ss304-td 4.2 pass
check can-20l-ss304-td -12 fail
check cyl-100ml-a 0.3 pass

expect2() {
	err=$("$MB" "$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc = 2 ] && [ "$(echo "$err" | wc -l)" = 1 ] && echo "$err" | grep -q "^meterbench: sim can: " \
		&& ok "refuses: $*" || fail "rc $rc '$err' for: $*"
}
expect2 sim can
expect2 sim can --vessel nosuch
expect2 sim can --vessel can-20l-ss304-td --error-ml 60
expect2 sim can --vessel can-20l-ss304-td --runs 0
expect2 sim can --vessel can-20l-ss304-td --water-c 50
[ $fails = 0 ] || { echo "$fails failed"; exit 1; }
