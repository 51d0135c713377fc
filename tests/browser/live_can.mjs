// The live view of a measuring-can run in a real browser: Debian's chromium, headless, driven by
// playwright-core, as live_view.mjs does for a water meter.
// usage: node live_can.mjs SOURCE_DIR BUILD_DIR ARTIFACT_DIR
// `meterbench sim --config can-20l` (its own process: Modbus TCP, the balance's pseudo-terminal,
// the neck camera over HTTP, lockstep clock) and `meterbench run` with the 20 L can plan (2 runs)
// `--live 127.0.0.1:0 --pace X` against it (started once the browser is up, so that the page
// sees the run from its start). The browser checks that the balance's mass and the
// fill state change while the can fills, the neck camera renders and moves, the meniscus level
// is shown with its volume, each run's volume, error, U and verdict appear, the result matches
// what the run printed, the certificate is served, both languages fit the screen, nothing is
// fetched from outside. Screenshots are kept in ARTIFACT_DIR.
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";

const [src, build, artifacts] = process.argv.slice(2);
const PACE = 60;            // bench seconds per wall second: the two-run verification (~950 s) in ~16 s
mkdirSync(artifacts, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "mtb-browser-can-"));
const children = [];
const mb = join(build, "bench/meterbench");
const t0 = Date.now();
const since = () => ((Date.now() - t0) / 1000).toFixed(1) + " s";

function start(cmd, args, stream, re) {
  const p = spawn(cmd, args, { cwd: src, stdio: ["ignore", "pipe", "pipe"] });
  children.push(p);
  const text = { stdout: "", stderr: "" };
  let resolve, reject;
  const match = new Promise((res, rej) => { resolve = res; reject = rej; });
  for (const s of ["stdout", "stderr"]) {
    p[s].on("data", (d) => {
      text[s] += d;
      if (s === stream) {
        const m = text[s].match(re);
        if (m) resolve(m);
      }
    });
  }
  p.on("exit", (code) => reject(new Error(`${cmd} ${args.join(" ")} exited (${code}):\n${text.stderr}`)));
  return { p, match, text };
}

const text = (page, sel) => page.locator(sel).innerText();

// Outside the browser: every event until the result, and the number of frames the neck camera's
// stream carried meanwhile (a reader that keeps up gets every frame published).
async function streams(url) {
  const ctl = new AbortController();
  let frames = 0, done = false;
  const cam = (async () => {
    const r = await fetch(url + "camera/1.mjpeg", { signal: ctl.signal });
    const dec = new TextDecoder("latin1");
    let tail = "";
    try {
      for await (const chunk of r.body) {
        const s = tail + dec.decode(chunk);
        frames += s.split("--mtbframe").length - 1;
        tail = s.slice(-12);
        if (done) break;
      }
    } catch (_) { /* aborted */ }
  })();
  const r = await fetch(url + "events");
  const dec = new TextDecoder();
  let buf = "";
  const events = [];
  outer: for await (const chunk of r.body) {
    buf += dec.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = block.split("\n").find((l) => l.startsWith("data: "));
      if (data) events.push(JSON.parse(data.slice(6)));
      if (events.length && events[events.length - 1].type === "can-result") break outer;
    }
  }
  done = true;
  ctl.abort();
  await cam;
  return { events, frames };
}

try {
  const browser = await chromium.launchPersistentContext(mkdtempSync(join(work, "profile-")), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1600, height: 1000 },
    locale: "zh-TW",
  });

  const page = await browser.newPage();
  const sim = start(mb, ["sim", "--config", "can-20l", "--lockstep", "--listen", "127.0.0.1:0"], "stdout", /^\{.*\}$/m);
  const simInfo = JSON.parse((await sim.match)[0]);
  const bench = readFileSync(join(src, "configs/benches/sim-can.yaml"), "utf8")
    .replaceAll("127.0.0.1:15020", simInfo.modbus_tcp).replaceAll("127.0.0.1:15080", simInfo.http)
    .replaceAll("/tmp/meterbench-sim-balance", simInfo.balance);
  writeFileSync(join(work, "bench.yaml"), bench);
  writeFileSync(join(work, "plan.yaml"),
    readFileSync(join(src, "configs/plans/can-20l-sim.yaml"), "utf8").replace(/^runs: 3/m, "runs: 2"));
  const run = start(mb, ["run", "--plan", join(work, "plan.yaml"), "--bench", join(work, "bench.yaml"),
    "--out", join(work, "out"), "--live", "127.0.0.1:0", "--pace", String(PACE)], "stderr",
    /live view: (http:\/\/\S+\/)/);
  const url = (await run.match)[1];
  const streamsP = streams(url);
  const foreign = [], errors = [];
  page.on("request", (r) => { if (!r.url().startsWith(url) && !r.url().startsWith("data:")) foreign.push(r.url()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url, { waitUntil: "domcontentloaded" });   // the fonts may come later
  console.log(`${since()}: simulator ${simInfo.modbus_tcp}, balance ${simInfo.balance}, live view ${url}`);

  // watched in the page from the start: the mass and the water grow while the fill valve is
  // open, and the neck image changes while the water rises on the scale
  const watchP = page.evaluate(async () => {
    const $t = (id) => document.getElementById(id).textContent;
    const img = document.getElementById("camera");
    const snap = () => {
      if (!img.naturalWidth) return 0;
      const c = new OffscreenCanvas(img.naturalWidth, img.naturalHeight);
      const g = c.getContext("2d");
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      let h = 0;
      for (let i = 0; i < d.length; i += 7) h = (Math.imul(h, 31) + d[i]) >>> 0;
      return h;
    };
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const seen = { masses: new Set(), fillOpen: false, maxPct: -1, frames: new Set(), states: new Set(), valves: new Set() };
    while (document.getElementById("final").hidden) {
      seen.masses.add($t("mass"));
      seen.states.add($t("can-state"));
      seen.valves.add($t("valves"));
      if (/注水閥 開/.test($t("valves"))) seen.fillOpen = true;
      const m = $t("fill-pct").match(/的 ([\d.]+) %/);
      if (m) seen.maxPct = Math.max(seen.maxPct, parseFloat(m[1]));
      seen.frames.add(snap());
      await sleep(100);
    }
    return { masses: seen.masses.size, fillOpen: seen.fillOpen, maxPct: seen.maxPct, frames: seen.frames.size,
      states: [...seen.states], valves: [...seen.valves] };
  });

  await page.waitForFunction(() => document.getElementById("mass").textContent !== "—", null, { timeout: 30000 });
  assert.match(await text(page, "h1"), /量桶檢定/);
  assert.match(await text(page, "#focus-label"), /量桶.*SIM-CAN-0001.*can-20l-ss304-td/);
  assert.ok(await page.locator("#numbers").isHidden(), "the meter's numbers are not shown for a can");
  // the can filling: the fill valve open, the water past half the nominal volume
  await page.waitForFunction(() => /注水閥 開/.test(document.getElementById("valves").textContent) &&
    parseFloat((document.getElementById("fill-pct").textContent.match(/的 ([\d.]+) %/) || [0, 0])[1]) > 50,
  null, { timeout: 60000 });
  await page.screenshot({ path: join(artifacts, "live-can-filling-zh.png") });
  // the neck camera renders (the simulator's neck image), once the water stands on the scale
  await page.waitForFunction(() => document.getElementById("camera").naturalWidth > 0, null, { timeout: 60000 });
  const camW = await page.locator("#camera").evaluate((i) => i.naturalWidth);
  // a meniscus read: the level and its volume
  await page.waitForFunction(() => document.getElementById("level").textContent !== "—", null, { timeout: 60000 });
  const level = parseFloat(await text(page, "#level"));
  const levelVol = parseFloat(await text(page, "#level-volume"));
  assert.ok(level > 8 && level < 12, `level read near the nominal line 10: ${level}`);
  assert.ok(Math.abs(levelVol - (19.9 + level * 0.01)) < 1e-3, `the scale's volume at ${level} div: ${levelVol} L`);
  await page.screenshot({ path: join(artifacts, "live-can-running-zh.png") });
  console.log(`${since()}: running: camera ${camW} px wide, level ${level} div = ${levelVol} L; run: ${run.text.stderr.trim().split("\n").slice(-2).join(" / ")}`);

  await page.waitForFunction(() => !document.getElementById("final").hidden, null, { timeout: 120000 });
  const seen = await watchP;
  console.log(`${since()}: while running: ${seen.masses} masses, ${seen.frames} camera images, fill up to ` +
    `${seen.maxPct} %, states ${seen.states.join("/")}`);
  assert.ok(seen.masses > 10, `the balance's mass changed while filling (${seen.masses} values)`);
  assert.ok(seen.fillOpen, "the fill valve was shown open");
  assert.ok(seen.maxPct > 90 && seen.maxPct < 110, `the fill state reached the nominal volume: ${seen.maxPct} %`);
  // the neck frames of two readings at least, as the page showed them
  assert.ok(seen.frames >= 5, `the neck image changed (${seen.frames} different images)`);
  // frames between readings went out too (the water rising and falling on the scale)
  const { events, frames } = await streamsP;
  const count = (t) => events.filter((e) => e.type === t).length;
  console.log(`${since()}: events: ${count("balance")} balance, ${count("can-state")} states, ${count("meniscus")} ` +
    `meniscus, ${count("can-run")} runs; the camera stream carried ${frames} frames`);
  assert.ok(frames >= count("meniscus") + 4, `frames between readings: ${frames} frames, ${count("meniscus")} readings`);
  assert.equal(count("can-run"), 2);
  const bal = events.filter((e) => e.type === "balance" && e.mass_g !== null);
  assert.ok(bal.some((e) => e.fill_open) && bal.some((e) => e.drain_open), "the valves seen open");
  for (const s of ["注水至標稱刻度", "靜置", "排水、滴乾"])
    assert.ok(seen.states.includes(s), `state ${s} shown: ${seen.states}`);

  // the result, as the run printed it
  const out = JSON.parse(await new Promise((res) => {
    const check = () => (run.text.stdout.includes("\n") ? res(run.text.stdout.trim().split("\n").pop()) : setTimeout(check, 50));
    check();
  }));
  assert.equal(out.state, "done");
  const verdictZh = await text(page, "#verdict");
  assert.equal(verdictZh, { pass: "合格", fail: "不合格", invalid: "無法判定" }[out.verdict]);
  assert.equal(await text(page, "#session-id"), out.session_id);
  const cert = await text(page, "#cert");
  assert.ok(cert.includes(`E ${out.error_ml > 0 ? "+" : ""}${out.error_ml.toFixed(3)} mL`), `result line ${cert} vs ${JSON.stringify(out)}`);
  assert.ok(cert.includes(`U ${out.u_exp_ml.toFixed(3)} mL`), `result line ${cert}`);
  assert.equal(await page.locator("#run-list .pt").count(), 2);
  for (let i = 1; i <= 2; i++) {
    const row = await text(page, `#run-list .pt[data-run="${i}"]`);
    assert.match(row, new RegExp(`第 ${i} 次`));
    assert.match(row, /20 °C 體積 (19|20)\.\d{4} L/);
    assert.match(row, /[+-]\d+\.\d\d mL/);
    assert.match(row, /單次 U \d+\.\d\d mL/);
    assert.match(row, /合格|不合格|無效/);
  }
  const pdf = await page.evaluate(async () => {
    const r = await fetch("/report/customer.pdf");
    return { status: r.status, type: r.headers.get("content-type"), head: (await r.text()).slice(0, 5) };
  });
  assert.deepEqual(pdf, { status: 200, type: "application/pdf", head: "%PDF-" });
  await page.waitForFunction(() => document.getElementById("qr").naturalWidth > 0, null, { timeout: 10000 });
  await page.screenshot({ path: join(artifacts, "live-can-verdict-zh.png"), fullPage: true });

  await page.click("#lang");
  assert.equal(await text(page, "h1"), "Measuring-can verification — live");
  assert.equal(await text(page, "#verdict"), { pass: "PASS", fail: "FAIL", invalid: "NO VERDICT" }[out.verdict]);
  assert.match(await text(page, "#can-state"), /verification complete/);
  assert.match(await text(page, "#run-list"), /Run 1[\s\S]*volume at 20 °C[\s\S]*Run 2/);
  for (const lang of ["en", "zh"]) {
    if (lang === "zh") await page.click("#lang");
    const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(over <= 0, `${lang}: the page is ${over} px wider than the screen`);
    if (lang === "zh") await page.click("#lang");
  }
  await page.screenshot({ path: join(artifacts, "live-can-verdict-en.png"), fullPage: true });
  assert.deepEqual(foreign, [], "nothing fetched from outside the server");
  assert.deepEqual(errors, [], "no script errors");
  console.log(`${since()}: result ${verdictZh}: ${cert}`);
  await browser.close();
  run.p.kill("SIGINT");
  sim.p.kill("SIGTERM");
} finally {
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  rmSync(work, { recursive: true, force: true });
}
