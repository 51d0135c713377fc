// The live view in a real browser: Debian's chromium, headless, driven by playwright-core.
// usage: node live_view.mjs SOURCE_DIR BUILD_DIR ARTIFACT_DIR
// A demo dispute appraisal on the simulator, as scripts/demo runs one: `meterbench sim` (its own
// process, real Modbus TCP, lockstep clock) and `meterbench run --live 127.0.0.1:0 --pace X`
// against it. The browser checks that the numbers change while it runs, the camera stream
// renders and shows the newest frame (not the one before), the verdict appears with the
// certificate and the session id, the language toggle works and nothing is fetched from outside
// the server. Then `meterbench serve` replays the recorded session: the same verdict, the camera
// again, and every point's reference volume ending at the raw reference volume the point was
// computed from (records.sqlite). Screenshots are kept in ARTIFACT_DIR.
import { chromium } from "playwright-core";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";

const [src, build, artifacts] = process.argv.slice(2);
const PACE = 40;            // bench seconds per wall second: the 345 s appraisal in about 9 s
mkdirSync(artifacts, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "mtb-browser-"));
const children = [];
const mb = join(build, "bench/meterbench");
const t0 = Date.now();
const since = () => ((Date.now() - t0) / 1000).toFixed(1) + " s";

// Starts a process of our own and resolves `match` with the first line of the stream that
// matches it (the ports are chosen by the processes themselves: port 0, nothing to collide).
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

// A fresh profile each time (--user-data-dir, passed the way playwright wants it).
async function launch() {
  return chromium.launchPersistentContext(mkdtempSync(join(work, "profile-")), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1600, height: 1000 },
    locale: "zh-TW",
  });
}

async function watch(browser, url) {
  const page = await browser.newPage();
  const foreign = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(url) && !r.url().startsWith("data:")) foreign.push(r.url());
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  return { page, foreign, errors };
}

const text = (page, sel) => page.locator(sel).innerText();

// How many pixels of the camera image the page shows differ from the server's newest frame
// (the first part of a fresh /camera stream), decoded by the same browser: 0 when the page
// shows the newest frame. Also returns the frame's size.
async function cameraLag(page) {
  return page.evaluate(async () => {
    const img = document.getElementById("camera");
    const pos = img.dataset.pos;
    const ctl = new AbortController();
    const r = await fetch(`/camera/${pos}.mjpeg`, { signal: ctl.signal });
    const reader = r.body.getReader();
    const find = (buf, pat, from) => {
      outer: for (let i = from; i + pat.length <= buf.length; i++) {
        for (let k = 0; k < pat.length; k++) if (buf[i + k] !== pat[k]) continue outer;
        return i;
      }
      return -1;
    };
    const enc = (s) => new TextEncoder().encode(s);
    let buf = new Uint8Array(0), body = -1, end = -1;
    while (end < 0) {
      const { value, done } = await reader.read();
      if (done) break;
      const nb = new Uint8Array(buf.length + value.length);
      nb.set(buf);
      nb.set(value, buf.length);
      buf = nb;
      if (body < 0) {
        const h = find(buf, enc("\r\n\r\n"), find(buf, enc("--mtbframe"), 0));
        if (h >= 0) body = h + 4;
      }
      if (body >= 0) end = find(buf, enc("\r\n--mtbframe"), body);
    }
    ctl.abort();
    const bmp = await createImageBitmap(new Blob([buf.slice(body, end)], { type: "image/jpeg" }));
    const w = bmp.width, h = bmp.height;
    const pixels = (src) => {
      const c = new OffscreenCanvas(w, h);
      const g = c.getContext("2d");
      g.drawImage(src, 0, 0, w, h);
      return g.getImageData(0, 0, w, h).data;
    };
    const a = pixels(img), b = pixels(bmp);
    let differ = 0;
    for (let i = 0; i < a.length; i += 4)
      if (Math.abs(a[i] - b[i]) > 24 || Math.abs(a[i + 1] - b[i + 1]) > 24 || Math.abs(a[i + 2] - b[i + 2]) > 24) differ++;
    return { differ, w, h, shown_w: img.naturalWidth, shown_h: img.naturalHeight };
  });
}

// Every event of a stream until the verdict, read outside the browser.
async function allEvents(url) {
  const r = await fetch(url + "events");
  const dec = new TextDecoder();
  let buf = "";
  const events = [];
  for await (const chunk of r.body) {
    buf += dec.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = block.split("\n").find((l) => l.startsWith("data: "));
      if (data) events.push(JSON.parse(data.slice(6)));
    }
    if (events.length && events[events.length - 1].type === "verdict") break;
  }
  return events;
}

try {
  const browserP = launch();

  // ---- the simulator, in its own process, and a live run against it ----------------------
  const sim = start(mb, ["sim", "--config", "demo", "--lockstep", "--listen", "127.0.0.1:0"], "stdout", /^\{.*\}$/m);
  const simInfo = JSON.parse((await sim.match)[0]);
  const bench = readFileSync(join(src, "configs/benches/sim.yaml"), "utf8")
    .replaceAll("127.0.0.1:15020", simInfo.modbus_tcp).replaceAll("127.0.0.1:15080", simInfo.http);
  writeFileSync(join(work, "bench.yaml"), bench);
  const out = join(work, "out");
  const run = start(mb, ["run", "--plan", "configs/plans/dispute-example.yaml", "--bench", join(work, "bench.yaml"),
    "--out", out, "--live", "127.0.0.1:0", "--pace", String(PACE), "--quiet"], "stderr", /live view: (http:\/\/\S+\/)/);
  const url = (await run.match)[1];
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const sid = run.text.stderr.match(/session (\S+):/)[1];
  const browser = await browserP;
  const { page, foreign, errors } = await watch(browser, url);
  console.log(`${since()}: simulator ${simInfo.modbus_tcp}, live view ${url}, session ${sid}`);

  // the water flows: while the meter is measured and no reading comes, the dial still moves
  // (watched in the page from now until the verdict, whatever the test does meanwhile)
  const movingP = page.evaluate(async () => {
    const img = document.getElementById("camera");
    const $t = (id) => document.getElementById(id).textContent;
    const snap = () => {
      const c = new OffscreenCanvas(img.naturalWidth, img.naturalHeight);
      const g = c.getContext("2d");
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      let h = 0;
      for (let i = 0; i < d.length; i += 7) h = (Math.imul(h, 31) + d[i]) >>> 0;
      return h;
    };
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    // A window of 0.8 s in which water runs and no reading is taken: the image must change in
    // one of them. Several windows are watched (up to 5), since on a loaded machine one window
    // can fall between two frames; a camera that stands still fails every one of them.
    let windows = 0, last = null;
    while (document.getElementById("final").hidden && windows < 5) {   /* until the run is over */
      const st = $t("state"), rd = $t("reading") + $t("reading-phase"), pt = $t("point-of");
      // purging, setting the flow, settling or measuring: water runs, no reading is taken
      if (!["排除空氣", "設定流量", "等待流量穩定", "計量中"].includes(st) || !img.naturalWidth) { await sleep(50); continue; }
      const h0 = snap();
      await sleep(800);
      if ($t("state") === st && $t("reading") + $t("reading-phase") === rd && $t("point-of") === pt) {
        windows++;
        last = { conclusive: true, moved: snap() !== h0, point: pt, state: st, windows };
        if (last.moved) return last;
      }
    }
    return last || { conclusive: false };
  });

  await page.waitForFunction(() => document.getElementById("flow").textContent !== "—", null, { timeout: 30000 });
  const flow1 = await text(page, "#flow");
  const vol1 = await text(page, "#ref-volume");
  await page.waitForFunction(([f, v]) => document.getElementById("flow").textContent !== f ||
    document.getElementById("ref-volume").textContent !== v, [flow1, vol1], { timeout: 30000 });
  const state = await text(page, "#state");
  assert.ok(state.length > 0 && state !== "—", "a step is shown");
  // the camera's MJPEG renders in the page: the simulator's 640 x 480 frames
  await page.waitForFunction(() => document.getElementById("camera").naturalWidth > 0, null, { timeout: 30000 });
  assert.equal(await page.locator("#camera").evaluate((i) => i.naturalWidth), 640);
  await page.waitForFunction(() => document.getElementById("reading-phase").textContent !== "", null, { timeout: 30000 });
  await page.screenshot({ path: join(artifacts, "live-running-zh.png") });
  console.log(`${since()}: running, flow ${flow1} -> changed, step ${state}`);

  const moving = await movingP;
  assert.ok(moving.conclusive, "no 0.8 s stretch of running water without a reading was seen");
  assert.ok(moving.moved, `the camera image stood still while the water ran, in ${moving.windows} windows of 0.8 s (last: ${moving.state} ${moving.point})`);

  // the verdict, with the certificate and the session id
  await page.waitForFunction(() => !document.getElementById("final").hidden, null, { timeout: 60000 });
  const verdictZh = await text(page, "#verdict");
  assert.ok(["合格", "不合格", "無法判定"].includes(verdictZh), `verdict in Chinese: ${verdictZh}`);
  assert.equal(await page.locator("#point-list .pt").count(), 3);
  assert.equal(await text(page, "#session-id"), sid);
  assert.equal(await text(page, "#cert"), "CAL-2026-0412");
  assert.match(await text(page, "#case"), /BSMI-TC-2026-0815/);
  assert.match(await text(page, "#focus-label"), /受鑑定水量計.*TW-13-0042117/);
  await page.waitForFunction(() => document.getElementById("qr").naturalWidth > 0, null, { timeout: 10000 });
  const pdf = await page.evaluate(async () => {
    const r = await fetch("/report/customer.pdf");
    return { status: r.status, type: r.headers.get("content-type"), head: (await r.text()).slice(0, 5) };
  });
  assert.deepEqual(pdf, { status: 200, type: "application/pdf", head: "%PDF-" });
  // the camera shows the last frame published, not the one before it
  const lag = await cameraLag(page);
  assert.equal(lag.differ, 0, `the page shows an older camera frame than the server's newest: ${JSON.stringify(lag)}`);
  const fonts = await page.evaluate(async () => {
    await document.fonts.ready;
    return [...document.fonts].map((f) => `${f.family} ${f.weight} ${f.status}`);
  });
  await page.screenshot({ path: join(artifacts, "live-verdict-zh.png"), fullPage: true });

  // the language toggle
  await page.click("#lang");
  assert.equal(await text(page, "h1"), "Water meter test — live");
  const verdictEn = await text(page, "#verdict");
  assert.equal(verdictEn, { "合格": "PASS", "不合格": "FAIL", "無法判定": "NO VERDICT" }[verdictZh]);
  assert.match(await text(page, "#state"), /test complete/);
  assert.match(await text(page, "#focus-label"), /Disputed meter.*TW-13-0042117/);
  // nothing runs off the screen in either language (the longer English texts wrap instead)
  for (const lang of ["en", "zh"]) {
    if (lang === "zh") await page.click("#lang");
    const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(over <= 0, `${lang}: the page is ${over} px wider than the screen`);
    if (lang === "zh") await page.click("#lang");
  }
  await page.screenshot({ path: join(artifacts, "live-verdict-en.png"), fullPage: true });
  await page.click("#lang");
  assert.equal(await text(page, "h1"), "水量計檢測 即時畫面");

  assert.deepEqual(foreign, [], "nothing fetched from outside the server");
  assert.deepEqual(errors, [], "no script errors");
  await page.close();
  console.log(`${since()}: verdict ${verdictZh}/${verdictEn}; fonts: ${fonts.join(", ")}`);
  run.p.kill("SIGINT");   // the run serves its verdict until the operator ends it
  sim.p.kill("SIGTERM");

  // ---- the same session replayed by meterbench serve ---------------------------------------
  const db = join(out, "records.sqlite");
  const serve = start(mb, ["serve", "--db", db, "--listen", "127.0.0.1:0", "--speed", "100", "--exit-after-s", "20"],
    "stdout", /^http:\S+\/$/m);
  const surl = (await serve.match)[0];
  const eventsP = allEvents(surl);
  const replay = await watch(browser, surl);
  await replay.page.waitForFunction(() => document.getElementById("camera").naturalWidth > 0, null, { timeout: 30000 });
  await replay.page.waitForFunction(() => !document.getElementById("final").hidden, null, { timeout: 60000 });
  assert.equal(await text(replay.page, "#verdict"), verdictZh, "the replay reaches the recorded verdict");
  assert.equal(await text(replay.page, "#session-id"), sid);
  assert.equal(await replay.page.locator("#point-list .pt").count(), 3);
  const rlag = await cameraLag(replay.page);
  assert.equal(rlag.differ, 0, `replay: the page shows an older camera frame than the newest: ${JSON.stringify(rlag)}`);
  await replay.page.screenshot({ path: join(artifacts, "serve-replay-zh.png"), fullPage: true });
  assert.deepEqual(replay.foreign, []);
  assert.deepEqual(replay.errors, []);

  // every point's reference volume forms, never goes back, and stops at the raw reference
  // volume the sequencer computed the point from
  const events = await eventsP;
  const raw = JSON.parse(execFileSync("sqlite3", ["-json", db,
    "SELECT point_index, json_extract(corrections_json, '$.reference_raw_l') AS raw_l FROM points " +
    "WHERE raw_l IS NOT NULL ORDER BY point_index"], { encoding: "utf8" }) || "[]");
  const last = {}, forming = {};
  let prev = null;
  for (const e of events) {
    if (e.type === "flow") {
      if (prev && prev.point_index === e.point_index)
        assert.ok(e.ref_volume_l >= prev.ref_volume_l, `point ${e.point_index}: the volume went back`);
      if (e.ref_volume_l > 0) forming[e.point_index] = (forming[e.point_index] || 0) + 1;
      last[e.point_index] = e.ref_volume_l;
      prev = e;
    }
  }
  for (const { point_index, raw_l } of raw) {
    assert.ok(forming[point_index] > 3, `point ${point_index}: the volume forms`);
    assert.equal(last[point_index], raw_l, `point ${point_index}: the replay's reference volume stops at the recorded ${raw_l} L`);
  }
  console.log(`${since()}: serve: replay reached the same verdict; reference volumes ${JSON.stringify(last)} ` +
    `against recorded ${JSON.stringify(raw)}`);
  await browser.close();
} finally {
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  rmSync(work, { recursive: true, force: true });
}
