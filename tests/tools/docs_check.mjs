// Drives /docs (Swagger UI) in Debian's chromium (playwright-core) as a user would:
// "Authorize" with a bearer token, open GET /workflows, "Try it out", "Execute". Reports
// as one JSON object on stdout: the live response's status and body as the page shows
// them, whether the request carried the token, every console error and uncaught
// exception (CSP violations are console errors) and every failed request.
//
// Usage: node docs_check.mjs DOCS_URL TOKEN [--timeout MS]
import { chromium } from "playwright-core";

const [url, token] = process.argv.slice(2);
const i = process.argv.indexOf("--timeout");
const timeout = i < 0 ? 30000 : Number(process.argv[i + 1]);

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const result = { url, consoleErrors: [], pageErrors: [], failed: [], responses: [] };
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(timeout);
  page.on("console", (msg) => {
    if (msg.type() === "error") result.consoleErrors.push(msg.text());
  });
  page.on("pageerror", (err) => result.pageErrors.push(String(err)));
  page.on("requestfailed", (req) => result.failed.push({ url: req.url(), error: req.failure()?.errorText }));
  page.on("response", (resp) => result.responses.push({ url: resp.url(), status: resp.status() }));
  page.on("request", (req) => {
    if (new URL(req.url()).pathname === "/workflows") result.workflowsAuthorization = req.headers()["authorization"];
  });
  const main = await page.goto(url, { waitUntil: "load", timeout });
  result.status = main.status();
  result.csp = main.headers()["content-security-policy"] || null;
  result.title = await page.locator(".information-container .title").first().innerText();

  await page.locator("button.authorize").first().click();
  await page.locator(".auth-container input").first().fill(token);
  await page.locator(".auth-container button.authorize").first().click();
  await page.locator(".auth-container button.btn-done, .modal-ux button.close-modal").first().click();

  const op = page.locator('.opblock-get:has(.opblock-summary-path[data-path="/workflows"])').first();
  await op.locator(".opblock-summary").first().click();
  await op.locator("button.try-out__btn").click();
  await op.locator("button.execute").click();
  const live = op.locator(".live-responses-table tr.response .response-col_status").first();
  await live.waitFor();
  result.liveStatus = (await live.innerText()).trim();
  result.liveBody = await op.locator(".live-responses-table .response-col_description pre").first().innerText();
  result.paths = await page.locator(".opblock-summary-path").evaluateAll((els) => els.map((e) => e.dataset.path));
} catch (err) {
  result.error = String(err);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
