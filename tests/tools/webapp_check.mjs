// Drives scigate's web app (/ui/) through its flows in Debian's chromium (playwright-core)
// and prints one JSON report on stdout: each step with ok/error, every console error and
// uncaught exception, dialogs (an alert() would be injected script), requests that left
// the server. Console errors that are the browser's note of an HTTP failure a step
// provokes on purpose (a 400 from the form, a 404, a 401 after expiry) are listed apart,
// matched by status and URL.
//
// Configuration as JSON in SCIGATE_UI_CHECK: {base, scenario: "local" | "airflow", token,
// secret and leeway (s) of the server's HS256 tokens (to mint one that expires during a
// step), evilRun, evilName, screenshots: folder or ""}.
import { createHmac } from "node:crypto";
import { chromium } from "playwright-core";

const cfg = JSON.parse(process.env.SCIGATE_UI_CHECK);
const base = cfg.base;
const report = { steps: [], consoleErrors: [], expectedErrors: [], pageErrors: [], dialogs: [], foreign: [], pwned: false };
const T = 30000;

// HTTP failures that steps cause on purpose: [status, URL regex].
const expected = [];
const expect = (status, re) => expected.push([status, re]);

// An HS256 token for thomas that the server accepts for `seconds` more (its leeway counted).
function shortToken(seconds) {
  const b64 = (x) => Buffer.from(JSON.stringify(x)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const claims = { username: "thomas", iss: "LabCAS", aud: "LabCAS", iat: now - 60, exp: now - cfg.leeway + seconds };
  const body = b64({ alg: "HS256", typ: "JWT" }) + "." + b64(claims);
  return { token: body + "." + createHmac("sha256", cfg.secret).update(body).digest("base64url"), until: (claims.exp + cfg.leeway) * 1000 };
}

class CheckError extends Error {}
function check(cond, message) {
  if (!cond) throw new CheckError(message);
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
});

function watch(page) {
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const text = msg.text();
    const url = msg.location()?.url || "";
    const status = Number((/status of (\d{3})/.exec(text) || [])[1]);
    const entry = { text, url };
    if (status && expected.some(([s, re]) => s === status && re.test(url))) report.expectedErrors.push(entry);
    else report.consoleErrors.push(entry);
  });
  page.on("pageerror", (err) => report.pageErrors.push(String(err)));
  page.on("dialog", (d) => {
    report.dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  page.on("request", (req) => {
    const url = req.url();
    if (!url.startsWith(base) && !url.startsWith("blob:" + base) && !url.startsWith("data:")) report.foreign.push(url);
  });
  return page;
}

async function newPage(viewport) {
  const context = await browser.newContext({ viewport: viewport || { width: 1200, height: 850 } });
  return watch(await context.newPage());
}

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    report.steps.push({ name, ok: true, ms: Date.now() - started });
  } catch (e) {
    report.steps.push({ name, ok: false, error: String(e && e.stack ? e.stack : e).slice(0, 1500), ms: Date.now() - started });
  }
}

async function shot(page, name) {
  if (cfg.screenshots) await page.screenshot({ path: `${cfg.screenshots}/${name}.png` });
}

// API calls of the test itself (counting runs), with the token.
async function apiGet(page, path) {
  const r = await page.request.get(base + path, { headers: { Authorization: "Bearer " + cfg.token } });
  check(r.ok(), `${path}: ${r.status()}`);
  return r.json();
}

const runsListed = (page) => page.waitForSelector('#runs[data-loaded="true"]', { timeout: T });
const runIdOf = (page) => decodeURIComponent(new URL(page.url()).hash.replace(/^#\/runs\//, ""));
async function waitStatus(page, statuses, timeout) {
  await page.waitForFunction(
    (s) => s.includes(document.querySelector("#run-summary")?.dataset.status),
    statuses,
    { timeout: timeout || 90000 }
  );
  return page.locator("#run-summary").getAttribute("data-status");
}

async function signInByPasting(page) {
  const response = await page.goto(base + "/", { waitUntil: "load" });
  check(new URL(page.url()).pathname === "/ui/", "/ redirects to /ui/: " + page.url());
  check(response.status() === 200, "page status " + response.status());
  await page.waitForSelector("#token", { timeout: T });
  check(await page.locator("#nav").isHidden(), "no navigation before sign-in");
  await page.fill("#token", cfg.token);
  await page.click("button[type=submit]");
  await runsListed(page);
  check(new URL(page.url()).hash === "#/runs", "lands on the runs list: " + page.url());
}

async function local() {
  const page = await newPage();

  await step("sign in by pasting a token", async () => {
    await signInByPasting(page);
    check(await page.evaluate(() => sessionStorage.getItem("scigate.token")) === cfg.token, "token in sessionStorage");
    check(!page.url().includes(cfg.token), "token not in the URL");
  });

  await step("browse a data selection", async () => {
    await page.click("nav >> text=Data");
    await page.click("a[href='#/data/nebraska_images']");
    await page.waitForSelector("table .file-name", { timeout: T });
    const names = await page.locator("table .file-name").allTextContents();
    for (const n of ["tissue_01.png", "slide.tif", cfg.evilName]) check(names.includes(n), "listed: " + n + " in " + names);
    // A PNG: deep zoom when the server makes pyramids of PNGs, else the image as it is.
    expect(400, /\/deepzoom\?/);
    await page.click("a.file-name:text-is('tissue_02.png')");
    await page.waitForSelector(".osd canvas, img.plain-image", { timeout: T });
    await shot(page, "data-browse");
  });

  await step("form from the schema", async () => {
    await page.click("nav >> text=Workflows");
    await page.click("a[href='#/workflows/image_stats']");
    const bins = page.locator("#param-bins");
    check((await bins.evaluate((n) => n.tagName)) === "SELECT", "enum is a select");
    check(JSON.stringify(await bins.locator("option").allTextContents()) === JSON.stringify(["4", "8", "16", "32", "64", "256"]), "enum options");
    check((await bins.inputValue()) === "16", "enum default");
    await page.goto(base + "/ui/#/workflows/nebraska");
    const tile = page.locator("#param-tile_size");
    await tile.waitFor({ timeout: T });
    check((await tile.getAttribute("type")) === "number", "integer is a number input");
    check((await tile.getAttribute("min")) === "16" && (await tile.getAttribute("max")) === "512", "min/max");
    check((await tile.inputValue()) === "64", "default");
    check((await page.locator("#param-tile_size-help").textContent()).includes("Tile edge in pixels"), "description");
    check((await page.locator("label[for=param-tile_size]").count()) === 1, "labelled");
  });

  await step("server 400 next to its field", async () => {
    expect(400, /\/workflows\/nebraska\/runs$/);
    await page.fill("#param-tile_size", "5");
    await page.click("#start-run");
    const error = page.locator("#param-tile_size-error");
    await page.waitForFunction(() => document.querySelector("#param-tile_size-error").textContent.length > 0, null, { timeout: T });
    const text = await error.textContent();
    check(text.includes("tile_size"), "the message names the field: " + text);
    check((await page.locator("#param-tile_size").getAttribute("aria-invalid")) === "true", "aria-invalid");
    check(new URL(page.url()).hash === "#/workflows/nebraska", "still on the form");
    await shot(page, "form-400");
  });

  let runId = null;
  await step("double click starts one run", async () => {
    const before = (await apiGet(page, "/workflows/nebraska/runs")).runs.length;
    await page.fill("#param-tile_size", "64");
    await page.dblclick("#start-run");
    await page.waitForURL(/#\/runs\/[^/]+$/, { timeout: T });
    runId = runIdOf(page);
    // A second submit with the same values and key (what a retry or a fast double submit
    // sends) is answered with the same run.
    const after = (await apiGet(page, "/workflows/nebraska/runs")).runs;
    check(after.length === before + 1, `one run more: ${before} -> ${after.length}`);
    check(after[0].run_id === runId, "the run shown is the one started");
    await page.goto(base + "/ui/#/workflows/image_stats");
    await page.waitForSelector("#param-bins", { timeout: T });
    const statsBefore = (await apiGet(page, "/workflows/image_stats/runs")).runs.length;
    await page.evaluate(() => {
      const form = document.querySelector("form.run-form");
      form.requestSubmit();
      form.requestSubmit();
    });
    await page.waitForURL(/#\/runs\/[^/]+$/, { timeout: T });
    const statsAfter = (await apiGet(page, "/workflows/image_stats/runs")).runs.length;
    check(statsAfter === statsBefore + 1, `two submits, one run: ${statsBefore} -> ${statsAfter}`);
  });

  await step("logs follow to completion", async () => {
    await page.goto(base + "/ui/#/runs/" + encodeURIComponent(runId));
    const status = await waitStatus(page, ["success", "failed", "canceled"]);
    check(status === "success", "run succeeded: " + status);
    await page.waitForSelector('#logs[data-complete="true"]', { timeout: T });
    const logs = await page.locator("#logs").textContent();
    check(logs.length > 0, "log text shown");
    check((await page.locator("#follow-mode").textContent()) === "", "followed through GET /runs/{id}/events, not by polling");
    check((await page.locator("#cancel").isHidden()), "no cancel button once finished");
    check((await page.locator("#run-summary progress").evaluate((n) => n.value)) === 2, "progress 2/2");
    await page.waitForSelector('#outputs[data-loaded="true"]', { timeout: T });
    await shot(page, "run-detail");
  });

  await step("run events stream (contract of ISSUE11)", async () => {
    // GET /runs/{id}/events answered here as the contract says (whatever the server has):
    // the first connection breaks after two log chunks without `end`; the app must come
    // back with Last-Event-ID = the byte offset of the last chunk and get the rest.
    const run = await apiGet(page, "/runs/" + encodeURIComponent(runId));
    const running = { ...run, status: "running", progress: { tasks_done: 1, tasks_total: 2 } };
    const chunks = ["first line\n", "second <b>line</b> é\n", "third\n"];
    const offsets = chunks.map((_, i) => Buffer.byteLength(chunks.slice(0, i + 1).join("")));
    const sse = (event, data, id) => `event: ${event}\n` + (id !== undefined ? `id: ${id}\n` : "") + `data: ${JSON.stringify(data)}\n\n`;
    const asked = [];
    const pattern = /\/runs\/[^/?]+\/events(\?.*)?$/;
    await page.route(pattern, async (route) => {
      const last = route.request().headers()["last-event-id"] || "";
      asked.push(last);
      const body = last === ""
        ? ": ping\n\n" + sse("state", running) + sse("log", { text: chunks[0] }, offsets[0]) + sse("log", { text: chunks[1] }, offsets[1])
        : sse("state", running) + sse("log", { text: chunks[2] }, offsets[2]) + sse("end", run);
      await route.fulfill({ status: 200, headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-store" }, body });
    });
    try {
      await page.goto(base + "/ui/#/runs");
      await page.goto(base + "/ui/#/runs/" + encodeURIComponent(runId));
      await page.waitForSelector('#logs[data-complete="true"]', { timeout: T });
      check((await page.locator("#logs").textContent()) === chunks.join(""), "log text: " + (await page.locator("#logs").textContent()));
      check(JSON.stringify(asked) === JSON.stringify(["", String(offsets[1])]), "resumed from the offset: " + JSON.stringify(asked));
      check((await page.locator("#follow-mode").textContent()) === "", "streamed, not polled");
      check((await page.locator("#run-summary").getAttribute("data-status")) === "success", "end event's state shown");
      check((await page.locator("#logs b").count()) === 0, "log text stays text");
    } finally {
      await page.unroute(pattern);
    }
  });

  await step("outputs and previews", async () => {
    await page.waitForSelector('#outputs[data-loaded="true"]', { timeout: T });
    const names = await page.locator("#outputs .file-name").allTextContents();
    for (const n of ["detections.csv", "summary.json"]) check(names.includes(n), "output " + n + " in " + names);
    const download = page.locator("#outputs a[download='detections.csv']");
    const href = await download.getAttribute("href");
    const r = await page.request.get(href);
    check(r.ok(), "download link works: " + r.status());
    // The preview reads the file through scigate (?preview), not through its presigned link.
    const previewed = page.waitForResponse((resp) => resp.url().endsWith("/detections.csv?preview"), { timeout: T });
    await page.click("#outputs a.file-name:text-is('detections.csv')");
    const preview = await previewed;
    check(preview.status() === 200 && new URL(preview.url()).origin === new URL(page.url()).origin, "same-origin preview: " + preview.url());
    await page.waitForSelector(".preview table tbody tr", { timeout: T });
    const header = await page.locator(".preview thead th").allTextContents();
    check(header.length > 1, "CSV header: " + header);
    await page.goBack();
    await page.waitForSelector('#outputs[data-loaded="true"]', { timeout: T });
    await page.click("#outputs a.file-name:text-is('summary.json')");
    await page.waitForSelector(".preview pre", { timeout: T });
    const json = await page.locator(".preview pre").textContent();
    check(json.trim().startsWith("{") && json.includes("\n  "), "pretty JSON: " + json.slice(0, 80));
    await page.goBack();
    await page.waitForSelector('#outputs[data-loaded="true"]', { timeout: T });
    // The tiles folder and a tile in it.
    const folder = page.locator("#outputs a:text-matches('/$')").first();
    if (await folder.count()) {
      await folder.click();
      await page.waitForSelector("#outputs .file-name", { timeout: T });
      await page.locator("#outputs .file-name").first().click();
      await page.waitForSelector(".osd canvas, img.plain-image, .preview", { timeout: T });
    }
  });

  await step("edit metadata", async () => {
    expect(400, /\/deepzoom\?/);
    await page.goto(base + "/ui/#/runs/" + encodeURIComponent(runId));
    await page.waitForSelector('#outputs[data-loaded="true"]', { timeout: T });
    const value = '<script>window.pwned=true</script><img src=x onerror="window.pwned=true">';
    await page.click("button[aria-label='Edit metadata of summary.json']");
    await page.locator(".prop-editor .prop-key").last().fill("reviewed");
    await page.locator(".prop-editor .prop-value").last().fill(value);
    await page.click(".prop-editor button[type=submit]");
    await page.waitForSelector("#flash:not([hidden])", { timeout: T });
    // Read back from the server: the .cfg sidecar, shown as text.
    const listing = await apiGet(page, `/output-data/thomas/${runId}/`);
    const props = listing.files.find((f) => f.name === "summary.json").properties;
    check(props.reviewed === value, "saved: " + JSON.stringify(props));
    await page.reload();
    await page.waitForSelector('#outputs[data-loaded="true"]', { timeout: T });
    const shown = await page.locator("#outputs dd").allTextContents();
    check(shown.includes(value), "shown as text after reload: " + shown);
    report.pwned = report.pwned || (await page.evaluate(() => window.pwned === true));
  });

  await step("cancel a long run", async () => {
    // A canceled run staged nothing: its output folder does not exist (the app says "No outputs").
    expect(404, /\/output-data\/thomas\/[^/]+\/$/);
    await page.goto(base + "/ui/#/workflows/sleepy");
    await page.waitForSelector("#param-seconds", { timeout: T });
    await page.click("#start-run");
    await page.waitForURL(/#\/runs\/[^/]+$/, { timeout: T });
    await waitStatus(page, ["running"], T);
    await page.waitForFunction(() => document.querySelector("#logs").textContent.includes("napping"), null, { timeout: T });
    // The runs list shows it live, with its progress.
    const sleepyId = runIdOf(page);
    await page.click("nav >> text=Runs");
    await runsListed(page);
    const row = page.locator("#runs tr", { has: page.locator(`a[href='#/runs/${encodeURIComponent(sleepyId)}']`) });
    check((await row.locator(".badge").textContent()) === "running", "running in the list");
    check((await row.locator(".progress").textContent()).includes("0 / 1 tasks"), "progress in the list: " + (await row.textContent()));
    await page.goBack();
    await waitStatus(page, ["running"], T);
    await page.click("#cancel");
    const status = await waitStatus(page, ["canceled", "failed", "success"], T);
    check(status === "canceled", "canceled: " + status);
    await page.waitForSelector('#outputs[data-loaded="true"] .empty', { timeout: T });
  });

  await step("map viewer", async () => {
    const tiles = [];
    const onResponse = (r) => {
      if (r.url().includes("/cog/tiles/")) tiles.push({ url: r.url(), status: r.status(), type: r.headers()["content-type"] || "" });
    };
    page.on("response", onResponse);
    await page.goto(base + "/ui/#/data/nebraska_rasters/view/lincoln_scene.tif");
    await page.waitForSelector("#map canvas.maplibregl-canvas", { timeout: T });
    await page.waitForFunction(() => window.scigateMap && window.scigateMap.getSource("raster") && window.scigateMap.isSourceLoaded("raster"), null, { timeout: 60000 });
    check(tiles.some((t) => t.status === 200 && t.type.startsWith("image/")), "tiles drawn: " + JSON.stringify(tiles.slice(0, 3)));
    check(tiles.every((t) => t.status === 200), "no failed tile: " + JSON.stringify(tiles.filter((t) => t.status !== 200)));
    // The demo scene names its bands: true colour is red, green, blue = b3, b2, b1.
    check((await page.inputValue("#band-r")) === "3" && (await page.inputValue("#band-b")) === "1", "true colour bands");
    await shot(page, "map-viewer");
    await page.selectOption("#map-mode", "single");
    await page.selectOption("#band-r", "4");
    await page.selectOption("#colormap", "viridis");
    await page.fill("#rescale-min", "0");
    await page.fill("#rescale-max", "5000");
    const before = tiles.length;
    const recoloured = page.waitForResponse((r) => r.url().includes("/cog/tiles/") && r.url().includes("colormap_name=viridis"), { timeout: 60000 });
    await page.click("form.controls button[type=submit]");
    await recoloured;
    await page.waitForFunction(() => window.scigateMap.isSourceLoaded("raster"), null, { timeout: 60000 });
    const fresh = tiles.slice(before);
    check(fresh.some((t) => /colormap_name=viridis/.test(t.url) && /bidx=4/.test(t.url) && /rescale=0%2C5000|rescale=0,5000/.test(t.url) && t.status === 200),
          "single band tiles with colormap: " + JSON.stringify(fresh.slice(0, 2)));
    page.off("response", onResponse);
  });

  await step("deep zoom viewer", async () => {
    const dzi = [];
    const onResponse = (r) => {
      if (r.url().includes("/dzi/")) dzi.push({ url: r.url(), status: r.status() });
    };
    page.on("response", onResponse);
    await page.goto(base + "/ui/#/data/nebraska_images/view/slide.tif");
    await page.waitForSelector(".osd canvas", { timeout: T });
    await page.waitForFunction(() => window.scigateOsd && window.scigateOsd.world.getItemCount() === 1 && window.scigateOsd.world.getItemAt(0).getFullyLoaded(), null, { timeout: 60000 });
    check(dzi.some((d) => d.url.includes(".dzi") && d.status === 200), "descriptor: " + JSON.stringify(dzi.slice(0, 2)));
    check(dzi.some((d) => d.url.includes("_files/") && d.status === 200), "tiles: " + JSON.stringify(dzi.slice(0, 3)));
    await page.click("button:text-is('Zoom in')");
    await shot(page, "deep-zoom");
    page.off("response", onResponse);
  });

  await step("markup stays text", async () => {
    await page.goto(base + "/ui/#/runs/" + encodeURIComponent(cfg.evilRun));
    await page.waitForSelector('#outputs[data-loaded="true"]', { timeout: T });
    const names = await page.locator("#outputs .file-name").allTextContents();
    check(names.includes(cfg.evilName), "the name as text: " + names);
    check((await page.locator("#outputs img").count()) === 0, "no <img> made of it");
    await page.click(`#outputs a.file-name`);
    await page.waitForSelector(".preview pre", { timeout: T });
    check((await page.locator("h1").textContent()) === cfg.evilName, "title as text");
    check(!/\bnull\b|undefined/.test(await page.locator("main").textContent()), "no stray null/undefined text");
    check((await page.locator(".preview pre").textContent()).includes("<b>not bold</b>"), "content as text");
    check((await page.locator(".preview b").count()) === 0, "no <b> element");
    await page.goto(base + "/ui/#/data/nebraska_images");
    await page.waitForSelector("table .file-name", { timeout: T });
    check((await page.locator("main img").count()) === 0, "no <img> in the input listing");
    report.pwned = report.pwned || (await page.evaluate(() => window.pwned === true));
  });

  await step("server errors are messages", async () => {
    expect(404, /\/runs\/no-such-run$/);
    await page.goto(base + "/ui/#/runs/no-such-run");
    await page.waitForSelector(".error-box", { timeout: T });
    const text = await page.locator(".error-box").textContent();
    check(/404/.test(text), "the status and message: " + text);
    check(await page.locator(".error-box button").isVisible(), "a retry button");
    await page.goto(base + "/ui/#/nowhere");
    await page.waitForSelector("h1:text-is('Not found')", { timeout: T });
  });

  await step("keyboard", async () => {
    await page.goto(base + "/ui/#/runs");
    await page.reload(); // focus starts at the top of the document
    await runsListed(page);
    await page.keyboard.press("Tab"); // skip link
    check((await page.evaluate(() => document.activeElement.className)) === "skip", "skip link first");
    let found = false;
    for (let i = 0; i < 6 && !found; i++) {
      await page.keyboard.press("Tab");
      found = (await page.evaluate(() => document.activeElement.textContent)) === "Workflows";
    }
    check(found, "navigation reachable by Tab");
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    check(outline !== "none", "focus visible: " + outline);
    await page.keyboard.press("Enter");
    await page.waitForSelector("a[href='#/workflows/nebraska']", { timeout: T });
    check((await page.evaluate(() => document.activeElement.id)) === "main", "focus moves to the new content");
    await page.locator("a[href='#/workflows/nebraska']").focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector("#param-tile_size", { timeout: T });
  });

  await step("phone width", async () => {
    const phone = await newPage({ width: 390, height: 844 });
    await phone.goto(base + "/ui/#token=" + encodeURIComponent(cfg.token));
    await runsListed(phone);
    check(!phone.url().includes(cfg.token), "sign-in link leaves no token in the URL");
    const fits = () => phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
    check(await fits(), "runs list fits 390 px");
    await shot(phone, "phone-runs");
    for (const hash of ["#/runs/" + encodeURIComponent(runId), "#/workflows/nebraska", "#/data/nebraska_images", "#/data/nebraska_rasters/view/lincoln_scene.tif"]) {
      await phone.goto(base + "/ui/" + hash);
      await phone.waitForSelector("main h1", { timeout: T });
      await phone.waitForTimeout(300);
      check(await fits(), hash + " fits 390 px: " + (await phone.evaluate(() => document.documentElement.scrollWidth)));
    }
    await phone.context().close();
  });

  await step("expired token", async () => {
    expect(401, /./);
    const p = await newPage();
    const short = shortToken(4);
    await p.goto(base + "/ui/#token=" + encodeURIComponent(short.token));
    await runsListed(p);
    // The token expires while the app is open: the next call gets a 401 and the app
    // goes back to sign-in, saying why.
    const wait = short.until - Date.now() + 1000;
    check(wait > 0, "the short token outlived the runs list");
    await p.waitForTimeout(wait);
    await p.click("nav >> text=Workflows");
    await p.waitForSelector("#sign-in-message", { timeout: T });
    const message = await p.locator("#sign-in-message").textContent();
    check(/session has ended/.test(message), "message: " + message);
    check((await p.evaluate(() => sessionStorage.getItem("scigate.token"))) === null, "token dropped");
    await shot(p, "expired");
    // Signing in again returns to where the user was.
    await p.fill("#token", cfg.token);
    await p.click("button[type=submit]");
    await p.waitForSelector("a[href='#/workflows/nebraska']", { timeout: T });
    await p.context().close();
  });
  await page.context().close();
}

async function airflow() {
  // The fake Airflow's runs stage no outputs: their folders do not exist.
  expect(404, /\/output-data\/thomas\/[^/]+\/$/);
  const page = await newPage();
  await step("sign in by pasting a token", () => signInByPasting(page));
  let runId = null;
  await step("form from the DAG params, 400 at the field, run to success", async () => {
    expect(400, /\/workflows\/nebraska\/runs$/);
    await page.goto(base + "/ui/#/workflows/nebraska");
    await page.waitForSelector("#param-mode", { timeout: T });
    check((await page.locator("#param-mode").evaluate((n) => n.tagName)) === "SELECT", "enum as select");
    await page.click("#start-run"); // the required label is empty
    await page.waitForFunction(() => document.querySelector("#param-label-error").textContent.length > 0, null, { timeout: T });
    await page.fill("#param-label", "from the web app");
    await page.click("#start-run");
    await page.waitForURL(/#\/runs\/[^/]+$/, { timeout: T });
    runId = runIdOf(page);
    const status = await waitStatus(page, ["success", "failed", "canceled"]);
    check(status === "success", "status " + status);
    await page.waitForSelector('#logs[data-complete="true"]', { timeout: T });
    check((await page.locator("#follow-mode").textContent()) === "", "followed through the event stream");
  });
  await step("runs list", async () => {
    await page.goto(base + "/ui/#/runs");
    await runsListed(page);
    check((await page.locator(`#runs a[href='#/runs/${encodeURIComponent(runId)}']`).count()) === 1, "the run is listed");
  });
  await step("cancel a long run", async () => {
    // A canceled run staged nothing: its output folder does not exist (the app says "No outputs").
    expect(404, /\/output-data\/thomas\/[^/]+\/$/);
    await page.goto(base + "/ui/#/workflows/sleepy");
    await page.waitForSelector("#start-run", { timeout: T });
    await page.click("#start-run");
    await page.waitForURL(/#\/runs\/[^/]+$/, { timeout: T });
    await waitStatus(page, ["running", "queued"], T);
    expect(404, /\/output-data\/thomas\/[^/]+\/$/);
    await page.click("#cancel");
    check((await waitStatus(page, ["canceled"], T)) === "canceled", "canceled");
  });
  await page.context().close();
}

try {
  if (cfg.scenario === "airflow") await airflow();
  else await local();
} catch (e) {
  report.steps.push({ name: "harness", ok: false, error: String(e.stack || e) });
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
