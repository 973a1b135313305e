// The web app's first view (bench/run-webapp): time from opening /ui/ (with a sign-in
// link) to the runs list rendered, with a cold cache (a new browser context) and a warm
// one (a second tab of the same context), and the bytes that crossed the network.
//
// Usage: node webapp_load.mjs BASE TOKEN ROUNDS  → one JSON object on stdout.
import { createRequire } from "node:module";

// playwright-core is installed under tests/ (tests/package-lock.json).
const { chromium } = createRequire(new URL("../tests/package.json", import.meta.url))("playwright-core");

const [base, token, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg || "10");
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

// One load in a new tab of `context`: ms from navigation start to the runs table in the
// DOM (performance.now() in the page, checked every animation frame), bytes received
// (CDP encodedDataLength: headers + bodies, 0 for cache hits) and requests that hit the
// network.
async function load(context) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  let bytes = 0;
  let requests = 0;
  const fromCache = new Set();
  cdp.on("Network.requestServedFromCache", (e) => fromCache.add(e.requestId));
  cdp.on("Network.responseReceived", (e) => {
    if (!e.response.fromDiskCache && !e.response.fromMemoryCache && !fromCache.has(e.requestId)) requests++;
  });
  cdp.on("Network.loadingFinished", (e) => (bytes += e.encodedDataLength));
  await page.goto(base + "/ui/#token=" + encodeURIComponent(token), { waitUntil: "commit" });
  const handle = await page.waitForFunction(
    () => document.querySelector('#runs[data-loaded="true"] table') && performance.now(),
    null,
    { polling: "raf", timeout: 30000 }
  );
  const ms = await handle.jsonValue();
  // The app's own code parsed and run (scripts are deferred): the rest is API calls.
  const dcl = await page.evaluate(() => performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd);
  const rows = await page.locator("#runs tbody tr").count();
  await page.close();
  return { ms, dcl, bytes, requests, rows };
}

const cold = [];
const warm = [];
for (let i = 0; i < rounds; i++) {
  const context = await browser.newContext();
  cold.push(await load(context));
  warm.push(await load(context));
  await context.close();
}
await browser.close();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = (runs) => ({
  median_ms: Number(median(runs.map((r) => r.ms)).toFixed(1)),
  min_ms: Number(Math.min(...runs.map((r) => r.ms)).toFixed(1)),
  max_ms: Number(Math.max(...runs.map((r) => r.ms)).toFixed(1)),
  dom_content_loaded_median_ms: Number(median(runs.map((r) => r.dcl)).toFixed(1)),
  bytes: median(runs.map((r) => r.bytes)),
  requests: median(runs.map((r) => r.requests)),
  rows: runs[0].rows,
});
console.log(JSON.stringify({ rounds, cold: summary(cold), warm: summary(warm) }));
