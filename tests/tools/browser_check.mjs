// Opens a page of scigate in Debian's chromium (playwright-core) and reports, as one JSON
// object on stdout, what a test needs to judge it: whether MapLibre loaded and drew its
// canvas, every console error and uncaught exception (CSP violations are console errors),
// the responses of the page's requests, and optionally what clicking the map shows.
//
// Usage: node browser_check.mjs URL [--tiles N] [--click] [--timeout MS]
//   --tiles N  wait until N tile responses (/cog/tiles/) arrived
//   --click    click the middle of the map and wait for the popup's text
import { chromium } from "playwright-core";

const args = process.argv.slice(2);
const url = args[0];
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : args[i + 1];
};
const wantTiles = Number(option("--tiles", "0"));
const click = args.includes("--click");
const timeout = Number(option("--timeout", "30000"));

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         // MapLibre needs WebGL: without a GPU, chromium's software renderer provides it.
         "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
});
const result = { url, consoleErrors: [], pageErrors: [], responses: [], failed: [] };
try {
  const page = await browser.newPage();
  page.on("console", (msg) => {
    if (msg.type() === "error") result.consoleErrors.push(msg.text());
  });
  page.on("pageerror", (err) => result.pageErrors.push(String(err)));
  page.on("requestfailed", (req) => result.failed.push({ url: req.url(), error: req.failure()?.errorText }));
  let tiles = 0;
  let tilesArrived;
  const enoughTiles = new Promise((resolve) => (tilesArrived = resolve));
  page.on("response", (resp) => {
    const entry = { url: resp.url(), status: resp.status(), type: resp.headers()["content-type"] || "" };
    result.responses.push(entry);
    if (entry.url.includes("/cog/tiles/") && entry.status === 200 && entry.type.startsWith("image/")) {
      if (++tiles >= wantTiles) tilesArrived();
    }
  });
  const main = await page.goto(url, { waitUntil: "load", timeout });
  result.status = main.status();
  result.csp = main.headers()["content-security-policy"] || null;
  result.maplibre = await page.evaluate(() => typeof window.maplibregl !== "undefined");
  result.canvas = await page
    .waitForSelector("#map canvas.maplibregl-canvas", { timeout })
    .then(() => true)
    .catch(() => false);
  result.dataset = await page.evaluate(() => {
    const map = document.getElementById("map");
    return map ? { ...map.dataset } : null;
  });
  result.pwned = await page.evaluate(() => window.pwned === true);
  if (wantTiles > 0) {
    result.tilesLoaded = await Promise.race([
      enoughTiles.then(() => true),
      new Promise((resolve) => setTimeout(() => resolve(false), timeout)),
    ]);
    // Decoded and drawn, not only fetched: MapLibre reports the source loaded.
    result.sourceLoaded = await page
      .waitForFunction(() => window.scigateViewer?.map?.isSourceLoaded("raster"), null, { timeout })
      .then(() => true)
      .catch(() => false);
  }
  if (click) {
    const box = await page.locator("#map").boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    result.popup = await page
      .waitForSelector(".maplibregl-popup .scigate-values, .maplibregl-popup-content div + div", { timeout })
      .then(() => page.locator(".maplibregl-popup-content").innerText())
      .catch(() => null);
  }
  result.zoomLabel = await page.locator("#zoom").innerText().catch(() => null);
  result.status_text = await page.locator("#status").innerText().catch(() => null);
} catch (err) {
  result.error = String(err);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
