// What every browser test file of the console shares (node's test runner + playwright-core +
// Debian Chromium, against the control plane and node tests/run.sh starts): the URLs and
// admin credentials from the environment, one Chromium page per file (opened before the
// file's tests, closed after), page errors and console errors collected in `problems`,
// screenshots with an axe-core check collected in `violations`, and management calls made
// from the page with its session.
import { after, before } from "node:test";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const CONSOLE = process.env.CONSOLE_URL ?? "http://127.0.0.1:8080";
export const DP = process.env.DATA_PLANE_URL ?? "http://127.0.0.1:8081";
export const USER = process.env.APIGW_ADMIN_USER ?? "admin";
export const PASSWORD = process.env.APIGW_ADMIN_PASSWORD ?? "";
export const SHOTS = join(dirname(fileURLToPath(import.meta.url)), "..", "test-results");
mkdirSync(SHOTS, { recursive: true });

/** The file's page (set once the `before` hook below has run). */
export let page;
let browser;
/** Page errors and console errors seen so far; each file asserts it is empty at the end. */
export const problems = [];
/** axe-core violations of the screens `shot` took; each file asserts it is empty. */
export const violations = [];
let httpErrorsExpected = false;

/** While true, the browser's "Failed to load resource" errors (a 4XX the test provokes on
 * purpose) are not problems. */
export function expectHttpErrors(expected) {
  httpErrorsExpected = expected;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** A full-page screenshot `{name}.png`, and an axe-core check of the screen. */
export async function shot(name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  for (const v of result.violations) violations.push(`${name}: ${v.id} [${v.impact}] ${v.help}`);
}

/** `method path` with the page's session (and its CSRF token): `{status, body}`. */
export function fromPage(method, path, body) {
  return page.evaluate(
    async ([method, path, body]) => {
      const m = document.cookie.match(/(?:^|;\s*)apigw_csrf=([^;]*)/);
      const r = await fetch(path, {
        method,
        headers: { "content-type": "application/json", "x-csrf-token": m ? decodeURIComponent(m[1]) : "" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    },
    [method, path, body],
  );
}

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (httpErrorsExpected && /Failed to load resource/.test(m.text())) return;
    problems.push(`console error at ${page.url()}: ${m.text()}`);
  });
});

after(async () => {
  await browser?.close();
});
