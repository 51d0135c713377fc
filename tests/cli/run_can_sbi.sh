#!/bin/sh
# meterbench run with a can plan against the simulator process whose balance speaks Sartorius
# SBI (--balance-protocol sbi-id: 22-character frames with an ID; the unit left out while the
# weight moves), the bench file saying protocol: sbi (hal/drv_balance_sbi.c). The same whole
# verification as run_can.sh (MT-SICS): an injected can error measured within U, records that
# verify, the balance's readings on record; and a balance that never settles at run time aborts
# the run with no volume and the valves closed.
# usage: run_can_sbi.sh PATH/TO/meterbench
set -u
MB=$1
fails=0
T=$(mktemp -d)
SIM_PID=
stop_sim() { [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null; SIM_PID=; }
trap 'stop_sim; rm -rf "$T"' EXIT
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
ok() { echo "ok   $1"; }

INJ=2.4   # mL, indicated - true
cat >"$T/sim.yaml" <<EOY
name: can-test-sbi
seed: 12
can:
  vessel: can-20l-ss304-td
  error_ml: $INJ
  water_c: 21.0
  air_c: 23.0
  p_hpa: 1015
  rh_pct: 45
  settle_s: 3
EOY
sed -e 's/^runs: 3/runs: 2/' -e 's/^stable_timeout_s: 20/stable_timeout_s: 5/' configs/plans/can-20l-sim.yaml >"$T/plan.yaml"

start_sim() {
	stop_sim
	rm -f "$T/ready"
	"$MB" sim --config "$T/sim.yaml" --listen 127.0.0.1:0 --lockstep --balance-protocol sbi-id >"$T/ready" 2>"$T/sim.err" &
	SIM_PID=$!
	i=0
	while ! grep -q '"clock"' "$T/ready" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	R=$(cat "$T/ready")
	TCP=$(echo "$R" | sed -n 's/.*"modbus_tcp":"\([^"]*\)".*/\1/p')
	HTTP=$(echo "$R" | sed -n 's/.*"http":"\([^"]*\)".*/\1/p')
	PTY=$(echo "$R" | sed -n 's/.*"balance":"\([^"]*\)".*/\1/p')
	case $PTY in /dev/pts/*) ;; *) fail "simulator announced no balance pty: $R"; return 1 ;; esac
	echo "$R" | grep -q '"balance_protocol":"sbi-id"' || fail "simulator does not say it speaks SBI: $R"
	sed -e "s|tcp://127.0.0.1:15020|tcp://$TCP|" -e "s|serial:///tmp/meterbench-sim-balance|serial://$PTY|" \
		-e "s|http://127.0.0.1:15080|http://$HTTP|" -e "s|timeout_ms: 500|timeout_ms: 200|" \
		-e "s|protocol: sics|protocol: sbi|" configs/benches/sim-can.yaml >"$T/bench.yaml"
	grep -q 'protocol: sbi$' "$T/bench.yaml" || fail "bench file: no SBI balance"
}

num() { echo "$1" | sed -n "s/.*\"$2\":\(-\{0,1\}[0-9.]*\).*/\1/p"; }

# the balance on its own: an SBI frame through the HAL (hal probe reads every balance)
start_sim
probe=$("$MB" hal probe --bench "$T/bench.yaml" --no-cameras 2>"$T/probe.err")
echo "$probe" | grep -q '"name":"balance","class":"balance"' && echo "$probe" | grep -q '"mass_g":3000\.0*,"stable":true' \
	&& ok "hal probe reads the dry can over SBI (3000.0 g, stable)" || fail "hal probe: $probe $(cat "$T/probe.err")"

# ---- the whole verification with an injected error ----
out=$("$MB" run --plan "$T/plan.yaml" --bench "$T/bench.yaml" --out "$T/ok" --quiet)
rc=$?
echo "$out"
[ $rc = 0 ] && ok "run: exit 0" || fail "run: exit $rc"
echo "$out" | grep -q '"state":"done","runs":2' && ok "run: 2 runs done" || fail "run: $out"
E=$(num "$out" error_ml)
U=$(num "$out" u_exp_ml)
if [ -n "$E" ] && [ -n "$U" ] && awk -v e="$E" -v u="$U" -v i="$INJ" 'BEGIN { d = e - i; if (d < 0) d = -d; exit !(d <= u && u > 0) }'; then
	ok "measured $E mL = injected $INJ mL within U $U mL"
else
	fail "measured $E mL, injected $INJ mL, U $U mL"
fi
echo "$out" | grep -q '"verdict":"pass"' && ok "verdict pass (MPE 10 mL)" || fail "verdict: $out"
echo "$out" | grep -q '"valves_closed":true' && ok "valves closed" || fail "valves"
audit=$("$MB" audit verify --db "$T/ok/records.sqlite")
echo "$audit" | grep -q '"ok":true' && echo "$audit" | grep -q '"can_records":3' && ok "audit verify: $audit" \
	|| fail "audit verify: $audit"
DB="$T/ok/records.sqlite"
n_bal=$(sqlite3 "$DB" "SELECT COUNT(*) FROM balance_readings")
n_moving=$(sqlite3 "$DB" "SELECT COUNT(*) FROM balance_readings WHERE rc = 0 AND stable = 0")
n_runs=$(sqlite3 "$DB" "SELECT COUNT(*) FROM can_runs")
# moving frames carry no unit: they are read in the unit of the stable ones and recorded as
# not stable (the fill is watched by them); the volumes come from stable frames only
[ "$n_runs" = 2 ] && [ "$n_bal" -gt 100 ] && [ "$n_moving" -gt 10 ] \
	&& ok "records: $n_runs runs, $n_bal balance readings ($n_moving moving)" \
	|| fail "records: $n_runs runs, $n_bal balance readings, $n_moving moving"
full=$(sqlite3 "$DB" "SELECT full_mg FROM can_runs WHERE run_index = 1")
[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM balance_readings WHERE run_index = 1 AND rc = 0 AND stable = 1 AND mass_mg = $full")" -ge 1 ] \
	&& ok "run 1's full mass $full mg is a stable SBI reading on record" || fail "full mass $full not among the stable readings"
pdftotext "$T/ok/certificate.pdf" - 2>/dev/null | grep -q "判定 Verdict: 合格 pass" && ok "certificate verdict" || fail "certificate"

# ---- the balance never settles at run time (while weighing run 1 full) ----
start_sim
curl -s -X POST "http://$HTTP/faults?kind=balance-unstable&at_s=550" >/dev/null || fail "fault not injected"
out=$("$MB" run --plan "$T/plan.yaml" --bench "$T/bench.yaml" --out "$T/unstable" --quiet 2>"$T/err")
rc=$?
echo "$out"
[ $rc = 1 ] && ok "unstable: exit 1" || fail "unstable: exit $rc"
grep -q '^meterbench: run: aborted in .*not stable' "$T/err" && ok "unstable: $(cat "$T/err")" || fail "unstable: stderr $(cat "$T/err")"
if echo "$out" | grep -q 'error_ml' || grep -q 'error_ml\|v_ref_l' "$T/unstable/results.json" 2>/dev/null; then
	fail "unstable: a volume was reported"
else
	ok "unstable: no volume"
fi
echo "$out" | grep -q '"valves_closed":true' && ok "unstable: valves closed" || fail "unstable: valves"
"$MB" audit verify --db "$T/unstable/records.sqlite" | grep -q '"ok":true' && ok "unstable: audit verifies" || fail "unstable: audit"

[ $fails = 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"
