#!/bin/sh
# End to end: the demo plan on the simulated bench over real Modbus frames and HTTP cameras, in
# lockstep, read by the vision models, then the ground-truth loop: every point the bench read is
# within its own U of the error the simulator injected (scripts/check-truth); points the readers
# refused are recorded as invalid with their reason, never guessed. Records verify; the PDF reads.
# usage: run_demo.sh PATH/TO/meterbench
set -u
MB=$(realpath "$1")
cd "$(dirname "$0")/../.."
if [ ! -f vision/models/digit.onnx ] || [ ! -f vision/models/needle.onnx ]; then
	echo "SKIP: vision/models lacks digit.onnx or needle.onnx"; exit 77
fi
tmp=$(mktemp -d)
sim_pid=
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

"$MB" sim --config demo --lockstep --listen 127.0.0.1:0 > "$tmp/sim.json" 2> "$tmp/sim.err" &
sim_pid=$!
for _ in $(seq 100); do [ -s "$tmp/sim.json" ] && break; sleep 0.1; done
[ -s "$tmp/sim.json" ] || { echo "FAIL simulator did not start"; cat "$tmp/sim.err"; exit 1; }
modbus=$(sed -n 's/.*"modbus_tcp":"\([^"]*\)".*/\1/p' "$tmp/sim.json")
http=$(sed -n 's/.*"http":"\([^"]*\)".*/\1/p' "$tmp/sim.json")
sed -e "s/127.0.0.1:15020/$modbus/" -e "s/127.0.0.1:15080/$http/" configs/benches/sim.yaml > "$tmp/bench.yaml"

if ! "$MB" run --plan demo --bench "$tmp/bench.yaml" --out "$tmp/out" --quiet > "$tmp/run.out" 2> "$tmp/run.err"; then
	echo "FAIL meterbench run"; cat "$tmp/run.err"; exit 1
fi
cat "$tmp/run.out"
# Refused readings are allowed (they are invalid points, with reasons); a wrong number is not.
scripts/check-truth --results "$tmp/out/results.json" --sim configs/sim/demo.yaml --allow-invalid 30 --min-readable 1 || exit 1
"$MB" audit verify --db "$tmp/out/records.sqlite" | grep -q '"ok":true' || { echo "FAIL audit verify"; exit 1; }
pdftotext "$tmp/out/report.pdf" - | grep -q "SIM-0010" || { echo "FAIL report.pdf lacks SIM-0010"; exit 1; }
n=$(sqlite3 "$tmp/out/records.sqlite" "select count(*) from evidence")
[ "$n" -gt 0 ] || { echo "FAIL no evidence images recorded"; exit 1; }
echo "ok   demo run on the simulator ($n evidence images)"
