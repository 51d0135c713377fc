#!/bin/sh
# meterbench sim: usage errors, configuration errors, defaults where configs/benches/sim.yaml
# expects the simulator, the ready line, /truth.json and run-time faults over HTTP.
# usage: sim.sh PATH/TO/meterbench
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
expect_exit() {   # expect_exit NAME CODE STDERR-SUBSTRING -- args...
	name=$1 code=$2 want=$3; shift 4
	err=$("$MB" "$@" 2>&1 >/dev/null); rc=$?
	check "$name: exit" "$code" "$rc"
	case "$err" in *"$want"*) echo "ok   $name: message";; *) echo "FAIL $name: message '$err' lacks '$want'"; fails=$((fails + 1));; esac
	check "$name: one line" 1 "$(printf '%s\n' "$err" | wc -l)"
}
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
pid=

expect_exit "no config" 2 "meterbench: sim: missing --config" -- sim
expect_exit "speed and lockstep" 2 "exclude each other" -- sim --config demo --speed 2 --lockstep
expect_exit "bad listen" 2 "--listen: expected HOST:PORT" -- sim --config demo --listen 15020
expect_exit "bad port" 2 "port must be 0-65535" -- sim --config demo --listen 127.0.0.1:99999
expect_exit "bad speed" 2 "--speed" -- sim --config demo --speed -1
expect_exit "too fast" 2 "--speed: must be above 0 and at most 1000, got 5000" -- sim --config demo --speed 5000
printf 'meters:\n  - serial: A\n    type: dn15-r160-c2\n    true_error: [[25, 1], [20, 2]]\n' >"$tmp/bad.yaml"
expect_exit "bad curve" 2 "bad.yaml: line 4: field 'meters[0].true_error'" -- sim --config "$tmp/bad.yaml"

# The defaults are where the simulated bench's file points.
grep -q 'uri: tcp://127.0.0.1:15020' configs/benches/sim.yaml && echo "ok   bench file: Modbus 15020" || { echo "FAIL bench file Modbus"; fails=$((fails + 1)); }
grep -q 'http://127.0.0.1:15080/camera/1/snapshot.jpg' configs/benches/sim.yaml && echo "ok   bench file: cameras 15080" || { echo "FAIL bench file cameras"; fails=$((fails + 1)); }
case "$("$MB" help sim)" in *"default 127.0.0.1:15020"*"default 127.0.0.1:15080"*) echo "ok   help: defaults";; *) echo "FAIL help: defaults"; fails=$((fails + 1));; esac

# A running simulator on free ports: ready line, truth, faults.
"$MB" sim --config demo --lockstep --listen 127.0.0.1:0 >"$tmp/ready" 2>"$tmp/err" &
pid=$!
for i in $(seq 1 50); do [ -s "$tmp/ready" ] && break; sleep 0.1; done
ready=$(cat "$tmp/ready")
case "$ready" in '{"config":"demo","meters":10,"modbus_tcp":"127.0.0.1:'*'"clock":"lockstep"}') echo "ok   ready line";; *) echo "FAIL ready line: $ready"; fails=$((fails + 1));; esac
http=$(printf '%s' "$ready" | sed -n 's/.*"http":"\([^"]*\)".*/\1/p')
if command -v curl >/dev/null; then
	truth=$(curl -s "http://$http/truth.json")
	case "$truth" in '{"t_us":0,"flow_lph":0.0,"air_ml":150.0,'*'"serial":"SIM-0010"'*) echo "ok   truth.json";; *) echo "FAIL truth.json: $truth"; fails=$((fails + 1));; esac
	check "fault added" "added" "$(curl -s -X POST "http://$http/faults?kind=no-reply&unit=10&count=2")"
	check "fault refused" "fault: field 'faults[0].kind': unknown fault 'x' (no-reply, late-reply, exception, bad-crc, disconnect, stuck-valve, pump-trip, camera-dropout, balance-silent, balance-unstable)" \
		"$(curl -s -X POST "http://$http/faults?kind=x")"
	check "faults cleared" "cleared" "$(curl -s -X DELETE "http://$http/faults")"
fi
kill -TERM $pid; wait $pid; rc=$?
check "SIGTERM: clean exit" 0 "$rc"
pid=

echo "$fails failed"
[ "$fails" -eq 0 ]
