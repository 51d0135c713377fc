#!/bin/sh
# meterbench hal probe / set against an independent Modbus server (python3-pymodbus serving the
# simulated bench's map, tests/hal/pymodbus_server.py), and its errors on bad input.
# usage: hal.sh PATH/TO/meterbench
set -u
MB=$1
fails=0
tmp=$(mktemp -d)
py_pid=""
cleanup() { [ -n "$py_pid" ] && kill "$py_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
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
	check "$name: one line" 1 "$(printf '%s\n' "$err" | wc -l)"
}

/usr/bin/python3 tests/hal/pymodbus_server.py 0 >"$tmp/py.out" 2>/dev/null &
py_pid=$!
for _ in $(seq 200); do [ -s "$tmp/py.out" ] && break; sleep 0.05; done
port=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$tmp/py.out")
[ -n "$port" ] || { echo "FAIL pymodbus server did not start"; exit 1; }
sed "s#tcp://127.0.0.1:15020#tcp://127.0.0.1:$port#" configs/benches/sim.yaml >"$tmp/bench.yaml"

out=$("$MB" hal probe --bench "$tmp/bench.yaml" --no-cameras); rc=$?
check "probe: exit" 0 "$rc"
summary=$(printf '%s' "$out" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
pts = {dv["name"] + "." + p["name"]: p for dv in d["devices"] for p in dv["points"]}
bad = [k for k, p in pts.items() if p["status"] != "ok" or p["age_ms"] is None]
print(d["bench"], len(d["devices"]), pts["reference.flow"]["value"], pts["reference.flow"]["unit"],
      pts["clock.time_us"]["value"], pts["t_reference.temperature"]["value"], pts["pump.run"]["value"],
      d["cameras"][0]["status"], "bad:" + ",".join(bad))')
check "probe: snapshot" "sim 9 512.5 L/h 1234567890123 19.87 True skipped bad:" "$summary"

out=$("$MB" hal set --bench "$tmp/bench.yaml" pump.frequency_set 47.5); rc=$?
check "set: exit" 0 "$rc"
check "set: read back" '{"point":"pump.frequency_set","value":47.5,"read_back":47.5}' "$out"
out=$("$MB" hal set --bench "$tmp/bench.yaml" inlet_valve.open_cmd 1)
check "set: coil" '{"point":"inlet_valve.open_cmd","value":1.0,"read_back":true}' "$out"

expect_exit "set: unknown point" 2 "device 'pump' has no point 'speed' (points: run, frequency_set, frequency, fault)" -- \
	hal set --bench "$tmp/bench.yaml" pump.speed 1
expect_exit "set: read-only" 2 "reference.flow is read-only (access: r)" -- hal set --bench "$tmp/bench.yaml" reference.flow 1
expect_exit "set: out of range" 2 "pump.frequency_set: 700 does not fit uint16 with scale 0.01" -- \
	hal set --bench "$tmp/bench.yaml" pump.frequency_set 700
expect_exit "set: not a number" 2 "not a number: 'fast'" -- hal set --bench "$tmp/bench.yaml" pump.frequency_set fast
expect_exit "set: arguments" 2 "expected DEVICE.POINT VALUE" -- hal set --bench "$tmp/bench.yaml" pump.run
expect_exit "no subcommand" 2 "hal: expected 'probe' or 'set'" -- hal
expect_exit "probe: no bench" 2 "missing --bench FILE" -- hal probe
expect_exit "probe: no such bench" 2 "nonexistent" -- hal probe --bench nonexistent

sed 's/type: float32, order: CDAB/type: float23, order: CDAB/' configs/benches/sim.yaml >"$tmp/bad.yaml"
expect_exit "probe: malformed bench" 2 "$tmp/bad.yaml: line 48: device 'reference': point 'flow': field 'type': unknown type 'float23'" -- \
	hal probe --bench "$tmp/bad.yaml"

# Nobody answering: the snapshot still comes, every point offline, exit 1.
sed "s#tcp://127.0.0.1:15020#tcp://127.0.0.1:1#" configs/benches/sim.yaml >"$tmp/dead.yaml"
out=$("$MB" hal probe --bench "$tmp/dead.yaml" --no-cameras 2>/dev/null); rc=$?
check "probe dead bus: exit" 1 "$rc"
st=$(printf '%s' "$out" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sorted({p["status"] for dv in d["devices"] for p in dv["points"]}), d["buses"][0]["connected"])')
check "probe dead bus: statuses" "['offline'] False" "$st"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
