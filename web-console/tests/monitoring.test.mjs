// Browser tests of the console's monitoring screens (node's test runner + playwright-core +
// Debian Chromium), against the real control plane and data-plane node that tests/run.sh
// starts, after console.test.mjs (which expects an empty console at its start).
//
// Data: the per-minute series are written into this run's database as the control plane's
// ingestion stores them (`metric_minutes` and `metric_hours` rows of migration 0009, the
// latency columns being apigw.metrics.v1.Sketch messages encoded here), so every number the
// dashboard shows is known: a stage's totals 5 hours ago, per-method series in the last
// 30 minutes (detailed metrics), nothing on a second stage. The charts read them through
// the control plane's CloudWatch API (GetMetricData, ListMetrics) like any client.
//
// Then real requests through the data-plane node to beta, which the node ships and the
// dashboard shows within a minute (its count and error rates equal to what the test saw).
//
// The journey: the dashboard of prod (tiles and four charts), the range switch (1 h shows
// the last 30 minutes only, 12 h the older hour too, 1 w the same from the hourly rows), the
// drill-down to GET /pets/{id}, the detailed-metrics hint and its one-click enabling, the
// empty state of a stage without requests; the alarms page: create with validation
// messages first (the console's, then one of the control plane's, at its field), then valid, its state (the control plane's evaluator moves it to ALARM on
// a stage whose 5XX rate is 20 %, and the test's webhook receives the notification), its
// history, and delete. axe-core checks each screen; no page or console error is allowed.
// Screenshots land in web-console/test-results/ (prefix "m").
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const CONSOLE = process.env.CONSOLE_URL ?? "http://127.0.0.1:8080";
const DP = process.env.DATA_PLANE_URL ?? "http://127.0.0.1:8081";
const DATABASE_URL = process.env.TEST_DATABASE_URL;
const USER = process.env.APIGW_ADMIN_USER ?? "admin";
const PASSWORD = process.env.APIGW_ADMIN_PASSWORD ?? "";
const SHOTS = join(dirname(fileURLToPath(import.meta.url)), "..", "test-results");
mkdirSync(SHOTS, { recursive: true });

let browser, page, hookServer, hookUrl;
const hooks = [];
const state = {};
const problems = [];
let httpErrorsExpected = false;

// ---- the sketch wire form (proto apigw.metrics.v1.Sketch), as crates/sketch bins values ----

const GAMMA = 1.01 / 0.99;
const binOf = (ms) => Math.ceil(Math.log(ms) / Math.log(GAMMA));
function varint(n) {
  const out = [];
  let v = BigInt(n);
  while (v >= 0x80n) {
    out.push(Number((v & 0x7fn) | 0x80n));
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
const zigzag = (n) => (n >= 0 ? 2 * n : -2 * n - 1);
function double(tag, x) {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return [tag, ...b];
}
/** The encoded Sketch of millisecond values (all ≥ 0.01 ms). */
function sketch(values) {
  const bins = new Map();
  for (const v of values) bins.set(binOf(v), (bins.get(binOf(v)) ?? 0) + 1);
  const idx = [...bins.keys()].sort((a, b) => a - b);
  const packedIdx = idx.flatMap((i) => varint(zigzag(i)));
  const packedCnt = idx.flatMap((i) => varint(bins.get(i)));
  const bytes = values.length
    ? [
        0x08, ...varint(values.length),
        ...double(0x11, values.reduce((a, b) => a + b, 0)),
        ...double(0x19, Math.min(...values)),
        ...double(0x21, Math.max(...values)),
        0x32, ...varint(packedIdx.length), ...packedIdx,
        0x3a, ...varint(packedCnt.length), ...packedCnt,
      ]
    : [];
  return Buffer.from(bytes).toString("hex");
}

/** One series row: a minute (or hour) of an API stage, or of one method of it. */
const row = (at, apiName, stage, resource, method, count, e4, e5, latencies, integration) => ({
  at, apiName, stage, resource, method, count, e4, e5, latency: latencies, integration,
});
const sqlText = (s) => `'${String(s).replace(/'/g, "''")}'`;
function insert(table, column, rows) {
  if (!rows.length) return "";
  const values = rows
    .map(
      (r) =>
        `(to_timestamp(${r.at}), ${sqlText(state.apiId)}, ${sqlText(r.stage)}, ${sqlText(r.resource)}, ${sqlText(r.method)}, ${sqlText(r.apiName)}, ` +
        `${r.count}, ${r.e4}, ${r.e5}, 0, 0, decode('${sketch(r.latency)}', 'hex'), decode('${sketch(r.integration)}', 'hex'))`,
    )
    .join(",\n");
  return `INSERT INTO ${table} (${column}, api_id, stage, resource, method, api_name, count, error_4xx, error_5xx, cache_hit, cache_miss, latency, integration_latency)
VALUES ${values}
ON CONFLICT (api_id, stage, resource, method, ${column}) DO UPDATE SET count = EXCLUDED.count, error_4xx = EXCLUDED.error_4xx,
  error_5xx = EXCLUDED.error_5xx, latency = EXCLUDED.latency, integration_latency = EXCLUDED.integration_latency;\n`;
}
const psql = (sql) => {
  assert.ok(DATABASE_URL, "TEST_DATABASE_URL names the run's database (tests/run.sh sets it)");
  return execFileSync("psql", [DATABASE_URL, "-v", "ON_ERROR_STOP=1", "-qtA"], { input: sql }).toString().trim();
};
/**
 * Writes minute rows into the database, and the hour rows they roll up to for the hours
 * the control plane counts as rolled up (before `metric_rollup.rolled_up_to`, where it reads
 * hours): what its ingestion and roll-up would have stored.
 */
function seed(minutes) {
  const hours = new Map();
  const rolledUpTo = Number(psql("SELECT COALESCE(extract(epoch FROM max(rolled_up_to))::bigint, 0) FROM metric_rollup;"));
  for (const m of minutes) {
    const h = Math.floor(m.at / 3600) * 3600;
    if (h + 3600 > rolledUpTo) continue;
    const key = `${h}|${m.stage}|${m.resource}|${m.method}`;
    const acc = hours.get(key) ?? row(h, m.apiName, m.stage, m.resource, m.method, 0, 0, 0, [], []);
    acc.count += m.count;
    acc.e4 += m.e4;
    acc.e5 += m.e5;
    acc.latency.push(...m.latency);
    acc.integration.push(...m.integration);
    hours.set(key, acc);
  }
  psql(insert("metric_minutes", "minute", minutes) + insert("metric_hours", "hour", [...hours.values()]));
}

// ---- browser helpers -----------------------------------------------------------------

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const a11y = { screens: [], violations: [] };
async function axeCheck(screen) {
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  a11y.screens.push(screen);
  for (const v of result.violations) {
    const where = v.nodes.slice(0, 4).map((n) => n.target.join(" ")).join(" | ");
    a11y.violations.push(`${screen} (${page.url()}): ${v.id} [${v.impact}] ${v.help}: ${where}`);
  }
}
const shot = async (name) => {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  await axeCheck(name);
};
async function expectingHttpErrors(f) {
  httpErrorsExpected = true;
  try {
    return await f();
  } finally {
    httpErrorsExpected = false;
  }
}

/** A call from the page with the console session (cookie + CSRF token), as the app makes it. */
function fromPage(method, path, body, headers = {}) {
  return page.evaluate(
    async ([method, path, body, headers]) => {
      const m = document.cookie.match(/(?:^|;\s*)apigw_csrf=([^;]*)/);
      const r = await fetch(path, {
        method,
        headers: { "content-type": "application/json", "x-csrf-token": m ? decodeURIComponent(m[1]) : "", ...headers },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    },
    [method, path, body, headers],
  );
}
async function mgmt(method, path, body) {
  const r = await fromPage(method, path, body);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
const cloudwatch = (op, input) =>
  fromPage("POST", "/", JSON.stringify(input), {
    "content-type": "application/x-amz-json-1.0",
    "x-amz-target": `GraniteServiceVersion20100801.${op}`,
  });

const tile = async (name) => (await page.getByTestId(`tile-${name}`).locator("dd").textContent()).trim();
/** Waits for the dashboard to show `requests` in its Requests tile. */
async function dashboardShows(requests) {
  await page.getByTestId("tile-count").locator("dd").filter({ hasText: new RegExp(`^${requests}$`) }).waitFor();
}
/** The four charts drew their canvas, each with at least one point. */
async function chartsDrawn() {
  for (const id of ["chart-count", "chart-errors", "chart-latency", "chart-integration"]) {
    const chart = page.getByTestId(id);
    await chart.locator("canvas").first().waitFor();
    assert.ok(Number(await chart.getAttribute("data-points")) > 0, `${id} has points`);
  }
}

before(async () => {
  hookServer = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      hooks.push({ path: req.url, headers: req.headers, body });
      res.end("ok");
    });
  });
  await new Promise((r) => hookServer.listen(0, "127.0.0.1", r));
  hookUrl = `http://127.0.0.1:${hookServer.address().port}/alarm-hook`;
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
  hookServer?.close();
});

test("sign in; an API with /pets and /pets/{id}, deployed to prod, beta and canary; its minutes in the database", async () => {
  await page.goto(`${CONSOLE}/apis`);
  await page.waitForURL(/\/signin/);
  await page.getByLabel("Username").fill(USER);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/apis$/);

  const api = await mgmt("POST", "/restapis", { name: "metrics-demo", description: "charted by the monitoring test" });
  state.apiId = api.id;
  const resources = await mgmt("GET", `/restapis/${api.id}/resources`);
  const root = resources.item.find((r) => r.path === "/");
  const pets = await mgmt("POST", `/restapis/${api.id}/resources/${root.id}`, { pathPart: "pets" });
  const pet = await mgmt("POST", `/restapis/${api.id}/resources/${pets.id}`, { pathPart: "{id}" });
  for (const [rid, verb] of [
    [pets.id, "GET"],
    [pets.id, "POST"],
    [pet.id, "GET"],
  ]) {
    await mgmt("PUT", `/restapis/${api.id}/resources/${rid}/methods/${verb}`, { authorizationType: "NONE" });
    await mgmt("PUT", `/restapis/${api.id}/resources/${rid}/methods/${verb}/integration`, {
      type: "MOCK",
      requestTemplates: { "application/json": '{"statusCode": 200}' },
    });
  }
  // GET /pets answers 200 (a method response and an integration response); the others 500.
  await mgmt("PUT", `/restapis/${api.id}/resources/${pets.id}/methods/GET/responses/200`, {});
  await mgmt("PUT", `/restapis/${api.id}/resources/${pets.id}/methods/GET/integration/responses/200`, { selectionPattern: "" });
  for (const stageName of ["prod", "beta", "canary"]) await mgmt("POST", `/restapis/${api.id}/deployments`, { stageName });

  // prod: the stage's totals 5 h ago (before detailed metrics: 60 minutes of 20 requests,
  // 30 ms each), and per-method minutes over the last 30 minutes: GET /pets/{id} 8 requests
  // a minute (one 4XX), POST /pets 2 a minute (one 5XX every third minute).
  const now = Math.floor(Date.now() / 60_000) * 60;
  state.seededAt = now;
  const minutes = [];
  for (let k = 300; k < 360; k++) {
    const lat = Array(20).fill(30);
    minutes.push(row(now - k * 60, "metrics-demo", "prod", "", "", 20, 0, 0, lat, lat.map((v) => v - 4)));
  }
  for (let k = 1; k <= 30; k++) {
    const get = [10, 12, 14, 16, 18, 20, 40, 100];
    minutes.push(row(now - k * 60, "metrics-demo", "prod", "/pets/{id}", "GET", 8, 1, 0, get, get.map((v) => v - 3)));
    const post = [50, 200];
    minutes.push(row(now - k * 60, "metrics-demo", "prod", "/pets", "POST", 2, 0, k % 3 === 0 ? 1 : 0, post, post.map((v) => v - 3)));
  }
  seed(minutes);
});

test("a stage's metrics: tiles and the four charts over the last hour", async () => {
  await page.goto(`${CONSOLE}/apis/${state.apiId}/stages/prod`);
  await page.getByRole("link", { name: "Metrics" }).click();
  await page.waitForURL(/\/stages\/prod\/metrics$/);
  // The last hour: the 30 per-method minutes (300 requests, 30 4XX, 10 5XX).
  await dashboardShows("300");
  assert.equal(await tile("4xx"), "10.0 %");
  assert.equal(await tile("5xx"), "3.3 %");
  await chartsDrawn();
  const p99 = Number((await tile("p99")).replace(" ms", ""));
  assert.ok(p99 >= 190 && p99 <= 202, `p99 of the hour ~200 ms, got ${p99}`);
  assert.equal(await page.getByRole("button", { name: "1 h" }).getAttribute("aria-pressed"), "true");
  await shot("m01-stage-metrics-1h");
});

test("the range switch: 3 h shows the same 30 minutes, 12 h and 1 w the stage's older hour too", async () => {
  await page.getByRole("button", { name: "3 h" }).click();
  await dashboardShows("300");
  assert.match(page.url(), /\?range=3h$/);
  await page.getByRole("button", { name: "12 h" }).click();
  await dashboardShows("1,500");
  await chartsDrawn();
  await shot("m02-stage-metrics-12h");
  await page.getByRole("button", { name: "1 w" }).click();
  await dashboardShows("1,500");
  await chartsDrawn();
  // The range is in the URL: a reload shows the same.
  await page.reload();
  await dashboardShows("1,500");
  assert.equal(await page.getByRole("button", { name: "1 w" }).getAttribute("aria-pressed"), "true");
  await shot("m03-stage-metrics-1w");
});

test("detailed metrics: the hint's one click turns them on; the drill-down to one method", async () => {
  const hint = page.getByTestId("detailed-metrics");
  await hint.getByText("Per-method metrics are off").waitFor();
  await hint.getByRole("button", { name: "Enable detailed metrics" }).click();
  await page.getByTestId("toast").filter({ hasText: "Detailed metrics on" }).waitFor();
  await page.getByTestId("detailed-metrics").getByText("Detailed metrics are on").waitFor();
  const stage = await mgmt("GET", `/restapis/${state.apiId}/stages/prod`);
  assert.equal(stage.methodSettings["*/*"].metricsEnabled, true);

  await page.getByRole("button", { name: "1 h" }).click();
  await dashboardShows("300");
  const select = page.getByLabel("Method");
  await page.locator("option", { hasText: "GET /pets/{id}" }).waitFor({ state: "attached" });
  await select.selectOption("GET /pets/{id}");
  await dashboardShows("240");
  assert.equal(await tile("4xx"), "12.5 %");
  assert.equal(await tile("5xx"), "0 %");
  await chartsDrawn();
  assert.match(page.url(), /method=GET/);
  await shot("m04-stage-metrics-method");
  await select.selectOption("POST /pets");
  await dashboardShows("60");
  assert.equal(await tile("5xx"), "16.7 %");
});

test("a stage without requests says so", async () => {
  await page.getByRole("navigation", { name: "Stages" }).getByRole("link", { name: "beta" }).click();
  await page.waitForURL(/\/stages\/beta\/metrics/);
  await page.getByText("No requests in this period").waitFor();
  assert.equal(await page.getByTestId("chart-count").count(), 0);
  await shot("m05-stage-metrics-empty");
});

test("real requests through the node reach the dashboard within a minute", async () => {
  // beta had no requests; the node serves GET /pets (MOCK) once the deployment reaches it.
  // Requests before that do not belong to the API; from the first answer on, every one counts.
  const url = `${DP}/restapis/${state.apiId}/beta/_user_request_/pets`;
  const statuses = [];
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const r = await fetch(url);
    await r.arrayBuffer();
    if (r.status !== 403 && r.status !== 404) {
      statuses.push(r.status);
      break;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(statuses.length, 1, "the node serves beta's GET /pets");
  for (let i = 0; i < 11; i++) {
    const r = await fetch(url, { method: i % 4 === 3 ? "POST" : "GET" });
    await r.arrayBuffer();
    statuses.push(r.status);
  }
  const rate = (lo) => (100 * statuses.filter((s) => s >= lo && s < lo + 100).length) / statuses.length;
  const pct = (v) => (v === 0 ? "0 %" : `${v < 1 ? v.toFixed(2) : v.toFixed(1)} %`);
  // Nodes ship every 10 s: refresh the dashboard until it shows them.
  const until = Date.now() + 60_000;
  let shown = "";
  while (Date.now() < until) {
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.waitForTimeout(1000);
    shown = (await page.getByTestId("tile-count").locator("dd").count()) ? await tile("count") : "";
    if (shown === String(statuses.length)) break;
  }
  assert.equal(shown, String(statuses.length), `the dashboard counts the ${statuses.length} requests served (${statuses.join(", ")})`);
  assert.equal(await tile("4xx"), pct(rate(400)));
  assert.equal(await tile("5xx"), pct(rate(500)));
  await chartsDrawn();
  await shot("m05b-stage-metrics-live");
});

test("alarms: an empty list; create with validation messages first, then valid", async () => {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Alarms" }).click();
  await page.waitForURL(/\/alarms$/);
  await page.getByText("No alarms yet").waitFor();
  await axeCheck("m06-alarms-empty");

  await page.getByRole("button", { name: "Create alarm" }).click();
  const d = page.getByRole("dialog", { name: "Create alarm" });
  await d.getByLabel("API").selectOption({ label: "metrics-demo" });
  await d.getByLabel("Stage").selectOption("canary");
  await d.getByLabel("Metric").selectOption("5XXError");
  await d.getByLabel("Statistic").selectOption("Average");
  await d.getByLabel("Threshold").fill("5");
  await d.getByLabel("Period (seconds)").fill("90");
  await d.getByLabel("Evaluation periods").fill("1");
  await d.getByLabel("Datapoints to alarm").fill("2");
  await d.getByLabel("Webhook URL").fill("ftp://hooks.example.com/x");
  await d.getByRole("button", { name: "Create alarm" }).click();
  await d.getByRole("alert").filter({ hasText: "fields need a change" }).waitFor();
  for (const msg of [/Give the alarm a name/, /rate from 0 to 1/, /multiple of 60/, /At most the number of evaluation periods/, /starts with http/]) {
    await d.getByText(msg).first().waitFor();
  }
  assert.equal(await d.getByLabel("Threshold").getAttribute("aria-invalid"), "true");
  await shot("m07-alarm-create-errors");

  await d.getByLabel("Alarm name").fill("canary-5xx");
  await d.getByLabel("Description").fill("The seeds' alarm: 5XXError Average ≥ 0.05 for one minute");
  await d.getByLabel("Threshold").fill("0.05");
  await d.getByLabel("Period (seconds)").fill("60");
  await d.getByLabel("Datapoints to alarm").fill("1");
  await d.getByLabel("Missing data").selectOption("notBreaching");
  await d.getByLabel("Webhook URL").fill(hookUrl);
  // A rule only the control plane checks: its message lands at the field it names.
  await d.getByLabel("Evaluation periods").fill("2000");
  await d.getByLabel("Datapoints to alarm").fill("1");
  await expectingHttpErrors(async () => {
    await d.getByRole("button", { name: "Create alarm" }).click();
    await d.getByText("The product of EvaluationPeriods and Period must not exceed 86400 seconds.").waitFor();
  });
  assert.equal(await d.getByLabel("Evaluation periods").getAttribute("aria-invalid"), "true");
  await axeCheck("m07b-alarm-create-server-error");
  await d.getByLabel("Evaluation periods").fill("1");
  await d.getByRole("button", { name: "Create alarm" }).click();
  await page.waitForURL(/\/alarms\/canary-5xx$/);
  await page.getByRole("heading", { name: /canary-5xx/ }).waitFor();
  assert.equal(await page.getByTestId("alarm-condition").textContent(), "5XXError Average ≥ 0.05 for 1 of 1 period of 1 min");

  const described = await cloudwatch("DescribeAlarms", { AlarmNames: ["canary-5xx"] });
  assert.equal(described.status, 200);
  const alarm = described.body.MetricAlarms[0];
  assert.equal(alarm.Threshold, 0.05);
  assert.equal(alarm.TreatMissingData, "notBreaching");
  assert.deepEqual(alarm.AlarmActions, [hookUrl]);
  assert.deepEqual(
    alarm.Dimensions.map((x) => `${x.Name}=${x.Value}`).sort(),
    ["ApiName=metrics-demo", "Stage=canary"],
  );
});

test("the alarm's state: canary fails (5XX 20 %), the evaluator moves it to ALARM, the webhook is told", async () => {
  // canary's minutes around now: 10 requests a minute, 2 of them 5XX (the next minutes
  // too, so the evaluator finds data whichever minute it evaluates).
  const now = Math.floor(Date.now() / 60_000) * 60;
  const minutes = [];
  for (let k = -5; k <= 5; k++) minutes.push(row(now + k * 60, "metrics-demo", "canary", "", "", 10, 0, 2, Array(10).fill(25), Array(10).fill(20)));
  seed(minutes);
  // The evaluator runs every minute: poll the page (its Refresh button) until the badge says so.
  const deadline = Date.now() + 150_000;
  while (Date.now() < deadline) {
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.waitForTimeout(2000);
    if ((await page.locator("h1 .state").getAttribute("data-state")) === "ALARM") break;
  }
  assert.equal(await page.locator("h1 .state").getAttribute("data-state"), "ALARM", "the evaluator set the alarm to ALARM");
  await page.getByTestId("state-reason").waitFor();
  await page.getByTestId("alarm-history").getByText(/ALARM/).first().waitFor();
  await page.getByTestId("alarm-chart").locator("canvas").first().waitFor();
  // The webhook got an SNS-style notification for the change.
  const until = Date.now() + 60_000;
  while (Date.now() < until && !hooks.some((h) => h.body.includes("canary-5xx") && h.body.includes("ALARM"))) await page.waitForTimeout(500);
  assert.ok(hooks.some((h) => h.body.includes("canary-5xx") && h.body.includes("ALARM")), `webhook notified: ${JSON.stringify(hooks)}`);
  await shot("m08-alarm-page");
});

test("alarms list: the state badge; delete", async () => {
  await page.getByRole("link", { name: "Alarms", exact: true }).first().click();
  await page.waitForURL(/\/alarms$/);
  const rowEl = page.locator('tr[data-alarm="canary-5xx"]');
  await rowEl.waitFor();
  assert.equal(await rowEl.locator(".state").getAttribute("data-state"), "ALARM");
  assert.match(await rowEl.textContent(), /metrics-demo · canary/);
  await shot("m09-alarms-list");
  await rowEl.getByRole("button", { name: "Delete alarm canary-5xx" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete alarm" });
  await confirm.getByRole("button", { name: "Delete alarm" }).click();
  await page.getByText("No alarms yet").waitFor();
  const described = await cloudwatch("DescribeAlarms", { AlarmNames: ["canary-5xx"] });
  assert.deepEqual(described.body.MetricAlarms ?? [], []);
});

test("axe-core finds no accessibility violation on the monitoring screens", () => {
  console.log(`axe-core checked ${a11y.screens.length} screens: ${a11y.screens.join(", ")}`);
  assert.deepEqual(a11y.violations, []);
});

test("the monitoring journey logged no page error and no console error", () => {
  assert.deepEqual(problems, []);
});
