#!/bin/sh
# meterbench run with a can plan against the simulator process: the whole verification over
# Modbus (valves, transmitters) and the balance's pseudo-terminal (MT-SICS through the HAL's
# serial driver), the neck read from the simulator's camera. An injected can error is measured
# within U; records (audit chain, evidence by hash) verify and a tampered reading is caught; the
# certificate reads in zh-TW and English; a balance that goes silent or unstable at run time
# aborts the run with no volume and the valves closed.
# usage: run_can.sh PATH/TO/meterbench
set -u
MB=$1
fails=0
T=$(mktemp -d)
SIM_PID=
stop_sim() { [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null; SIM_PID=; }
trap 'stop_sim; rm -rf "$T"' EXIT
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
ok() { echo "ok   $1"; }

INJ=-3.7   # mL, indicated - true
cat >"$T/sim.yaml" <<EOY
name: can-test
seed: 11
can:
  vessel: can-20l-ss304-td
  error_ml: $INJ
  water_c: 24.0
  air_c: 22.5
  p_hpa: 1003
  rh_pct: 60
  settle_s: 3
EOY
sed -e 's/^runs: 3/runs: 2/' -e 's/^stable_timeout_s: 20/stable_timeout_s: 5/' configs/plans/can-20l-sim.yaml >"$T/plan.yaml"

# Starts the simulator (its PID recorded, so only it is stopped) and writes its bench file.
start_sim() {
	stop_sim
	rm -f "$T/ready"
	"$MB" sim --config "$T/sim.yaml" --listen 127.0.0.1:0 --lockstep >"$T/ready" 2>"$T/sim.err" &
	SIM_PID=$!
	i=0
	while ! grep -q '"clock"' "$T/ready" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	R=$(cat "$T/ready")
	TCP=$(echo "$R" | sed -n 's/.*"modbus_tcp":"\([^"]*\)".*/\1/p')
	HTTP=$(echo "$R" | sed -n 's/.*"http":"\([^"]*\)".*/\1/p')
	PTY=$(echo "$R" | sed -n 's/.*"balance":"\([^"]*\)".*/\1/p')
	case $PTY in /dev/pts/*) ;; *) fail "simulator announced no balance pty: $R"; return 1 ;; esac
	sed -e "s|tcp://127.0.0.1:15020|tcp://$TCP|" -e "s|serial:///tmp/meterbench-sim-balance|serial://$PTY|" \
		-e "s|http://127.0.0.1:15080|http://$HTTP|" -e "s|timeout_ms: 500|timeout_ms: 200|" \
		configs/benches/sim-can.yaml >"$T/bench.yaml"
}

num() { echo "$1" | sed -n "s/.*\"$2\":\(-\{0,1\}[0-9.]*\).*/\1/p"; }

# ---- the whole verification with an injected error ----
start_sim
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
n_men=$(sqlite3 "$DB" "SELECT COUNT(*) FROM meniscus_readings WHERE image_sha256 IN (SELECT sha256 FROM evidence)")
n_runs=$(sqlite3 "$DB" "SELECT COUNT(*) FROM can_runs")
[ "$n_runs" = 2 ] && [ "$n_bal" -gt 100 ] && [ "$n_men" -ge 2 ] && ok "records: $n_runs runs, $n_bal balance replies, $n_men neck frames with evidence" \
	|| fail "records: $n_runs runs, $n_bal balance, $n_men meniscus"
# the evidence blob is the PNG the reader saw, stored under its own SHA-256
sha=$(sqlite3 "$DB" "SELECT image_sha256 FROM meniscus_readings ORDER BY run_index DESC, seq DESC LIMIT 1")
sqlite3 "$DB" "SELECT writefile('$T/frame.png', bytes) FROM evidence WHERE sha256='$sha'" >/dev/null
[ "$(sha256sum "$T/frame.png" | cut -d' ' -f1)" = "$sha" ] && file "$T/frame.png" 2>/dev/null | grep -q PNG \
	&& ok "evidence PNG under its hash" || fail "evidence $sha"
grep -q "\"image_sha256\":\"$sha\"" "$T/ok/results.json" && ok "results.json names the frame" || fail "results.json hashes"
pdftotext "$T/ok/certificate.pdf" "$T/cert.txt" 2>/dev/null && ok "certificate.pdf" || fail "no certificate"
grep -q "量桶檢定報告" "$T/cert.txt" && grep -q "Measuring-can verification certificate" "$T/cert.txt" \
	&& ok "certificate in zh-TW and English" || fail "certificate languages"
grep -q "判定 Verdict: 合格 pass" "$T/cert.txt" && ok "certificate verdict" || fail "certificate verdict"
sid=$(echo "$out" | sed -n 's/.*"session_id":"\([^"]*\)".*/\1/p')
grep -q "$sid" "$T/cert.txt" && ok "certificate names session $sid" || fail "certificate session"
grep -q "SIM-CAN-0001" "$T/cert.txt" && ok "certificate serial" || fail "certificate serial"
# the fill brings the water to the nominal line (20 L can: line 10): a coarse fill by mass, then
# short openings weighed stable, to within the plan's 0.2 division below the aim at the measured
# water temperature -- where the can's own error (-3.7 mL indicated - true: the scale reads 0.37
# division low) leaves the water about 0.5 division below the line -- then the meniscus is read
# and topped up to within the plan's 0.1 division below the line (before the top-up the levels
# were read at 9.49 and 9.48; before the fine approach about 1.7 divisions above the line)
lv=$(sqlite3 "$DB" "SELECT group_concat(printf('%.3f', level_div), ' ') FROM can_runs")
awk -v l="$lv" 'BEGIN { n = split(l, a, " "); if (n != 2) exit 1; for (i = 1; i <= n; i++) { d = a[i] - 10; if (d < -0.13 || d > 0.05) exit 1 } }' \
	&& ok "levels read at the nominal line: $lv divisions (line 10, top-up to within 0.1 below it)" || fail "levels $lv (line 10)"
# every step of the fill is in the run's sealed record: the coarse fill, the openings by mass,
# the top-up's meniscus readings and openings, the reading it stopped at
steps=$(sqlite3 "$DB" "SELECT group_concat(kind, ' ') FROM (SELECT kind FROM can_fill_steps ORDER BY run_index, seq)")
n_top=$(sqlite3 "$DB" "SELECT COUNT(*) FROM can_fill_steps WHERE kind='top-up' AND run_index>=0 AND level_div<9.9 AND open_us>0")
n_stop=$(sqlite3 "$DB" "SELECT COUNT(*) FROM can_fill_steps WHERE kind='stop' AND level_div>=9.9")
[ "$n_top" -ge 2 ] && [ "$n_stop" = 2 ] && ok "fill steps recorded: $steps" || fail "fill steps: $steps"
cp "$DB" "$T/step.sqlite"
sqlite3 "$T/step.sqlite" "UPDATE can_fill_steps SET level_div = 9.95 WHERE kind = 'top-up' AND run_index = 1"
bad=$("$MB" audit verify --db "$T/step.sqlite")
echo "$bad" | grep -q '"ok":false' && echo "$bad" | grep -q 'can-run' && ok "altered fill step detected" || fail "step tamper: $bad"
# meterbench report regenerates results.json and the certificate from the records alone: the
# same bytes of results.json, the same text on the certificate
rep=$("$MB" report --db "$DB" --out "$T/rep" 2>"$T/rep.err")
rc=$?
[ $rc = 0 ] && [ "$rep" = "$T/rep/certificate.pdf" ] && ok "report on the can session: exit 0" || fail "report: exit $rc: $rep $(cat "$T/rep.err")"
cmp -s "$T/ok/results.json" "$T/rep/results.json" && ok "report: results.json identical to the run's" \
	|| fail "report: results.json differs: $(diff "$T/ok/results.json" "$T/rep/results.json" | head -4)"
grep -q '"v_ref_l":' "$T/rep/results.json" && ok "report: results.json has the volumes" || fail "report: no volumes"
pdftotext "$T/rep/certificate.pdf" "$T/rep-cert.txt" 2>/dev/null && cmp -s "$T/cert.txt" "$T/rep-cert.txt" \
	&& grep -qF -- "${E#-}" "$T/rep-cert.txt" && grep -q "判定 Verdict: 合格 pass" "$T/rep-cert.txt" \
	&& ok "report: certificate text identical to the run's (error $E mL)" \
	|| fail "report: certificate text: $(diff "$T/cert.txt" "$T/rep-cert.txt" | head -6)"
# killed after the series was recorded and before the session was finished (the records as they
# then stand: status running, the series there): the resumed run moves no water, keeps the series
# as recorded, finishes the session; results.json is the run's, byte for byte
mkdir -p "$T/late" && cp "$DB" "$T/late/records.sqlite"
sqlite3 "$T/late/records.sqlite" "UPDATE sessions SET status='running', bench_time_s=NULL"
late=$("$MB" run --plan "$T/plan.yaml" --bench "$T/bench.yaml" --out "$T/late" --resume "$sid" 2>"$T/late.err")
rc=$?
[ $rc = 0 ] && cmp -s "$T/ok/results.json" "$T/late/results.json" && ! grep -q "recover\|fill" "$T/late.err" \
	&& [ "$(sqlite3 "$T/late/records.sqlite" "SELECT COUNT(*) FROM can_results")" = 1 ] \
	&& ok "resume after the series was recorded: no water moved, results.json identical" \
	|| fail "resume after the series: exit $rc $late $(tail -3 "$T/late.err")"
"$MB" report --db "$T/late/records.sqlite" --out "$T/late-rep" >/dev/null 2>&1 && cmp -s "$T/ok/results.json" "$T/late-rep/results.json" \
	&& ok "report after that resume: identical results.json" || fail "report after the late resume"
# a run record altered afterwards no longer regenerates the recorded results: nothing is written
cp "$DB" "$T/altered.sqlite"
sqlite3 "$T/altered.sqlite" "UPDATE can_runs SET full_mg = full_mg + 2000 WHERE run_index = 1"
err=$("$MB" report --db "$T/altered.sqlite" --out "$T/rep-altered" 2>&1 >/dev/null)
rc=$?
[ $rc = 1 ] && echo "$err" | grep -q "differ from those recorded" && [ ! -e "$T/rep-altered/results.json" ] \
	&& ok "report refuses an altered run record" || fail "report on altered records: exit $rc: $err"
# a balance reply added afterwards, after every sealed range, is detected too
cp "$DB" "$T/added.sqlite"
sqlite3 "$T/added.sqlite" "INSERT INTO balance_readings SELECT session_id, run_index, seq + 1, t_mono_us + 500000, rc, mass_mg, stable
	FROM balance_readings WHERE run_index = 1 ORDER BY seq DESC LIMIT 1"
bad=$("$MB" audit verify --db "$T/added.sqlite")
echo "$bad" | grep -q '"ok":false' && echo "$bad" | grep -q 'sealed by no audit entry' && ok "added reading detected: $bad" || fail "added: $bad"
# a balance reading altered afterwards is detected
cp "$DB" "$T/tampered.sqlite"
sqlite3 "$T/tampered.sqlite" "UPDATE balance_readings SET mass_mg = mass_mg + 100 WHERE run_index = 1 AND seq = 5"
bad=$("$MB" audit verify --db "$T/tampered.sqlite")
echo "$bad" | grep -q '"ok":false' && echo "$bad" | grep -q 'can-run' && ok "tampered reading detected" || fail "tamper: $bad"

# ---- faults at run time: the balance goes silent while filling, or never settles ----
fault_run() {   # name kind at_s
	start_sim
	curl -s -X POST "http://$HTTP/faults?kind=$2&at_s=$3" >/dev/null || fail "$1: fault not injected"
	out=$("$MB" run --plan "$T/plan.yaml" --bench "$T/bench.yaml" --out "$T/$1" --quiet 2>"$T/err")
	rc=$?
	echo "$out"
	[ $rc = 1 ] && ok "$1: exit 1" || fail "$1: exit $rc"
	grep -q '^meterbench: run: aborted in ' "$T/err" && ok "$1: $(cat "$T/err")" || fail "$1: stderr $(cat "$T/err")"
	echo "$out" | grep -q '"state":"aborted"' && ok "$1: aborted" || fail "$1: $out"
	if [ ! -s "$T/$1/results.json" ]; then
		fail "$1: no results.json"
	elif echo "$out" | grep -q 'error_ml' || grep -q 'error_ml\|v_ref_l' "$T/$1/results.json"; then
		fail "$1: a volume was reported"
	else
		ok "$1: no volume"
	fi
	echo "$out" | grep -q '"valves_closed":true' && ok "$1: valves closed" || fail "$1: valves"
	[ "$(sqlite3 "$T/$1/records.sqlite" "SELECT COUNT(*) FROM can_results")" = 0 ] && ok "$1: no result recorded" || fail "$1: result"
	[ "$(sqlite3 "$T/$1/records.sqlite" "SELECT status FROM sessions")" = aborted ] && ok "$1: session aborted" || fail "$1: status"
	"$MB" audit verify --db "$T/$1/records.sqlite" | grep -q '"ok":true' && ok "$1: audit verifies" || fail "$1: audit"
	pdftotext "$T/$1/certificate.pdf" - 2>/dev/null | grep -q "$4" && ok "$1: the certificate gives the reason" || fail "$1: certificate reason"
	err=$("$MB" report --db "$T/$1/records.sqlite" --out "$T/$1-rep" 2>&1 >/dev/null)
	rc=$?
	[ $rc = 2 ] && echo "$err" | grep -q "is aborted" && ok "$1: report says the session was aborted" || fail "$1: report: exit $rc: $err"
}
# Timeline of the 20 L to-deliver can: wetting fill 0-200 s, emptied and drained by ~330 s, run 1
# fills ~335-535 s, settles 30 s, is weighed at ~565 s.
fault_run silent balance-silent 400 "silent"

# ---- resuming the aborted session once the balance answers again (docs/can-resume.md) ----
# The abort left the can part filled with run 1's water; the resumed run closes the valves,
# drains it, weighs it anew and does runs 1 and 2. The aborted attempt's balance replies stay on
# record (a "can-attempt" entry), the redo's follow them; report regenerates the results.
sid=$(echo "$out" | sed -n 's/.*"session_id":"\([^"]*\)".*/\1/p')
curl -s -X DELETE "http://$HTTP/faults" >/dev/null || fail "resume: faults not cleared"
res=$("$MB" run --plan "$T/plan.yaml" --bench "$T/bench.yaml" --out "$T/silent" --resume "$sid" 2>"$T/res.err")
rc=$?
echo "$res"
[ $rc = 0 ] && echo "$res" | grep -q '"state":"done","runs":2' && ok "resume of the aborted session: exit 0, 2 runs done" \
	|| fail "resume: exit $rc: $res $(tail -2 "$T/res.err")"
grep -q "^resuming session $sid at run 1 of 2" "$T/res.err" && grep -q "run 1 recover" "$T/res.err" \
	&& ok "resume: recovers first (valves closed, can drained)" || fail "resume: $(head -3 "$T/res.err")"
E2=$(num "$res" error_ml)
U2=$(num "$res" u_exp_ml)
awk -v e="$E2" -v u="$U2" -v i="$INJ" 'BEGIN { d = e - i; if (d < 0) d = -d; exit !(d <= u && u > 0) }' \
	&& ok "resume: measured $E2 mL = injected $INJ mL within U $U2 mL" || fail "resume: measured $E2, U $U2"
DB="$T/silent/records.sqlite"
audit=$("$MB" audit verify --db "$DB")
echo "$audit" | grep -q '"ok":true' && echo "$audit" | grep -q '"can_records":4' && ok "resume: audit verify: $audit" \
	|| fail "resume: audit verify: $audit"
att=$(sqlite3 "$DB" "SELECT COUNT(*) FROM audit WHERE kind='can-attempt' AND point_index=0")
gap=$(sqlite3 "$DB" "SELECT COUNT(*) FROM balance_readings WHERE run_index=0 AND rc<>0")
[ "$att" = 1 ] && [ "$gap" -gt 0 ] && ok "resume: the aborted attempt's $gap silent replies stay on record" \
	|| fail "resume: attempt entries $att, silent replies $gap"
cp "$DB" "$T/tamper2.sqlite"
sqlite3 "$T/tamper2.sqlite" "UPDATE balance_readings SET rc=0 WHERE run_index=0 AND rc<>0"
"$MB" audit verify --db "$T/tamper2.sqlite" | grep -q 'can-attempt' && ok "resume: an erased silence in the attempt is detected" \
	|| fail "resume: tampered attempt not detected"
"$MB" report --db "$DB" --out "$T/silent-rep" >/dev/null 2>"$T/rep.err" && cmp -s "$T/silent/results.json" "$T/silent-rep/results.json" \
	&& ok "resume: report regenerates results.json byte for byte" || fail "resume: report $(cat "$T/rep.err")"
err=$("$MB" run --plan "$T/plan.yaml" --bench "$T/bench.yaml" --out "$T/silent" --resume "$sid" 2>&1 >/dev/null)
[ $? = 2 ] && echo "$err" | grep -q "is complete" && ok "resume of a complete session refused: $err" || fail "resume complete: $err"
sed 's/^runs: 2/runs: 3/' "$T/plan.yaml" >"$T/plan3.yaml"
err=$("$MB" run --plan "$T/plan3.yaml" --bench "$T/bench.yaml" --out "$T/unstable" --resume "$sid" 2>&1 >/dev/null)
[ $? = 2 ] && echo "$err" | grep -q "no session\|another plan" && ok "resume with the wrong records refused: $err" || fail "resume other: $err"

fault_run unstable balance-unstable 550 "not stable"
# a session recorded before can sessions could be resumed sealed its aborted run's
# observations as "can-run": refused, not carried on into a run that could not be recorded
cp "$T/unstable/records.sqlite" "$T/old.sqlite"
sqlite3 "$T/old.sqlite" "DROP TRIGGER audit_no_update; UPDATE audit SET kind='can-run' WHERE kind='can-attempt'"
mkdir -p "$T/old" && cp "$T/old.sqlite" "$T/old/records.sqlite"
err=$("$MB" run --plan "$T/plan.yaml" --bench "$T/bench.yaml" --out "$T/old" \
	--resume "$(sqlite3 "$T/old.sqlite" "SELECT id FROM sessions")" 2>&1 >/dev/null)
[ $? = 2 ] && echo "$err" | grep -q "cannot be carried on" && ok "resume of an older aborted session refused: $err" \
	|| fail "resume older: $err"
err=$("$MB" run --plan "$T/plan3.yaml" --bench "$T/bench.yaml" --out "$T/unstable" \
	--resume "$(sqlite3 "$T/unstable/records.sqlite" "SELECT id FROM sessions")" 2>&1 >/dev/null)
[ $? = 2 ] && echo "$err" | grep -q "another plan" && ok "resume with another plan refused: $err" || fail "resume plan: $err"

# ---- Ctrl-C while the can fills: the valves close, the session is aborted, nothing half-done ----
start_sim
"$MB" run --plan "$T/plan.yaml" --bench "$T/bench.yaml" --out "$T/int" >"$T/int.out" 2>"$T/int.err" &
RUN_PID=$!
i=0
while ! grep -q 'run 1 fill' "$T/int.err" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
kill -INT $RUN_PID
wait $RUN_PID
rc=$?
out=$(cat "$T/int.out")
[ $rc = 1 ] && ok "Ctrl-C: exit 1" || fail "Ctrl-C: exit $rc: $(tail -2 "$T/int.err")"
echo "$out" | grep -q '"state":"aborted"' && echo "$out" | grep -q '"reason":"aborted by the operator"' \
	&& ok "Ctrl-C: aborted by the operator" || fail "Ctrl-C: $out"
echo "$out" | grep -q '"valves_closed":true' && ok "Ctrl-C: valves closed" || fail "Ctrl-C: valves: $out"
[ "$(sqlite3 "$T/int/records.sqlite" "SELECT status FROM sessions")" = aborted ] && ok "Ctrl-C: session aborted" \
	|| fail "Ctrl-C: status"
"$MB" audit verify --db "$T/int/records.sqlite" | grep -q '"ok":true' && ok "Ctrl-C: audit verifies" || fail "Ctrl-C: audit"

[ $fails = 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"
