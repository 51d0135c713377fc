#!/bin/sh
# meterbench run / report: bad input is refused before anything moves, with one error line.
# usage: run_errors.sh PATH/TO/meterbench
set -u
MB=$(realpath "$1")
cd "$(dirname "$0")/../.."
fails=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
expect() {   # expect NAME CODE MESSAGE-PART -- args...
	name=$1 code=$2 want=$3; shift 4
	err=$("$MB" "$@" 2>&1 >/dev/null); rc=$?
	if [ "$rc" != "$code" ]; then echo "FAIL $name: exit $rc, expected $code ($err)"; fails=$((fails + 1)); return; fi
	case "$err" in *"$want"*) echo "ok   $name";; *) echo "FAIL $name: '$err' lacks '$want'"; fails=$((fails + 1));; esac
	[ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || { echo "FAIL $name: not one line"; fails=$((fails + 1)); }
}
expect "missing plan" 2 "run: missing --plan" -- run --bench sim --out "$tmp/o"
expect "unknown plan" 2 "--plan: no plans named 'nope'" -- run --plan nope --bench sim --out "$tmp/o"
printf 'name: p\nmeter_type: dn15-r160-c2\nstandard: r49-2013\nmode: verification\nmeters:\n  - { position: 1, serial: A }\nstart: sideways\n' > "$tmp/p.yaml"
expect "malformed plan" 2 "line 7: field 'start': must be flying or standing" -- run --plan "$tmp/p.yaml" --bench sim --out "$tmp/o"
printf 'name: b\nbuses: []\n' > "$tmp/b.yaml"
expect "malformed bench" 2 "--bench: $tmp/b.yaml" -- run --plan demo --bench "$tmp/b.yaml" --out "$tmp/o"
expect "bad reading" 2 "--reading: must be camera or manual" -- run --plan demo --bench sim --out "$tmp/o" --reading eyes
expect "bad max-viewers" 2 "--max-viewers: a whole number from 1 to 1000, got '0'" -- run --plan demo --bench sim --out "$tmp/o" --max-viewers 0
expect "bad pace" 2 "--pace: must be above 0, got '0'" -- run --plan demo --bench sim --out "$tmp/o" --pace 0
# the simulated bench without its lockstep clock (the lines from "- name: clock" to "- name: pump")
sed '/- name: clock/,/- name: pump/{/- name: pump/!d}' configs/benches/sim.yaml > "$tmp/free.yaml"
expect "pace without lockstep" 2 "--pace: only on a simulated bench in lockstep ($tmp/free.yaml has no sim-clock device)" -- run --plan demo --bench "$tmp/free.yaml" --out "$tmp/o" --pace 10

# An expired certificate stops the run before any valve moves.
mkdir -p "$tmp/cfg/references"
sed 's/valid_until: .*/valid_until: 2025-05-01/; s/issued: .*/issued: 2024-05-01/' configs/references/sim-ref-em-dn25.yaml > "$tmp/cfg/references/sim-ref-em-dn25.yaml"
err=$(MTB_CONFIG_DIR="$tmp/cfg" "$MB" run --plan demo --bench sim --out "$tmp/o" 2>&1 >/dev/null); rc=$?
case "$rc:$err" in 2:*"refused: certificate CAL-2026-0412 of reference sim-ref-em-dn25 expired on 2025-05-01"*) echo "ok   expired certificate";;
	*) echo "FAIL expired certificate: $rc $err"; fails=$((fails + 1));; esac
[ ! -e "$tmp/o/records.sqlite" ] || { echo "FAIL expired certificate: a session was recorded"; fails=$((fails + 1)); }

expect "report without db" 2 "report: --db: cannot read" -- report --db "$tmp/none.sqlite" --out "$tmp/r"
printf 'junk' > "$tmp/junk.sqlite"
expect "report on junk" 2 "file is not a database" -- report --db "$tmp/junk.sqlite" --out "$tmp/r"
expect "audit on junk" 2 "file is not a database" -- audit verify --db "$tmp/junk.sqlite"
[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
