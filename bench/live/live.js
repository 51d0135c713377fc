/* The live view's page: reads /events (server-sent events, docs/live-view.md) and shows them.
 * Every event sets state (nothing is accumulated), so a replayed history shows the same page. */
"use strict";

const TEXT = {
  "zh-Hant": {
    title: "水量計檢測 即時畫面", connecting: "連線中", live: "● 即時", lost: "連線中斷，重新連線中",
    state: "目前步驟", flow: "流量", target: "目標", ref_volume: "標準器體積", reading: "水量計讀值",
    confidence: "辨識信心", points: "各流量點誤差（與公差比較）",
    points_in_service: "各流量點誤差（與檢查公差比較）", mpe_in_service: "檢查公差",
    unread: "無法讀取", unread_why: "水量計讀值無法辨識，本流量點不判定", other_meters: "同批其他水量計",
    session: "檢測編號", reference: "標準器", certificate: "校正證書", report: "報告（申請人副本）",
    readonly: "本畫面僅供觀看，無法操作檢測設備。", lang_button: "English",
    disputed: "受鑑定水量計", meter: "水量計", serial: "序號", point_of: (i, n, p) => `流量點 ${i} / ${n}（${p}）`,
    case: (c, cu, ut) => `糾紛鑑定 案號 ${c} · 申請人 ${cu} · 自來水事業 ${ut}`,
    mode: { verification: "檢定", "in-service": "使用中檢查", dispute: "糾紛鑑定" },
    start: "起始", end: "結束",
    verdicts: { pass: "合格", fail: "不合格", invalid: "無效（不確定度過大）", incomplete: "未完成", pending: "檢測中" },
    final: { pass: "合格", fail: "不合格", invalid: "無法判定", incomplete: "未完成" },
    mpe: "公差", error: "誤差", u: "不確定度",
    states: { idle: "待命", purge: "排除空氣", "set-flow": "設定流量", stabilise: "等待流量穩定", start: "開始計量",
      run: "計量中", stop: "停止", read: "讀取水量計", judge: "計算誤差", commit: "記錄結果", done: "檢測完成",
      aborted: "檢測中止" },
    can: {
      title: { can: "量桶檢定 即時畫面", cylinder: "量筒檢定 即時畫面" }, vessel: { can: "量桶", cylinder: "量筒" },
      balance: "天平讀值", fill: "桶內水量", meniscus: "液面（彎月面）讀值", div_unit: "分度",
      runs: "各次量測誤差（與公差比較）", run: (i) => `第 ${i} 次`, run_of: (i, n) => `第 ${i} 次 / 共 ${n} 次`,
      resumed: "（中斷後續行）", stable: "穩定", unstable: "不穩定（水在流動）", silent: "天平無回應",
      overload: "超過秤量", refused: "天平拒絕", of_nominal: (p, n) => `標稱 ${n} L 的 ${p} %`,
      fill_valve: "注水閥", drain_valve: "排水閥", open: "開", closed: "關", not_read: "無法讀取",
      v_ref: "20 °C 體積", indicated: "刻度", method: "方法", result: "平均誤差",
      result_line: (e, u, s, m) => `E ${e} mL · U ${u} mL · s ${s} mL · 公差 ±${m} mL`,
      mpe: "公差", u_one: "單次 U", not_yet: "尚未讀取", no_runs: "尚無完成的量測",
      off_scale: (l) => `水位（約 ${l} L）不在頸部刻度範圍內，攝影機看不到液面`, no_image: "等待頸部攝影機影像",
      states: { idle: "待命", recover: "恢復安全狀態（關閥、排空）", wet: "潤濕桶壁", "weigh-empty": "秤空桶",
        fill: "注水至標稱刻度", settle: "靜置", read: "秤重並讀取液面", deliver: "排水、滴乾", done: "檢定完成",
        aborted: "檢定中止" },
    },
  },
  en: {
    title: "Water meter test — live", connecting: "connecting", live: "● live", lost: "connection lost, reconnecting",
    state: "Step", flow: "Flow rate", target: "target", ref_volume: "Reference volume", reading: "Meter reading",
    confidence: "confidence", points: "Error at each flow rate (against the limits)",
    points_in_service: "Error at each flow rate (against the in-service limits)", mpe_in_service: "in-service limit",
    unread: "not read", unread_why: "the dial could not be read: no result at this flow rate", other_meters: "Other meters on the bench",
    session: "Session", reference: "Reference meter", certificate: "Calibration certificate",
    report: "Report (customer's copy)", readonly: "This screen is for watching only; it cannot operate the bench.",
    lang_button: "中文", disputed: "Disputed meter", meter: "Meter", serial: "serial",
    point_of: (i, n, p) => `test point ${i} of ${n} (${p})`,
    case: (c, cu, ut) => `Dispute appraisal, case ${c} · customer ${cu} · utility ${ut}`,
    mode: { verification: "verification", "in-service": "in-service inspection", dispute: "dispute appraisal" },
    start: "start", end: "end",
    verdicts: { pass: "pass", fail: "fail", invalid: "invalid (uncertainty too large)", incomplete: "incomplete",
      pending: "testing" },
    final: { pass: "PASS", fail: "FAIL", invalid: "NO VERDICT", incomplete: "INCOMPLETE" },
    mpe: "limit", error: "error", u: "uncertainty",
    states: { idle: "idle", purge: "purging air", "set-flow": "setting the flow", stabilise: "waiting for a steady flow",
      start: "starting the measurement", run: "measuring", stop: "stopping", read: "reading the meters",
      judge: "computing the error", commit: "recording", done: "test complete", aborted: "test aborted" },
    can: {
      title: { can: "Measuring-can verification — live", cylinder: "Measuring-cylinder verification — live" },
      vessel: { can: "Can", cylinder: "Cylinder" },
      balance: "Balance", fill: "Water in the vessel", meniscus: "Meniscus read on the scale", div_unit: "div",
      runs: "Error of each run (against the limit)", run: (i) => `Run ${i}`, run_of: (i, n) => `run ${i} of ${n}`,
      resumed: " (resumed after an interruption)", stable: "stable", unstable: "unstable (water moving)",
      silent: "balance not answering", overload: "overload", refused: "balance refused",
      of_nominal: (p, n) => `${p} % of ${n} L nominal`, fill_valve: "fill valve", drain_valve: "drain valve",
      open: "open", closed: "closed", not_read: "not read", v_ref: "volume at 20 °C", indicated: "scale",
      method: "Method", result: "Mean error", result_line: (e, u, s, m) => `E ${e} mL · U ${u} mL · s ${s} mL · limit ±${m} mL`,
      mpe: "limit", u_one: "U of the run", not_yet: "not read yet", no_runs: "no run completed yet",
      off_scale: (l) => `The water (about ${l} L) is off the neck's scale: the camera cannot see it`,
      no_image: "waiting for the neck camera",
      states: { idle: "idle", recover: "making safe (valves closed, emptying)", wet: "wetting the vessel",
        "weigh-empty": "weighing empty", fill: "filling to the nominal line", settle: "settling",
        read: "weighing and reading the meniscus", deliver: "emptying and draining", done: "verification complete",
        aborted: "verification aborted" },
    },
  },
};

const st = {
  lang: localStorage.getItem("mtb-lang") === "en" ? "en" : "zh-Hant",
  connected: false, session: null, focus: 1, state: null, flow: null, reading: {}, points: {}, verdict: null,
  can: null, canState: null, balance: null, meniscus: null, runs: {}, canResult: null,
};

const $ = (id) => document.getElementById(id);
const T = () => TEXT[st.lang];
const fmt = (v, d) => (v === null || v === undefined || !isFinite(v) ? "—" : Number(v).toFixed(d));
const signed = (v, d) => (v > 0 ? "+" : "") + Number(v).toFixed(d);

function renderTexts() {
  document.documentElement.lang = st.lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => {
    const t = T()[el.dataset.i18n];
    if (typeof t === "string") el.textContent = t;
  });
  $("lang").textContent = T().lang_button;
  $("conn").textContent = st.connected ? T().live : (st.everConnected ? T().lost : T().connecting);
  $("conn").className = "conn" + (st.connected ? " ok" : "");
}

function meterOf(pos) {
  return st.session ? st.session.meters.find((m) => m.position === pos) : null;
}

function renderSession() {
  const s = st.session;
  if (!s) return;
  const t = T();
  $("case").textContent = s.dispute
    ? t.case(s.dispute.case_number, s.dispute.customer, s.dispute.utility)
    : `${t.mode[s.mode] || s.mode} · ${s.standard}`;
  const m = meterOf(st.focus);
  const fl = $("focus-label");
  fl.replaceChildren();
  if (m) {   /* the serial never broken across lines */
    const serial = document.createElement("span");
    serial.className = "nowrap";
    serial.textContent = `${t.serial} ${m.serial}`;
    fl.append(`${m.disputed ? t.disputed : t.meter} #${m.position} · `, serial);
  }
  const others = s.meters.filter((x) => x.position !== st.focus);
  $("others").hidden = others.length === 0;
  $("other-list").replaceChildren(...others.map((x) => {
    const d = document.createElement("div");
    d.className = "other";
    const pts = Object.values(st.points[x.position] || {});
    const last = pts.length ? pts[pts.length - 1] : null;
    d.textContent = `#${x.position} ${x.serial}` + (last ? ` · ${last.name} ${signed(last.error_pct, 2)} %` : "");
    return d;
  }));
  $("session-foot").textContent = `${t.session} ${s.id}`;
}

function renderState() {
  const t = T(), s = st.state;
  if (!s) return;
  $("state").textContent = t.states[s.state] || s.state;
  const done = s.state === "done" || s.state === "aborted";
  $("point-of").textContent = s.n_points && !done ? t.point_of(s.point_index + 1, s.n_points, s.point || "") : "";
}

function renderFlow() {
  const f = st.flow;
  if (!f) return;
  $("flow").textContent = fmt(f.flow_lph, f.flow_lph < 100 ? 2 : 1);
  $("target-flow").textContent = fmt(f.target_lph, f.target_lph < 100 ? 2 : 1);
  $("ref-volume").textContent = fmt(f.ref_volume_l, 3);
  $("target-volume").textContent = f.target_volume_l > 0 ? fmt(f.target_volume_l, 3) : "—";   /* chosen at the start */
  const pct = f.target_volume_l > 0 ? Math.max(0, Math.min(100, 100 * f.ref_volume_l / f.target_volume_l)) : 0;
  $("volume-bar").style.width = pct + "%";
}

function renderReading() {
  const r = st.reading[st.focus];
  if (!r) return;
  $("reading").textContent = r.volume_l === null ? "—" : fmt(r.volume_l, 4);
  $("confidence").textContent = fmt(100 * r.confidence, 0) + " %";
  $("reading-phase").textContent = `${r.point} ${T()[r.phase] || r.phase}`;
}

/* The error against its band: the shaded band is ±MPE, the bar around the dot is ±U (k=2). */
function bandSvg(p, unit = "%") {
  const ns = "http://www.w3.org/2000/svg";
  const range = Math.max(p.mpe_pct * 1.6, Math.abs(p.error_pct) + p.u_exp_pct + 0.5);
  const W = 600, H = 84, x = (v) => W / 2 + (v / range) * (W / 2 - 10);
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "band");
  const add = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    svg.appendChild(e);
  };
  add("rect", { x: 0, y: 14, width: W, height: 30, fill: "#0c1116", rx: 6 });
  add("rect", { x: x(-p.mpe_pct), y: 14, width: x(p.mpe_pct) - x(-p.mpe_pct), height: 30, fill: "#2d6a8f", opacity: 0.55 });
  add("line", { x1: x(0), y1: 10, x2: x(0), y2: 48, stroke: "#9aa8b5", "stroke-width": 2 });
  add("text", { x: x(-p.mpe_pct), y: 78, fill: "#c3ced8", "font-size": 26, "text-anchor": "middle" }, `−${fmt(p.mpe_pct, 1)} ${unit}`);
  add("text", { x: x(p.mpe_pct), y: 78, fill: "#c3ced8", "font-size": 26, "text-anchor": "middle" }, `+${fmt(p.mpe_pct, 1)} ${unit}`);
  const col = p.verdict === "pass" ? "#3fb27f" : p.verdict === "fail" ? "#e0584f" : "#e3a63a";
  add("line", { x1: x(p.error_pct - p.u_exp_pct), y1: 29, x2: x(p.error_pct + p.u_exp_pct), y2: 29, stroke: col, "stroke-width": 5 });
  add("circle", { cx: x(p.error_pct), cy: 29, r: 10, fill: col, stroke: "#fff", "stroke-width": 2 });
  return svg;
}

/* In-service inspections and dispute appraisals are judged against the in-service limits. */
const inService = () => st.session && st.session.mode !== "verification";

function renderPoints() {
  const t = T();
  $("points-title").textContent = inService() ? t.points_in_service : t.points;
  const mpe = inService() ? t.mpe_in_service : t.mpe;
  const pts = Object.values(st.points[st.focus] || {}).sort((a, b) => a.point_index - b.point_index);
  $("point-list").replaceChildren(...pts.map((p) => {
    const row = document.createElement("div");
    row.className = "pt";
    row.dataset.point = p.name;
    const name = document.createElement("div");
    name.innerHTML = `<div class="pt-name"></div><div class="pt-flow"></div>`;
    name.firstChild.textContent = p.name;
    name.lastChild.textContent = `${fmt(p.flow_lph, 1)} L/h`;
    const right = document.createElement("div");
    right.innerHTML = `<div class="err-num"></div><div class="pt-verdict"></div><div class="pt-limit"></div>`;
    const unread = p.verdict === "invalid" && !(p.mpe_pct > 0);
    right.children[0].textContent = unread ? "—" : `${signed(p.error_pct, 2)} %`;
    right.children[0].className = "err-num " + p.verdict;
    right.children[1].textContent = unread ? t.unread : (t.verdicts[p.verdict] || p.verdict);
    right.children[1].className = "pt-verdict " + p.verdict;
    if (!unread) {   /* breaks, if it must, between the limit and U, never inside either */
      const lim = document.createElement("span"), u = document.createElement("span");
      lim.className = u.className = "nowrap";
      lim.textContent = `${mpe} ±${fmt(p.mpe_pct, 1)} %`;
      u.textContent = `U ${fmt(p.u_exp_pct, 2)} %`;
      right.children[2].append(lim, " · ", u);
    }
    let middle;
    if (unread) {
      middle = document.createElement("div");
      middle.className = "pt-unread";
      middle.textContent = t.unread_why;
    } else {
      middle = bandSvg(p);
    }
    row.append(name, middle, right);
    return row;
  }));
}

function renderVerdict() {
  const v = st.verdict;
  if (!v) return;
  const t = T();
  const m = v.meters.find((x) => x.position === st.focus) || v.meters[0];
  $("final").hidden = false;
  $("verdict").textContent = m ? (t.final[m.verdict] || m.verdict) : "—";
  $("verdict").className = "verdict " + (m ? m.verdict : "");
  $("session-id").textContent = v.session_id;
  $("reference").textContent = v.reference;
  $("cert").textContent = v.cert_number;
  $("report-link").textContent = location.host + "/report/customer.pdf";
  if (!$("qr").getAttribute("src")) $("qr").src = "/qr.svg";
}

/* ---- a measuring-can run: the balance, the fill state, the meniscus, each run, the series ---- */
const C = () => T().can;
const kindOf = () => (st.can && st.can.kind === "cylinder" ? "cylinder" : "can");

function renderCanLayout() {
  const on = !!st.can;
  $("numbers").hidden = on;
  $("points").hidden = on;
  $("can-numbers").hidden = !on;
  $("can-runs").hidden = !on;
  if (!on) return;
  $("others").hidden = true;
  const c = C(), v = st.can;
  document.querySelector("h1").textContent = c.title[kindOf()];
  for (const id of ["balance", "fill", "meniscus", "div_unit"])
    document.querySelectorAll(`[data-i18n="${id}"]`).forEach((el) => { el.textContent = c[id]; });
  $("case").textContent = `${v.standard} · ${T().mode.verification}` + (v.resumed ? c.resumed : "");
  const fl = $("focus-label");
  const serial = document.createElement("span");
  serial.className = "nowrap";
  serial.textContent = `${T().serial} ${v.serial}`;
  const type = document.createElement("span");
  type.className = "nowrap";
  type.textContent = v.vessel;
  fl.replaceChildren(`${c.vessel[kindOf()]} · `, serial, " · ", type);
  $("runs-title").textContent = c.runs;
  $("session-foot").textContent = `${T().session} ${v.id}`;
}

function renderCanState() {
  const s = st.canState, c = C();
  if (!s || !st.can) return;
  $("can-state").textContent = c.states[s.state] || s.state;
  const done = s.state === "done" || s.state === "aborted";
  $("run-of").textContent = done ? "" : c.run_of(Math.min(s.run_index + 1, s.n_runs), s.n_runs);
}

function renderBalance() {
  const b = st.balance, c = C();
  if (!b || !st.can) return;
  $("mass").textContent = b.mass_g === null ? "—" : Number(b.mass_g).toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  $("balance-status").textContent = b.status === "ok" ? (b.stable ? c.stable : c.unstable) : c[b.status] || b.status;
  $("balance-status").className = "sub" + (b.status === "ok" ? "" : " fail");
  $("water").textContent = b.water_l === null ? "—" : fmt(b.water_l, 2);
  const pct = b.fill_pct === null ? 0 : Math.max(0, Math.min(100, b.fill_pct));
  $("fill-bar").style.width = pct + "%";
  $("fill-pct").textContent = b.fill_pct === null ? "—" : c.of_nominal(fmt(b.fill_pct, 1), Number(st.can.nominal_l));
  const valve = (name, open) => {
    const e = document.createElement("span");
    e.className = "nowrap" + (open ? " valve-open" : "");
    e.textContent = `${name} ${open ? c.open : c.closed}`;
    return e;
  };
  $("valves").replaceChildren(valve(c.fill_valve, b.fill_open), " · ", valve(c.drain_valve, b.drain_open));
  renderCameraNote();
}

function renderMeniscus() {
  const m = st.meniscus, c = C();
  if (!st.can) return;
  if (!m) { $("level-sub").textContent = c.not_yet; return; }
  $("level").textContent = m.ok ? fmt(m.level_div, 2) : "—";
  $("level-volume").textContent = m.ok ? fmt(m.volume_l, 4) : "—";
  $("level-sub").textContent = (m.ok ? `${T().confidence} ${fmt(100 * m.confidence, 0)} %` : `${c.not_read}: ${m.reason}`) +
    ` · ${c.run(m.run_index + 1)}`;
}

/* Over the camera: why it shows no meniscus -- no image yet, or the water off the neck's scale
 * (the image then is the last one taken on the scale). */
function renderCameraNote() {
  if (!st.can) { $("camera-note").hidden = true; return; }
  const c = C(), b = st.balance, v = st.can, img = $("camera");
  const lo = Number(v.zero_l), hi = lo + v.divisions * Number(v.division_ml) / 1000;
  /* once the run is over the last reading's frame is shown as it was read */
  const off = !st.canResult && b && b.water_l !== null &&
    (b.water_l < lo - 0.002 * v.nominal_l || b.water_l > hi + 0.002 * v.nominal_l);
  let note = "";
  if (off) note = c.off_scale(fmt(b.water_l, 2));
  else if (!img.naturalWidth) note = c.no_image;
  $("camera-note").textContent = note;
  $("camera-note").hidden = note === "";
  img.style.opacity = off ? "0.35" : "";
}

function renderRuns() {
  if (!st.can) return;
  const c = C();
  const runs = Object.values(st.runs).sort((a, b) => a.run_index - b.run_index);
  $("run-none").textContent = runs.length ? "" : c.no_runs;
  $("run-list").replaceChildren(...runs.map((r) => {
    const row = document.createElement("div");
    row.className = "pt";
    row.dataset.run = String(r.run_index + 1);
    const name = document.createElement("div");
    name.innerHTML = `<div class="pt-name"></div><div class="run-vol"></div><div class="run-vol"></div>`;
    name.children[0].textContent = c.run(r.run_index + 1);
    const nw = (t) => { const e = document.createElement("span"); e.className = "nowrap"; e.textContent = t; return e; };
    name.children[1].append(`${c.v_ref} `, nw(`${fmt(r.v_ref_l, 4)} L`));
    name.children[2].append(`${c.indicated} `, nw(`${fmt(r.level_div, 2)} div`), " = ", nw(`${fmt(r.indicated_l, 4)} L`));
    const right = document.createElement("div");
    right.innerHTML = `<div class="err-num"></div><div class="pt-verdict"></div><div class="pt-limit"></div>`;
    right.children[0].textContent = `${signed(r.error_ml, 2)} mL`;
    right.children[0].className = "err-num " + r.verdict;
    right.children[1].textContent = T().verdicts[r.verdict] || r.verdict;
    right.children[1].className = "pt-verdict " + r.verdict;
    const lim = document.createElement("span"), u = document.createElement("span");
    lim.className = u.className = "nowrap";
    lim.textContent = `${c.mpe} ±${fmt(r.mpe_ml, 1)} mL`;
    u.textContent = `${c.u_one} ${fmt(r.u_exp_ml, 2)} mL`;
    right.children[2].append(lim, " · ", u);
    const band = bandSvg({ error_pct: r.error_ml, u_exp_pct: r.u_exp_ml, mpe_pct: r.mpe_ml, verdict: r.verdict }, "mL");
    row.append(name, band, right);
    return row;
  }));
}

function renderCanResult() {
  const r = st.canResult;
  if (!r || !st.can) return;
  const t = T(), c = C();
  $("final").hidden = false;
  $("verdict").textContent = t.final[r.verdict] || r.verdict;
  $("verdict").className = "verdict " + r.verdict;
  $("session-id").textContent = r.session_id;
  $("reference-label").textContent = c.method;
  $("reference").textContent = st.can.standard;
  $("cert-label").textContent = c.result;
  if (r.state === "done") {   /* breaks, if it must, between the figures, never inside one */
    const parts = c.result_line(signed(r.error_ml, 3), fmt(r.u_exp_ml, 3), fmt(r.s_ml, 3), fmt(r.mpe_ml, 1)).split(" · ");
    const spans = parts.map((p) => { const e = document.createElement("span"); e.className = "nowrap"; e.textContent = p; return e; });
    $("cert").replaceChildren(...spans.flatMap((e, i) => (i ? [" · ", e] : [e])));
  } else {
    $("cert").textContent = `${t.verdicts.incomplete}: ${r.reason}`;
  }
  $("report-link").textContent = location.host + "/report/customer.pdf";
  if (r.state === "done" && !$("qr").getAttribute("src")) $("qr").src = "/qr.svg";
  $("qr").hidden = r.state !== "done";
}

function renderCan() {
  renderCanLayout(); renderCanState(); renderBalance(); renderMeniscus(); renderRuns(); renderCanResult();
  renderCameraNote();
}

function render() {
  renderTexts();
  if (st.can) { renderCan(); return; }
  renderSession(); renderState(); renderFlow(); renderReading(); renderPoints(); renderVerdict();
}

const handlers = {
  session(e) {
    st.session = e;
    if (st.can) { render(); return; }
    const d = e.meters.find((m) => m.disputed) || e.meters[0];
    if (d && d.position !== st.focus) st.focus = d.position;
    if (d && $("camera").dataset.pos !== String(d.position)) {
      $("camera").dataset.pos = String(d.position);
      $("camera").src = `/camera/${d.position}.mjpeg`;
    }
    render();
  },
  state(e) { st.state = e; renderState(); },
  flow(e) { st.flow = e; renderFlow(); },
  reading(e) { st.reading[e.position] = e; renderReading(); },
  point(e) {
    (st.points[e.position] = st.points[e.position] || {})[e.name] = e;
    renderPoints(); renderSession();
  },
  verdict(e) { st.verdict = e; renderVerdict(); },
  "can-session"(e) {
    st.can = e;
    if ($("camera").dataset.pos !== "1") {
      $("camera").dataset.pos = "1";
      $("camera").src = "/camera/1.mjpeg";
    }
    render();
  },
  "can-state"(e) { st.canState = e; renderCanState(); },
  balance(e) { st.balance = e; renderBalance(); },
  meniscus(e) { st.meniscus = e; renderMeniscus(); },
  "can-run"(e) { st.runs[e.run_index] = e; renderRuns(); },
  "can-result"(e) { st.canResult = e; renderCanResult(); renderCameraNote(); },
};

function connect() {
  const es = new EventSource("/events");
  es.onopen = () => { st.connected = st.everConnected = true; renderTexts(); };
  es.onerror = () => { st.connected = false; renderTexts(); };
  es.onmessage = (m) => {
    let e;
    try { e = JSON.parse(m.data); } catch (_) { return; }
    const h = handlers[e.type];
    if (h) h(e);
  };
}

$("camera").addEventListener("load", renderCameraNote);
$("lang").addEventListener("click", () => {
  st.lang = st.lang === "en" ? "zh-Hant" : "en";
  localStorage.setItem("mtb-lang", st.lang);
  render();
});
render();
connect();
