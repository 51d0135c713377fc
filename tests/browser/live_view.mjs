// The live view in a real browser: Debian's chromium, headless, driven by playwright-core.
// usage: node live_view.mjs BUILD_DIR ARTIFACT_DIR
// Against a live dispute appraisal (mtb_live_session): the numbers change while it runs, the
// camera stream renders, the verdict appears, the language toggle works, nothing is fetched from
// outside the server. Then `meterbench serve` replays the recorded session to the same page.
// Screenshots are kept in ARTIFACT_DIR.
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";

const [build, artifacts] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "mtb-browser-"));
const children = [];

function start(cmd, args) {
  const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
  children.push(p);
  let out = "";
  const firstLine = new Promise((resolve, reject) => {
    p.stdout.on("data", (d) => {
      out += d;
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(out.slice(0, nl).trim());
    });
    p.on("exit", (code) => reject(new Error(`${cmd} exited (${code}) before printing its address`)));
  });
  return { p, firstLine, output: () => out };
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

try {
  const browser = await launch();

  // ---- a live session ---------------------------------------------------------------------
  const run = start(join(build, "tests/mtb_live_session"), [work, "30", "20"]);
  const url = await run.firstLine;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const { page, foreign, errors } = await watch(browser, url);

  await page.waitForFunction(() => document.getElementById("flow").textContent !== "—", null, { timeout: 30000 });
  const flow1 = await text(page, "#flow");
  const vol1 = await text(page, "#ref-volume");
  await page.waitForFunction(([f, v]) => document.getElementById("flow").textContent !== f ||
    document.getElementById("ref-volume").textContent !== v, [flow1, vol1], { timeout: 30000 });
  const state = await text(page, "#state");
  assert.ok(state.length > 0 && state !== "—", "a step is shown");
  // the camera's MJPEG renders in the page
  await page.waitForFunction(() => {
    const img = document.getElementById("camera");
    return img.complete !== undefined && img.naturalWidth > 0;
  }, null, { timeout: 30000 });
  assert.equal(await page.locator("#camera").evaluate((i) => i.naturalWidth), 480);
  await page.waitForFunction(() => document.getElementById("reading").textContent !== "—", null, { timeout: 60000 });
  await page.screenshot({ path: join(artifacts, "live-running-zh.png") });

  // points and the verdict
  await page.waitForFunction(() => !document.getElementById("final").hidden, null, { timeout: 120000 });
  const verdictZh = await text(page, "#verdict");
  assert.ok(["合格", "不合格", "無法判定"].includes(verdictZh), `verdict in Chinese: ${verdictZh}`);
  assert.equal(await page.locator("#point-list .pt").count(), 3);
  assert.match(await text(page, "#session-id"), /^\d{8}T\d{6}Z-[0-9a-f]+$/);
  assert.equal(await text(page, "#cert"), "CAL-2026-0412");
  assert.match(await text(page, "#case"), /BSMI-TC-2026-0815/);
  assert.match(await text(page, "#focus-label"), /受鑑定水量計.*TW-13-0042117/);
  await page.waitForFunction(() => document.getElementById("qr").naturalWidth > 0, null, { timeout: 10000 });
  const pdf = await page.evaluate(async () => {
    const r = await fetch("/report/customer.pdf");
    return { status: r.status, type: r.headers.get("content-type"), head: (await r.text()).slice(0, 5) };
  });
  assert.deepEqual(pdf, { status: 200, type: "application/pdf", head: "%PDF-" });
  // the fonts are this server's, and they load
  const fonts = await page.evaluate(async () => {
    await document.fonts.ready;
    return [...document.fonts].map((f) => `${f.family} ${f.weight} ${f.status}`);
  });
  await page.screenshot({ path: join(artifacts, "live-verdict-zh.png"), fullPage: true });

  // the language toggle
  await page.click("#lang");
  assert.equal(await text(page, "h1"), "Water meter test — live");
  const verdictEn = await text(page, "#verdict");
  assert.ok(["PASS", "FAIL", "NO VERDICT"].includes(verdictEn), `verdict in English: ${verdictEn}`);
  assert.equal(verdictEn, { "合格": "PASS", "不合格": "FAIL", "無法判定": "NO VERDICT" }[verdictZh]);
  assert.match(await text(page, "#state"), /test complete/);
  await page.screenshot({ path: join(artifacts, "live-verdict-en.png"), fullPage: true });
  await page.click("#lang");
  assert.equal(await text(page, "h1"), "水量計檢測 即時畫面");

  assert.deepEqual(foreign, [], "nothing fetched from outside the server");
  assert.deepEqual(errors, [], "no script errors");
  await page.close();
  console.log(`live: flow ${flow1} -> changed, verdict ${verdictZh}/${verdictEn}; fonts: ${fonts.join(", ")}`);

  // ---- the same session replayed by meterbench serve ---------------------------------------
  const serve = start(join(build, "bench/meterbench"),
    ["serve", "--db", join(work, "records.sqlite"), "--listen", "127.0.0.1:0", "--speed", "80", "--exit-after-s", "20"]);
  const surl = await serve.firstLine;
  const replay = await watch(browser, surl);
  await replay.page.waitForFunction(() => document.getElementById("camera").naturalWidth > 0, null, { timeout: 30000 });
  await replay.page.waitForFunction(() => !document.getElementById("final").hidden, null, { timeout: 120000 });
  assert.equal(await text(replay.page, "#verdict"), verdictZh, "the replay reaches the recorded verdict");
  assert.equal(await replay.page.locator("#point-list .pt").count(), 3);
  await replay.page.screenshot({ path: join(artifacts, "serve-replay-zh.png"), fullPage: true });
  assert.deepEqual(replay.foreign, []);
  assert.deepEqual(replay.errors, []);
  console.log("serve: replay reached the same verdict");

  await browser.close();
} finally {
  for (const c of children) c.kill("SIGTERM");
  rmSync(work, { recursive: true, force: true });
}
