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
  },
};

const st = {
  lang: localStorage.getItem("mtb-lang") === "en" ? "en" : "zh-Hant",
  connected: false, session: null, focus: 1, state: null, flow: null, reading: {}, points: {}, verdict: null,
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
function bandSvg(p) {
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
  add("text", { x: x(-p.mpe_pct), y: 78, fill: "#c3ced8", "font-size": 26, "text-anchor": "middle" }, `−${fmt(p.mpe_pct, 1)} %`);
  add("text", { x: x(p.mpe_pct), y: 78, fill: "#c3ced8", "font-size": 26, "text-anchor": "middle" }, `+${fmt(p.mpe_pct, 1)} %`);
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

function render() {
  renderTexts(); renderSession(); renderState(); renderFlow(); renderReading(); renderPoints(); renderVerdict();
}

const handlers = {
  session(e) {
    st.session = e;
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

$("lang").addEventListener("click", () => {
  st.lang = st.lang === "en" ? "zh-Hant" : "en";
  localStorage.setItem("mtb-lang", st.lang);
  render();
});
render();
connect();
