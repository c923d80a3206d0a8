// Browser tests of the web console (node's test runner + playwright-core + Debian Chromium),
// against a real control plane and data-plane node started by tests/run.sh.
//
// The journey of the issue: a wrong password is refused; sign in; create an API with
// /pets/{id} GET -> HTTP_PROXY to a backend started here; deploy to prod; call the invoke
// URL; change the integration and deploy again; roll back from the history. Then the
// partners story: API keys (create, copy once, import, disable, delete), a usage plan with
// throttle and quota on prod, calls with the key until 429, the usage chart and table, a
// quota grant and the CSV export. Then an API's own settings, on a second API ("orders"):
// a model (a bad schema shows the server's error), a request validator, the method
// request's validator, required query string and request model, a customised gateway
// response, API settings and the CORS helper; a MOCK GET /orders whose request template
// with a syntax error shows the server's line/column, then a method response with a header
// and model and an integration response with a header mapping and a template; deployed from
// the console, the node rejects a bad body, answers the preflight, sends the custom 403 and
// answers the MOCK GET through its templates and header mapping; a stage method throttle
// on GET /orders makes the node answer 429, and is removed again. Then protecting a third API
// ("guarded"): an authorizer of each type (the server's messages shown at the field they
// name), GET /items behind the TOKEN one (the example function of the functions host) and
// POST /items behind the Cognito one with scopes, the delete refused while in use, the Test
// panel, the node asking the function once per token until the stage's authorizer cache is
// flushed from the console, and the resource policy. Unknown deep links show "Page not found". The journey
// logs no page error and no console error outside the steps that expect an HTTP error.
// Screenshots of each main screen land in web-console/test-results/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const CONSOLE = process.env.CONSOLE_URL ?? "http://127.0.0.1:8080";
const DP = process.env.DATA_PLANE_URL ?? "http://127.0.0.1:8081";
const USER = process.env.APIGW_ADMIN_USER ?? "admin";
const PASSWORD = process.env.APIGW_ADMIN_PASSWORD ?? "";
const SHOTS = join(dirname(fileURLToPath(import.meta.url)), "..", "test-results");
mkdirSync(SHOTS, { recursive: true });

let browser, page, backend, backendUrl;
const state = {};

// Page errors and console errors of the whole journey; HTTP errors logged by the browser
// (e.g. "Failed to load resource: ... 400") are allowed only inside `expectingHttpErrors`.
const problems = [];
let httpErrorsExpected = false;
async function expectingHttpErrors(f) {
  httpErrorsExpected = true;
  try {
    return await f();
  } finally {
    httpErrorsExpected = false;
  }
}
const today = () => new Date().toISOString().slice(0, 10);

/** A backend that answers with the path it was called on. */
function startBackend() {
  return new Promise((resolve) => {
    const srv = http.createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ backend: "pets", path: req.url }));
    });
    srv.listen(0, "127.0.0.1", () => resolve(srv));
  });
}

// axe-core's accessibility rules, run on every screen the journey visits (each screenshot,
// plus a few screens without one). The script is evaluated through the DevTools protocol:
// addScriptTag would add an inline <script>, which the console's CSP (script-src 'self')
// refuses, and turning CSP off (bypassCSP) would hide the console's own CSP errors.
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

/** Polls the invoke URL until the backend's answer has `path`. */
async function expectInvoke(path, what) {
  const url = `${DP}/restapis/${state.apiId}/prod/_user_request_/pets/1`;
  const deadline = Date.now() + 15_000;
  let last;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      last = `${r.status} ${await r.text()}`;
      if (r.status === 200 && JSON.parse(last.slice(4)).path === path) return;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what}: ${url} never answered with path ${path}; last answer: ${last}`);
}

async function toast(text) {
  await page.getByTestId("toast").filter({ hasText: text }).first().waitFor();
}

async function deploy(description) {
  await page.getByRole("button", { name: "Deploy API" }).click();
  const dialog = page.getByRole("dialog", { name: "Deploy API" });
  await dialog.waitFor();
  if (!state.deployedOnce) {
    await dialog.getByLabel("Deployment stage").selectOption("[New stage]");
    await dialog.getByLabel("Stage name").fill("prod");
  } else {
    assert.equal(await dialog.getByLabel("Deployment stage").inputValue(), "prod");
  }
  await dialog.getByLabel("Deployment description").fill(description);
  await dialog.getByRole("button", { name: "Deploy", exact: true }).click();
  await toast("to prod");
  await page.waitForURL(/\/stages\/prod$/);
  state.deployedOnce = true;
}

before(async () => {
  backend = await startBackend();
  backendUrl = `http://127.0.0.1:${backend.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext({
    viewport: { width: 1366, height: 860 },
    permissions: ["clipboard-read", "clipboard-write"],
    acceptDownloads: true,
  });
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
  backend?.close();
});

/** When the APIs list marked itself ready (ms after navigation start); waits for the mark. */
async function listReadyMark() {
  await page.waitForFunction(() => performance.getEntriesByName("apis-list-ready").length > 0, null, { timeout: 5000 });
  return page.evaluate(() => performance.getEntriesByName("apis-list-ready")[0]?.startTime);
}

test("a first visit asks the server nothing about a session and logs no error", async () => {
  const sessionCalls = [];
  const onRequest = (r) => r.url().includes("/console/api/session") && sessionCalls.push(`${r.method()} ${r.url()}`);
  page.on("request", onRequest);
  await page.goto(`${CONSOLE}/apis`);
  await page.waitForURL(/\/signin\?next=%2Fapis$/);
  await page.getByRole("heading", { name: "Sign in to API Gateway" }).waitFor();
  page.off("request", onRequest);
  assert.deepEqual(sessionCalls, [], "no session probe without a session cookie");
  assert.deepEqual(problems, [], "no console error on a first visit");
  await axeCheck("00-signin");
});

test("a wrong password shows the error and does not sign in", async () => {
  await expectingHttpErrors(async () => {
    await page.getByLabel("Username").fill(USER);
    await page.getByLabel("Password").fill("not-the-password-1");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "Incorrect username or password" }).waitFor();
    assert.match(page.url(), /\/signin/);
    const me = await page.evaluate(() => fetch("/console/api/session").then((r) => r.status));
    assert.equal(me, 401, "no session after a failed sign-in");
  });
  await shot("01-signin-error");
});

test("sign in lands on the APIs list; time to interactive is measured", async () => {
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/apis$/);
  await page.getByText("No APIs yet").waitFor();
  // A fresh load of the list with the session cookie: navigation start -> list rendered.
  await page.goto(`${CONSOLE}/apis`);
  await page.getByText("No APIs yet").waitFor();
  const tti = await listReadyMark();
  assert.ok(typeof tti === "number", "the APIs list marks when it is ready");
  console.log(`time to interactive of the APIs list (empty): ${Math.round(tti)} ms`);
  await shot("02-apis-empty");
});

test("create an API with /pets/{id} GET -> HTTP_PROXY", async () => {
  await page.getByRole("button", { name: "Create API" }).first().click();
  const dialog = page.getByRole("dialog", { name: "Create API" });
  await dialog.getByLabel("Name", { exact: true }).fill("pets");
  await dialog.getByLabel("Description").fill("created in the browser test");
  await axeCheck("create-api-dialog");
  await dialog.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/\/apis\/[a-z0-9]+\/resources$/);
  state.apiId = page.url().split("/")[4];

  for (const part of ["pets", "{id}"]) {
    await page.getByRole("button", { name: "Create resource" }).click();
    const d = page.getByRole("dialog", { name: "Create resource" });
    await d.getByLabel("Resource path part").fill(part);
    await d.getByRole("button", { name: "Create resource" }).click();
    await page.waitForURL(/\/resources\/[a-z0-9]+$/);
  }
  await page.getByRole("heading", { name: "Resource /pets/{id}" }).waitFor();
  state.petResource = page.url().split("/").pop();

  // Inline validation shows the API's own message.
  await page.getByRole("button", { name: "Create method" }).first().click();
  let d = page.getByRole("dialog", { name: /Create method/ });
  await d.getByLabel("Endpoint URL").fill("not-a-url/{id}");
  await expectingHttpErrors(async () => {
    await d.getByRole("button", { name: "Create method" }).click();
    await d.getByRole("alert").waitFor();
  });
  assert.match(await d.getByRole("alert").textContent(), /uri|URL|url/i);
  await axeCheck("create-method-dialog-error");
  await d.getByLabel("Endpoint URL").fill(`${backendUrl}/v1/pets/{id}`);
  await d.getByLabel("Integration type").selectOption("HTTP_PROXY");
  await d.getByRole("button", { name: "Create method" }).click();
  await page.waitForURL(/\/methods\/GET$/);
  await page.getByTestId("four-box").waitFor();
  for (const box of ["Method request", "Integration request", "Integration response", "Method response"]) {
    await page.getByRole("region", { name: box }).waitFor();
  }
  await shot("03-method-four-boxes");
  await page.getByRole("link", { name: "/pets", exact: true }).click();
  await shot("04-resources-tree");
});

test("deploy to prod and call the invoke URL", async () => {
  await deploy("v1");
  await page.getByTestId("active-deployment").waitFor();
  // Stage variables: add one, save, and see it after a reload of the deep link.
  const vars = page.getByRole("form", { name: "Stage variables" });
  await vars.getByRole("button", { name: "Add variable" }).click();
  await vars.getByLabel("Name 1", { exact: true }).fill("backend");
  await vars.getByLabel("Value 1", { exact: true }).fill("127.0.0.1");
  await vars.getByRole("button", { name: "Save variables" }).click();
  await toast("Stage variables saved");
  // The one toast area sits in the top bar: it covers no form.
  const toastBox = await page.getByTestId("toast").boundingBox();
  const bar = await page.getByRole("banner").boundingBox();
  assert.ok(toastBox.y >= bar.y && toastBox.y + toastBox.height <= bar.y + bar.height, "the toast is inside the top bar");
  await page.reload();
  assert.equal(await page.getByRole("form", { name: "Stage variables" }).getByLabel("Value 1", { exact: true }).inputValue(), "127.0.0.1");
  await shot("05-stage-prod");
  await expectInvoke("/v1/pets/1", "after the first deployment");

  // The full invoke URLs, for this run's node, with copy buttons that work.
  await page.getByRole("button", { name: "Change the data-plane address" }).click();
  const ep = page.getByRole("dialog", { name: "Data-plane address" });
  await ep.getByLabel("Data-plane node URL").fill(DP);
  await ep.getByLabel("execute-api domain").fill(`execute-api.localhost:${new URL(DP).port}`);
  await ep.getByRole("button", { name: "Save" }).click();
  const nodeUrl = `${DP}/restapis/${state.apiId}/prod/_user_request_/`;
  assert.equal(await page.getByTestId("invoke-url-node").textContent(), nodeUrl);
  assert.equal(await page.getByTestId("invoke-url").textContent(), `http://${state.apiId}.execute-api.localhost:${new URL(DP).port}/prod/`);
  await page.getByRole("button", { name: "Copy the node invoke URL" }).click();
  await toast("Copied");
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, nodeUrl);
  const r = await fetch(`${copied}pets/1`);
  assert.equal(r.status, 200);
  assert.equal((await r.json()).path, "/v1/pets/1");
  await shot("05b-stage-invoke-urls");

  // The stage's deployed API as OpenAPI 3.0, with its integration (GetExport).
  const [exported] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "OpenAPI 3.0" }).click()]);
  assert.match(exported.suggestedFilename(), /^oas30_.*\.json$/);
  const doc = JSON.parse(readFileSync(await exported.path(), "utf8"));
  assert.equal(doc.openapi, "3.0.1");
  const getPet = doc.paths["/pets/{id}"]?.get;
  assert.ok(getPet, Object.keys(doc.paths).join(", "));
  assert.match(getPet["x-amazon-apigateway-integration"].uri, /\/v1\/pets\/\{id\}$/);
  const [swagger] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Swagger 2.0" }).click()]);
  assert.equal(JSON.parse(readFileSync(await swagger.path(), "utf8")).swagger, "2.0");
});

test("change the integration and deploy again", async () => {
  // Deep link straight to the method.
  await page.goto(`${CONSOLE}/apis/${state.apiId}/resources/${state.petResource}/methods/GET`);
  await page.getByRole("region", { name: "Integration request" }).getByRole("button", { name: "Edit" }).click();
  const form = page.getByRole("form", { name: "Integration request" });
  await form.getByLabel("Endpoint URL").fill(`${backendUrl}/v2/pets/{id}`);
  await axeCheck("method-integration-request-form");
  await form.getByRole("button", { name: "Save" }).click();
  await toast("Integration request saved");
  await page.getByRole("region", { name: "Integration request" }).getByText("/v2/pets/{id}").waitFor();
  // Not deployed yet: prod still serves v1.
  await expectInvoke("/v1/pets/1", "before redeploying");
  await deploy("v2");
  await expectInvoke("/v2/pets/1", "after the second deployment");
});

test("roll back from the deployment history", async () => {
  await page.getByRole("link", { name: "Deployments" }).click();
  await page.waitForURL(/\/deployments$/);
  const row = page.locator("tbody tr").filter({ has: page.locator("td:nth-child(2)", { hasText: /^v1$/ }) });
  const active = page.locator("tbody tr").filter({ has: page.locator("td:nth-child(2)", { hasText: /^v2$/ }) });
  await active.getByText("prod").waitFor();
  // The deployment prod already serves offers no "Make active"; times show seconds.
  assert.equal(await active.getByRole("button", { name: /^Make active: deployment / }).count(), 0);
  assert.match(await active.locator("td:nth-child(3)").textContent(), /\d:\d\d:\d\d/);
  const v2 = (await active.locator("td:nth-child(1)").textContent()).trim();
  await row.getByRole("button", { name: /^Make active: deployment / }).click();
  const dialog = page.getByRole("dialog", { name: "Make deployment active" });
  await dialog.getByText("instead of").waitFor();
  const v1 = (await row.locator("td:nth-child(1)").textContent()).trim();
  assert.match(await dialog.textContent(), new RegExp(`serve deployment ${v1}.*instead of ${v2}`));
  await shot("06-rollback-confirm");
  await dialog.getByRole("button", { name: /^Make .* active$/ }).click();
  await toast("Stage prod now serves");
  await row.getByText("prod").waitFor();
  await shot("07-deployments");
  await expectInvoke("/v1/pets/1", "after the rollback");
});

test("a {proxy+} resource can be created and deleted", async () => {
  await page.goto(`${CONSOLE}/apis/${state.apiId}/resources`);
  await page.getByRole("navigation", { name: "Resources" }).getByRole("link", { name: "/", exact: true }).click();
  await page.getByRole("button", { name: "Create resource" }).click();
  const d = page.getByRole("dialog", { name: "Create resource" });
  await d.getByLabel(/Proxy resource/).check();
  await d.getByRole("button", { name: "Create resource" }).click();
  await page.getByRole("heading", { name: "Resource /{proxy+}" }).waitFor();
  await page.getByRole("button", { name: "Delete resource" }).click();
  await page.getByRole("dialog", { name: "Delete resource" }).getByRole("button", { name: "Delete" }).click();
  await toast("Deleted /{proxy+}");
  await page.getByRole("heading", { name: "Resource /", exact: true }).waitFor();
  await page.getByRole("link", { name: "/{proxy+}" }).waitFor({ state: "detached" });
  // The deployed API is unaffected until the next deployment.
  await expectInvoke("/v1/pets/1", "after editing without deploying");
});

test("the Test panel runs the HTTP_PROXY method and a MOCK one, with the execution log", async () => {
  await page.goto(`${CONSOLE}/apis/${state.apiId}/resources/${state.petResource}/methods/GET`);
  await page.getByRole("button", { name: "Test", exact: true }).click();
  let panel = page.getByRole("region", { name: "Test the method" });
  await panel.getByLabel("id", { exact: true }).fill("7");
  await panel.getByLabel("Query string").fill("color=red");
  await panel.getByLabel("Headers").fill("X-Trace: abc");
  await panel.getByRole("button", { name: "Test", exact: true }).click();
  await panel.getByTestId("test-result").waitFor();
  assert.equal(await panel.getByTestId("test-status").textContent(), "200");
  // The undeployed integration (v2) is what runs, with the path parameter and query string.
  assert.equal(JSON.parse(await panel.getByTestId("test-body").textContent()).path, "/v2/pets/7?color=red");
  assert.match(await panel.getByTestId("test-headers").textContent(), /content-type: application\/json/);
  const log = panel.getByTestId("test-log");
  assert.ok(await log.isVisible(), "the execution log is shown");
  assert.match(await log.textContent(), /Method request headers: \{.*X-Trace=abc/);
  assert.match(await log.textContent(), new RegExp(`Endpoint request URI: ${backendUrl}/v2/pets/7\\?color=red`));
  assert.match(await log.textContent(), /Method completed with status: 200/);
  await shot("07b-method-test-http");

  // A MOCK method: created in the console, tested with a body.
  await page.goto(`${CONSOLE}/apis/${state.apiId}/resources/${state.petResource}`);
  await page.getByRole("button", { name: "Create method" }).first().click();
  const d = page.getByRole("dialog", { name: /Create method/ });
  await d.getByLabel("HTTP method", { exact: true }).selectOption("POST");
  await d.getByLabel("Integration type").selectOption("MOCK");
  await axeCheck("create-method-dialog-mock");
  await d.getByRole("button", { name: "Create method" }).click();
  await page.waitForURL(/\/methods\/POST$/);
  await page.getByRole("button", { name: "Test", exact: true }).click();
  panel = page.getByRole("region", { name: "Test the method" });
  await panel.getByLabel("id", { exact: true }).fill("8");
  await panel.getByLabel("Request body").fill('{"name": "rex"}');
  await panel.getByRole("button", { name: "Test", exact: true }).click();
  await panel.getByTestId("test-result").waitFor();
  assert.equal(await panel.getByTestId("test-status").textContent(), "200");
  assert.match(await panel.getByTestId("test-log").textContent(), /Method request body before transformations: \{"name": "rex"\}/);
  assert.match(await panel.getByTestId("test-log").textContent(), /Method completed with status: 200/);
  await shot("07c-method-test-mock");
  // A path parameter left empty is caught before the call.
  await panel.getByLabel("id", { exact: true }).fill("");
  await panel.getByRole("button", { name: "Test", exact: true }).click();
  await panel.getByText("Enter a value for the path parameter id").waitFor();
});

test("GET /pets/{id} requires an API key once deployed again", async () => {
  await page.goto(`${CONSOLE}/apis/${state.apiId}/resources/${state.petResource}/methods/GET`);
  await page.getByRole("region", { name: "Method request" }).getByRole("button", { name: "Edit" }).click();
  const form = page.getByRole("form", { name: "Method request" });
  await form.getByLabel("API key required").check();
  await form.getByRole("button", { name: "Save" }).click();
  await toast("Method request saved");
  await deploy("v3 with API keys");
  const url = `${DP}/restapis/${state.apiId}/prod/_user_request_/pets/1`;
  const deadline = Date.now() + 15_000;
  let status;
  while (Date.now() < deadline && (status = (await fetch(url)).status) !== 403) await new Promise((r) => setTimeout(r, 100));
  assert.equal(status, 403, "without a key the method answers 403");
});

test("API keys: create (generated value shown once, copied), given value, import CSV, disable, delete, search", async () => {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API keys" }).click();
  await page.waitForURL(/\/api-keys$/);
  await page.getByText("No API keys yet").waitFor();

  await page.getByRole("button", { name: "Create API key" }).click();
  let d = page.getByRole("dialog", { name: "Create API key" });
  await d.getByLabel("Name").fill("partner-a");
  await d.getByLabel("Customer ID").fill("cust-42");
  await d.getByRole("button", { name: "Create" }).click();
  d = page.getByRole("dialog", { name: "API key created" });
  state.keyValue = (await d.getByTestId("new-api-key-value").textContent()).trim();
  assert.ok(state.keyValue.length >= 20, `a generated value: ${state.keyValue}`);
  await d.getByRole("button", { name: "Copy the API key value" }).click();
  await toast("Copied");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), state.keyValue);
  await shot("12-api-key-created");
  await d.getByRole("button", { name: "Done" }).click();
  const rowA = page.getByRole("row").filter({ hasText: "partner-a" });
  await rowA.getByRole("cell", { name: "Enabled", exact: true }).waitFor();
  state.keyId = (await rowA.locator("td:nth-child(2)").textContent()).trim();
  // The value is never shown again.
  assert.equal(await page.getByText(state.keyValue).count(), 0);

  await page.getByRole("button", { name: "Create API key" }).click();
  d = page.getByRole("dialog", { name: "Create API key" });
  await d.getByLabel("Name").fill("partner-b");
  await d.getByLabel("Enter a value").check();
  await d.getByLabel("Value", { exact: true }).fill("partner-b-given-value-0123456789");
  await d.getByRole("button", { name: "Create" }).click();
  d = page.getByRole("dialog", { name: "API key created" });
  assert.equal((await d.getByTestId("new-api-key-value").textContent()).trim(), "partner-b-given-value-0123456789");
  await d.getByRole("button", { name: "Done" }).click();

  await page.getByRole("button", { name: "Import API keys" }).click();
  d = page.getByRole("dialog", { name: "Import API keys" });
  await d.getByLabel("CSV content").fill("Name,Key,Enabled\nimported-1,imported-value-0123456789abc,false\n");
  await shot("12b-api-keys-import");
  await d.getByRole("button", { name: "Import" }).click();
  await d.getByText("Imported 1 API key.").waitFor();
  await d.getByRole("button", { name: "Done" }).click();
  await page.getByRole("row").filter({ hasText: "imported-1" }).getByRole("cell", { name: "Disabled", exact: true }).waitFor();

  await page.getByRole("button", { name: "Disable API key partner-b" }).click();
  await toast("API key partner-b disabled");
  await page.getByRole("row").filter({ hasText: "partner-b" }).getByRole("cell", { name: "Disabled", exact: true }).waitFor();
  await page.getByRole("button", { name: "Enable API key partner-b" }).click();
  await page.getByRole("row").filter({ hasText: "partner-b" }).getByRole("cell", { name: "Enabled", exact: true }).waitFor();

  await page.getByRole("button", { name: "Delete API key imported-1" }).click();
  await page.getByRole("dialog", { name: "Delete API key" }).getByRole("button", { name: "Delete API key" }).click();
  await toast("API key imported-1 deleted");
  await page.getByRole("row").filter({ hasText: "imported-1" }).waitFor({ state: "detached" });

  await page.getByRole("searchbox", { name: "Search API keys" }).fill("zzz");
  await page.getByText("No API key matches").waitFor();
  await page.getByRole("searchbox", { name: "Search API keys" }).fill("cust-42");
  await page.getByRole("row").filter({ hasText: "partner-a" }).waitFor();
  assert.equal(await page.getByRole("row").filter({ hasText: "partner-b" }).count(), 0);
  await page.getByRole("searchbox", { name: "Search API keys" }).fill("");
  await shot("13-api-keys");
});

test("usage plans: create with throttle, quota and a method throttle on prod; edit; add the key", async () => {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Usage plans" }).click();
  await page.waitForURL(/\/usage-plans$/);
  await page.getByText("No usage plans yet").waitFor();
  await page.getByRole("button", { name: "Create usage plan" }).click();
  const d = page.getByRole("dialog", { name: "Create usage plan" });
  await d.getByLabel("Name", { exact: true }).fill("partners");
  await d.getByLabel("Enable throttling").check();
  await d.getByLabel("Rate (requests per second)").fill("100");
  await d.getByLabel("Burst (requests)").fill("50");
  await d.getByLabel("Enable quota").check();
  await d.getByLabel("Requests per period").fill("5");
  await d.getByLabel("Period", { exact: true }).selectOption("DAY");
  await d.getByRole("button", { name: "Add API stage" }).click();
  const st = d.getByRole("group", { name: "API stage 1" });
  await st.getByLabel("API", { exact: true }).selectOption({ label: `pets (${state.apiId})` });
  await st.getByLabel("Stage", { exact: true }).locator("option", { hasText: "prod" }).waitFor({ state: "attached" });
  await st.getByLabel("Stage", { exact: true }).selectOption("prod");
  await st.getByRole("button", { name: "Add method throttle" }).click();
  await st.getByLabel("Method 1", { exact: true }).locator("option", { hasText: "/pets/{id} GET" }).waitFor({ state: "attached" });
  await st.getByLabel("Method 1", { exact: true }).selectOption({ label: "/pets/{id} GET" });
  await st.getByLabel("Rate of method 1").fill("50");
  await st.getByLabel("Burst of method 1").fill("20");
  await shot("14-usage-plan-form");
  await d.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/\/usage-plans\/[a-z0-9]+$/);
  state.planId = page.url().split("/").pop();
  assert.equal(await page.getByTestId("plan-throttle").textContent(), "100/s, burst 50");
  assert.equal(await page.getByTestId("plan-quota").textContent(), "5 per day");
  await page.getByText(`${state.apiId}:prod`).waitFor();
  await page.getByText("/pets/{id} GET: 50/s, burst 20").waitFor();

  // Edit: UpdateUsagePlan with only what changed.
  await page.getByRole("button", { name: "Edit usage plan" }).click();
  const e = page.getByRole("dialog", { name: "Edit usage plan" });
  await e.getByLabel("Burst (requests)").fill("40");
  await e.getByRole("group", { name: "API stage 1" }).getByLabel("Burst of method 1").fill("10");
  await e.getByRole("button", { name: "Save" }).click();
  await toast("Usage plan partners saved");
  await page.getByTestId("plan-throttle").filter({ hasText: "100/s, burst 40" }).waitFor();
  await page.getByText("/pets/{id} GET: 50/s, burst 10").waitFor();

  await page.getByRole("button", { name: "Add API key" }).click();
  const k = page.getByRole("dialog", { name: "Add API key" });
  await k.getByLabel("API key").selectOption({ label: `partner-a (${state.keyId})` });
  await k.getByRole("button", { name: "Add" }).click();
  await toast("API key partner-a added to partners");
  await page.getByTestId("plan-keys-table").getByRole("cell", { name: "partner-a", exact: true }).waitFor();
});

test("calls with the key until 429 Limit Exceeded; usage chart and table; a quota grant; the CSV export", async () => {
  const url = `${DP}/restapis/${state.apiId}/prod/_user_request_/pets/1`;
  const call = () => fetch(url, { headers: { "x-api-key": state.keyValue } });
  // The nodes learn of the new plan and key within a second.
  const deadline = Date.now() + 15_000;
  let r;
  while (Date.now() < deadline && (r = await call()).status === 403) await new Promise((res) => setTimeout(res, 100));
  assert.equal(r.status, 200, "the key is accepted once the node has the plan");
  let ok = 1;
  while ((r = await call()).status === 200 && ok < 50) ok++;
  assert.equal(r.status, 429);
  assert.equal((await r.json()).message, "Limit Exceeded");
  assert.equal(ok, 5, "the quota admits exactly its 5 requests");

  await page.reload();
  const usage = page.getByRole("table", { name: "Usage by API key" });
  const row = usage.getByRole("row").filter({ hasText: "partner-a" });
  await row.getByRole("cell", { name: "5", exact: true }).waitFor();
  await row.getByRole("cell", { name: "0 of 5" }).waitFor();
  const chart = page.getByRole("img", { name: /Requests per day/ });
  assert.match(await chart.getAttribute("aria-label"), new RegExp(`${today()} 5`));
  await shot("15-usage-plan-usage");

  // Grant two more requests for today (UpdateUsage), use one.
  await row.getByRole("button", { name: "Grant or reset quota of partner-a" }).click();
  const g = page.getByRole("dialog", { name: "Grant or reset quota" });
  await g.getByRole("button", { name: "Reset to the full quota" }).click();
  assert.equal(await g.getByLabel("Remaining requests this period").inputValue(), "5");
  await g.getByLabel("Remaining requests this period").fill("2");
  await g.getByRole("button", { name: "Save" }).click();
  await toast("partner-a has 2 requests left this day");
  await row.getByRole("cell", { name: "2 of 5" }).waitFor();
  assert.equal((await call()).status, 200, "the granted quota admits a call");
  await page.getByLabel("API key", { exact: true }).selectOption({ label: `partner-a (${state.keyId})` });
  await row.getByRole("cell", { name: "6", exact: true }).waitFor();
  await row.getByRole("cell", { name: "1 of 5" }).waitFor();
  assert.match(await chart.getAttribute("aria-label"), new RegExp(`of partner-a.*${today()} 6`));

  // The billing export.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download CSV" }).click()]);
  assert.match(download.suggestedFilename(), new RegExp(`^usage-${state.planId}-.*\\.csv$`));
  const csv = readFileSync(await download.path(), "utf8").trim().split(/\r?\n/);
  assert.equal(csv[0], "keyId,keyName,customerId,usagePlanId,day,requests");
  assert.ok(csv.includes(`${state.keyId},partner-a,cust-42,${state.planId},${today()},6`), csv.join("\n"));
});

test("an API key's page: its plans, its requests per day in each, its tags", async () => {
  await page.goto(`${CONSOLE}/api-keys`);
  await page.getByTestId("api-keys-table").getByRole("link", { name: "partner-a" }).click();
  await page.waitForURL(new RegExp(`/api-keys/${state.keyId}$`));
  await page.getByRole("heading", { name: "API key partner-a" }).waitFor();
  const table = page.getByTestId("key-usage-table");
  const row = table.getByRole("row").filter({ has: page.getByRole("link", { name: "partners" }) });
  await row.waitFor();
  // The requests this key made in the plan (the 429 run above): the same figure GetUsage gives.
  const d = new Date().toISOString().slice(0, 10);
  const usage = await page.evaluate((p) => fetch(p).then((r) => r.json()), `/usageplans/${state.planId}/usage?startDate=${d}&endDate=${d}&keyId=${state.keyId}`);
  const used = usage.values[state.keyId][0][0];
  assert.ok(used > 0);
  assert.equal(await row.getByRole("cell").nth(1).textContent(), String(used));
  await page.getByTestId("usage-chart").waitFor();
  await page.getByRole("form", { name: "API key tags" }).waitFor();
  await axeCheck("api-key-page");
  await shot("12b-api-key-page");
  // Back to the plan, where the journey goes on.
  await row.getByRole("link", { name: "partners" }).click();
  await page.getByRole("button", { name: "Edit usage plan" }).waitFor();
});

test("usage plans: remove a method throttle and the key; the key is refused", async () => {
  await page.getByRole("button", { name: "Edit usage plan" }).click();
  const e = page.getByRole("dialog", { name: "Edit usage plan" });
  await e.getByRole("group", { name: "API stage 1" }).getByRole("button", { name: "Remove method 1" }).click();
  await e.getByRole("button", { name: "Save" }).click();
  await toast("Usage plan partners saved");
  await page.getByText("/pets/{id} GET: 50/s").waitFor({ state: "detached" });
  await page.getByText(`${state.apiId}:prod`).waitFor();

  await page.getByRole("button", { name: "Remove API key partner-a from the plan" }).click();
  await page.getByRole("dialog", { name: "Remove API key" }).getByRole("button", { name: "Remove API key" }).click();
  await toast("API key partner-a removed from partners");
  await page.getByText("No API keys in this plan").waitFor();
  const url = `${DP}/restapis/${state.apiId}/prod/_user_request_/pets/1`;
  const deadline = Date.now() + 15_000;
  let status;
  while (Date.now() < deadline && (status = (await fetch(url, { headers: { "x-api-key": state.keyValue } })).status) !== 403)
    await new Promise((r) => setTimeout(r, 100));
  assert.equal(status, 403, "a key in no plan of the stage is refused");
});

test("unknown deep links show Page not found, from the server and in the app", async () => {
  // Typed into the address bar: the console's own routes load, unknown ones say so (404).
  for (const [path, heading] of [
    ["/api-keys", "API keys"],
    ["/usage-plans", "Usage plans"],
    [`/usage-plans/${state.planId}`, "partners"],
  ]) {
    const resp = await page.goto(`${CONSOLE}${path}`);
    assert.equal(resp.status(), 200, path);
    await page.getByRole("heading", { name: heading, level: 1 }).waitFor();
    if (path === "/usage-plans") {
      await page.getByRole("link", { name: "partners" }).waitFor();
      await shot("14b-usage-plans-list");
    }
  }
  await expectingHttpErrors(async () => {
    for (const path of ["/nope", "/api-keys-typo/deep/link", "/restapis-not"]) {
      const resp = await page.goto(`${CONSOLE}${path}`);
      assert.equal(resp.status(), 404, path);
      await page.getByRole("heading", { name: "Page not found" }).waitFor();
    }
  });
  await shot("16-page-not-found");
  // Client-side: unknown screens under known areas.
  for (const path of [`/apis/${state.apiId}/authorizers/x/y`, `/apis/${state.apiId}/stages/prod/extra`, "/settings/nope", `/usage-plans/${state.planId}/nope`, "/api-keys/x/y"]) {
    await page.goto(`${CONSOLE}${path}`);
    await page.getByRole("heading", { name: "Page not found" }).waitFor();
  }
  // SDK-style calls (no HTML wanted) still get the management API's errors.
  const r = await fetch(`${CONSOLE}/nope`);
  assert.equal(r.status, 403);
  assert.ok(r.headers.get("x-amzn-errortype"));
});

test("settings screens: account, access keys, users", async () => {
  await page.goto(`${CONSOLE}/settings/account`);
  await page.getByRole("heading", { name: "Account-level throttling" }).waitFor();
  await shot("08-settings-account");
  await page.getByRole("link", { name: "My access keys" }).click();
  await page.getByRole("button", { name: "Create access key" }).click();
  await page.getByTestId("new-key-secret").waitFor();
  assert.equal((await page.getByTestId("new-key-secret").textContent()).length, 40);
  await shot("09-access-key-created");
  await page.getByRole("button", { name: "Done" }).click();
  await page.getByRole("link", { name: "Users" }).click();
  await page.getByRole("cell", { name: USER, exact: true }).waitFor();
  await shot("10-users");
});

/** Signs in from node (not the browser); answers the status and body. */
async function signInFromNode(username, password) {
  const r = await fetch(`${CONSOLE}/console/api/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password, mode: "bearer" }),
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}

test("users: a user locked out by failed sign-ins is unlocked with the Unlock button", async () => {
  const admin = await signInFromNode(USER, PASSWORD);
  assert.equal(admin.status, 200);
  const created = await fetch(`${CONSOLE}/console/api/users`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${admin.body.token}` },
    body: JSON.stringify({ username: "locked-out", password: "locked-out-password-1" }),
  });
  assert.equal(created.status, 201);
  for (let i = 0; i < 5; i++) assert.equal((await signInFromNode("locked-out", "wrong-password-123")).status, 401);
  assert.equal((await signInFromNode("locked-out", "locked-out-password-1")).status, 429, "locked: even the right password is refused");
  await page.goto(`${CONSOLE}/settings/users`);
  const row = page.getByRole("row").filter({ hasText: "locked-out" });
  await row.getByText("Sign-in locked").waitFor();
  await shot("10b-users-locked");
  await row.getByRole("button", { name: "Unlock locked-out" }).click();
  await toast("locked-out can sign in again");
  await row.getByText("Sign-in locked").waitFor({ state: "detached" });
  assert.equal(await row.getByRole("button", { name: /Unlock/ }).count(), 0);
  assert.equal((await signInFromNode("locked-out", "locked-out-password-1")).status, 200);
});

// ---- An API's own settings: models, request validators, gateway responses, CORS, settings.
// A second API ("orders") keeps these apart from the pets journey: POST /orders ->
// HTTP_PROXY, validated against a model created here; deployed to its own stage "live".

const ordersUrl = (path = "/orders") => `${DP}/restapis/${state.ordersId}/live/_user_request_${path}`;

/** Polls the node until `check(response)` holds (a deployment reaches it within a second or so). */
async function untilNode(what, request, check) {
  const deadline = Date.now() + 15_000;
  let last;
  while (Date.now() < deadline) {
    try {
      const r = await request();
      const body = await r.text();
      last = `${r.status} ${body}`;
      if (check(r, body)) return { r, body };
    } catch (e) {
      last = String(e);
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.fail(`${what}: the node never answered as expected; last answer: ${last}`);
}

async function apiTab(name) {
  await page.getByRole("navigation", { name: "API sections" }).getByRole("link", { name, exact: true }).click();
}

test("models: create with a bad schema shows the server's error; fix, edit and delete", async () => {
  await page.goto(`${CONSOLE}/apis`);
  await page.getByRole("button", { name: "Create API" }).first().click();
  const dialog = page.getByRole("dialog", { name: "Create API" });
  await dialog.getByLabel("Name", { exact: true }).fill("orders");
  await dialog.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/\/apis\/[a-z0-9]+\/resources$/);
  state.ordersId = page.url().split("/")[4];

  await apiTab("Models");
  await page.waitForURL(/\/models$/);
  // Every API starts with AWS's two models, Empty and Error.
  await page.getByRole("table", { name: "Models" }).getByRole("cell", { name: "Empty", exact: true }).waitFor();
  await page.getByRole("button", { name: "Create model" }).click();
  let d = page.getByRole("dialog", { name: "Create model" });
  await d.getByLabel("Model name").fill("Order");
  assert.equal(await d.getByLabel("Content type").inputValue(), "application/json");
  // Valid JSON, but not a draft-04 schema: the control plane's message is shown.
  await d.getByLabel("Schema (JSON Schema draft-04)").fill('{"type": "order"}');
  await expectingHttpErrors(async () => {
    await d.getByRole("button", { name: "Create model" }).click();
    await d.getByRole("alert").filter({ hasText: "Invalid model schema specified" }).waitFor();
  });
  await axeCheck("model-dialog-error");
  await page.screenshot({ path: join(SHOTS, "20-model-schema-error.png"), fullPage: true });
  // Not even JSON: said at once, beside the editor.
  await d.getByLabel("Schema (JSON Schema draft-04)").fill('{"type": ');
  await d.getByText("Not valid JSON").waitFor();
  const schema = {
    $schema: "http://json-schema.org/draft-04/schema#",
    title: "Order",
    type: "object",
    required: ["item", "quantity"],
    properties: { item: { type: "string" }, quantity: { type: "integer", minimum: 1 } },
  };
  await d.getByLabel("Schema (JSON Schema draft-04)").fill(JSON.stringify(schema, null, 2));
  await d.getByRole("button", { name: "Create model" }).click();
  await toast("Model Order saved");
  const table = page.getByRole("table", { name: "Models" });
  await table.getByRole("row").filter({ hasText: "Order" }).getByRole("cell", { name: "application/json", exact: true }).waitFor();

  // A second model, edited then deleted.
  await page.getByRole("button", { name: "Create model" }).click();
  d = page.getByRole("dialog", { name: "Create model" });
  await d.getByLabel("Model name").fill("Scratch");
  await d.getByRole("button", { name: "Create model" }).click();
  await toast("Model Scratch saved");
  await table.getByRole("button", { name: "Edit model Scratch" }).click();
  d = page.getByRole("dialog", { name: "Edit model Scratch" });
  await d.getByLabel("Description").fill("to be deleted");
  await d.getByRole("button", { name: "Save" }).click();
  await toast("Model Scratch saved");
  await table.getByRole("cell", { name: "to be deleted", exact: true }).waitFor();
  await shot("20-models");
  await table.getByRole("button", { name: "Delete model Scratch" }).click();
  await page.getByRole("dialog", { name: "Delete model" }).getByRole("button", { name: "Delete model" }).click();
  await toast("Model Scratch deleted");
  await table.getByRole("cell", { name: "Scratch", exact: true }).waitFor({ state: "detached" });
});

test("request validators: create, rename, delete", async () => {
  await apiTab("Request validators");
  await page.waitForURL(/\/validators$/);
  await page.getByText("No request validators yet").waitFor();
  for (const [name, body, params] of [
    ["body-and-params", true, true],
    ["spare", false, true],
  ]) {
    await page.getByRole("button", { name: "Create request validator" }).click();
    const d = page.getByRole("dialog", { name: "Create request validator" });
    await d.getByLabel("Validator name").fill(name);
    if (body) await d.getByLabel("Validate request body").check();
    if (params) await d.getByLabel("Validate query string parameters and headers").check();
    if (name === "spare") await axeCheck("validator-dialog");
    await d.getByRole("button", { name: "Create request validator" }).click();
    await toast(`Request validator ${name} saved`);
  }
  const table = page.getByRole("table", { name: "Request validators" });
  const row = table.getByRole("row").filter({ hasText: "body-and-params" });
  assert.deepEqual(
    (await row.getByRole("cell").allTextContents()).slice(2, 4),
    ["Yes", "Yes"],
  );
  await table.getByRole("button", { name: "Edit validator spare" }).click();
  const e = page.getByRole("dialog", { name: "Edit request validator" });
  await e.getByLabel("Validator name").fill("params-only");
  await e.getByRole("button", { name: "Save" }).click();
  await toast("Request validator params-only saved");
  await table.getByRole("cell", { name: "params-only", exact: true }).waitFor();
  await shot("21-request-validators");
  await table.getByRole("button", { name: "Delete validator params-only" }).click();
  await page.getByRole("dialog", { name: "Delete request validator" }).getByRole("button", { name: "Delete request validator" }).click();
  await toast("Request validator params-only deleted");
  await table.getByRole("cell", { name: "params-only", exact: true }).waitFor({ state: "detached" });
});

test("method request: validator, required query string and header, request model", async () => {
  await apiTab("Resources");
  await page.getByRole("button", { name: "Create resource" }).click();
  const r = page.getByRole("dialog", { name: "Create resource" });
  await r.getByLabel("Resource path part").fill("orders");
  await r.getByRole("button", { name: "Create resource" }).click();
  await page.getByRole("heading", { name: "Resource /orders" }).waitFor();
  state.ordersResource = page.url().split("/").pop();
  await page.getByRole("button", { name: "Create method" }).first().click();
  const d = page.getByRole("dialog", { name: /Create method/ });
  await d.getByLabel("HTTP method", { exact: true }).selectOption("POST");
  await d.getByLabel("Endpoint URL").fill(`${backendUrl}/orders`);
  await d.getByLabel("Endpoint HTTP method").selectOption("POST");
  await d.getByRole("button", { name: "Create method" }).click();
  await page.waitForURL(/\/methods\/POST$/);

  await page.getByRole("region", { name: "Method request" }).getByRole("button", { name: "Edit" }).click();
  const form = page.getByRole("form", { name: "Method request" });
  await form.getByLabel("Request validator").locator("option", { hasText: "body-and-params" }).waitFor({ state: "attached" });
  await form.getByLabel("Request validator").selectOption({ label: "body-and-params" });
  await form.getByRole("button", { name: "Add query string" }).click();
  await form.getByLabel("Query string 1 name").fill("store");
  await form.getByRole("checkbox", { name: "Required (query string 1)" }).check();
  await form.getByRole("button", { name: "Add header" }).click();
  await form.getByLabel("Header 1 name").fill("x-trace");
  await form.getByRole("button", { name: "Add model" }).click();
  await form.getByLabel("Content type 1", { exact: true }).fill("application/json");
  await form.getByLabel("Model 1", { exact: true }).selectOption("Order");
  await shot("22-method-request-validation");
  await form.getByRole("button", { name: "Save" }).click();
  await toast("Method request saved");
  const box = page.getByRole("region", { name: "Method request" });
  await box.getByText("application/json → Order").waitFor();
  await box.getByText("method.request.querystring.store").waitFor();
  const m = await page.evaluate((p) => fetch(p).then((r) => r.json()), `/restapis/${state.ordersId}/resources/${state.ordersResource}/methods/POST`);
  assert.deepEqual(m.requestParameters, { "method.request.querystring.store": true, "method.request.header.x-trace": false });
  assert.deepEqual(m.requestModels, { "application/json": "Order" });
  assert.ok(m.requestValidatorId);
});

test("gateway responses: every type listed; customise MISSING_AUTHENTICATION_TOKEN; reset another", async () => {
  await apiTab("Gateway responses");
  await page.waitForURL(/\/gateway-responses$/);
  const table = page.getByRole("table", { name: "Gateway responses" });
  for (const t of ["ACCESS_DENIED", "BAD_REQUEST_BODY", "DEFAULT_4XX", "DEFAULT_5XX", "MISSING_AUTHENTICATION_TOKEN", "THROTTLED"])
    await table.getByRole("cell", { name: t, exact: true }).waitFor();
  await table.getByRole("button", { name: "Edit MISSING_AUTHENTICATION_TOKEN" }).click();
  let d = page.getByRole("dialog", { name: "Edit MISSING_AUTHENTICATION_TOKEN" });
  assert.equal(await d.getByLabel("Status code").inputValue(), "403");
  await d.getByRole("button", { name: "Add header" }).click();
  await d.getByLabel("Header name 1", { exact: true }).fill("Access-Control-Allow-Origin");
  await d.getByLabel("Header value 1", { exact: true }).fill("'*'");
  await d.getByRole("button", { name: "Add template" }).click();
  await d.getByLabel("Content type 1", { exact: true }).fill("application/json");
  await d.getByLabel("Template 1", { exact: true }).fill('{"message": "no such route", "id": "$context.requestId"}');
  await axeCheck("gateway-response-dialog");
  await page.screenshot({ path: join(SHOTS, "23-gateway-response-edit.png"), fullPage: true });
  await d.getByRole("button", { name: "Save" }).click();
  await toast("MISSING_AUTHENTICATION_TOKEN saved");
  const row = table.getByRole("row").filter({ hasText: "MISSING_AUTHENTICATION_TOKEN" });
  await row.getByRole("cell", { name: "Access-Control-Allow-Origin", exact: true }).waitFor();

  // Customise THROTTLED's status, then reset it to the default.
  await table.getByRole("button", { name: "Edit THROTTLED" }).click();
  d = page.getByRole("dialog", { name: "Edit THROTTLED" });
  await d.getByLabel("Status code").fill("503");
  await d.getByRole("button", { name: "Save" }).click();
  await toast("THROTTLED saved");
  const throttled = table.getByRole("row").filter({ hasText: "THROTTLED" });
  await throttled.getByRole("cell", { name: "503", exact: true }).waitFor();
  await shot("23-gateway-responses");
  await throttled.getByRole("button", { name: "Reset to default: THROTTLED" }).click();
  await page.getByRole("dialog", { name: "Reset gateway response" }).getByRole("button", { name: "Reset to default" }).click();
  await toast("THROTTLED reset to default");
  await throttled.getByRole("cell", { name: "429", exact: true }).waitFor();
  await throttled.getByRole("cell", { name: "No (default)", exact: true }).waitFor();
});

test("API settings: name, description, API key source and binary media types", async () => {
  await apiTab("API settings");
  const form = page.getByRole("form", { name: "API settings" });
  await form.getByLabel("Description").fill("orders, validated");
  await form.getByLabel("API key source").selectOption("AUTHORIZER");
  for (const t of ["image/png", "application/octet-stream"]) {
    await form.getByLabel("Binary media type", { exact: true }).fill(t);
    await form.getByRole("button", { name: "Add binary media type" }).click();
  }
  await form.getByRole("button", { name: "Remove binary media type application/octet-stream" }).click();
  await shot("24-api-settings");
  await form.getByRole("button", { name: "Save settings" }).click();
  await toast("API settings saved");
  await page.getByText("orders, validated").first().waitFor();
  let api = await page.evaluate((p) => fetch(p).then((r) => r.json()), `/restapis/${state.ordersId}`);
  assert.equal(api.description, "orders, validated");
  assert.equal(api.apiKeySource, "AUTHORIZER");
  assert.deepEqual(api.binaryMediaTypes, ["image/png"]);
  // And back to HEADER, after a reload of the deep link.
  await page.reload();
  await form.getByLabel("API key source").selectOption("HEADER");
  await form.getByRole("button", { name: "Save settings" }).click();
  await toast("API settings saved");
  api = await page.evaluate((p) => fetch(p).then((r) => r.json()), `/restapis/${state.ordersId}`);
  assert.equal(api.apiKeySource, "HEADER");
  assert.deepEqual(api.binaryMediaTypes, ["image/png"]);
});

test("CORS helper: Enable CORS on /orders adds an OPTIONS method", async () => {
  await page.goto(`${CONSOLE}/apis/${state.ordersId}/resources/${state.ordersResource}`);
  await page.getByRole("button", { name: "Enable CORS" }).click();
  const d = page.getByRole("dialog", { name: "Enable CORS" });
  assert.equal(await d.getByLabel("Access-Control-Allow-Origin").inputValue(), "*");
  assert.ok(await d.getByRole("checkbox", { name: "POST" }).isChecked());
  assert.ok(await d.getByRole("checkbox", { name: "OPTIONS" }).isChecked());
  await shot("25-enable-cors");
  await d.getByRole("button", { name: "Enable CORS" }).click();
  await toast("CORS enabled on /orders");
  await page.getByRole("navigation", { name: "Resources" }).getByRole("link", { name: "OPTIONS" }).click();
  await page.waitForURL(/\/methods\/OPTIONS$/);
  await page.getByRole("region", { name: "Integration request" }).getByText("Type: MOCK").waitFor();
});

test("integration request: a template with a syntax error shows the server's line and column; fixed, it saves", async () => {
  await page.goto(`${CONSOLE}/apis/${state.ordersId}/resources/${state.ordersResource}`);
  await page.getByRole("button", { name: "Create method" }).first().click();
  const d = page.getByRole("dialog", { name: /Create method/ });
  await d.getByLabel("HTTP method", { exact: true }).selectOption("GET");
  await d.getByLabel("Integration type").selectOption("MOCK");
  await d.getByRole("button", { name: "Create method" }).click();
  await page.waitForURL(/\/methods\/GET$/);

  await page.getByRole("region", { name: "Integration request" }).getByRole("button", { name: "Edit" }).click();
  const form = page.getByRole("form", { name: "Integration request" });
  for (const t of ["MOCK", "HTTP", "HTTP_PROXY", "AWS", "AWS_PROXY"]) await form.getByLabel("Integration type").locator("option", { hasText: new RegExp(`^${t}$`) }).waitFor({ state: "attached" });
  await form.getByLabel("Content handling").selectOption("CONVERT_TO_TEXT");
  // A MOCK method made by the console starts with the application/json template {"statusCode": 200}.
  assert.equal(await form.getByLabel("Content type 1", { exact: true }).inputValue(), "application/json");
  const editor = form.getByLabel("Template for application/json");
  assert.equal(await editor.inputValue(), '{"statusCode": 200}');
  await editor.fill('{"statusCode": 200}\n  #if($ok)\n');
  await expectingHttpErrors(async () => {
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByTestId("template-error").waitFor();
  });
  const err = await form.getByTestId("template-error").textContent();
  assert.match(err, /Line 2, column 3/);
  assert.match(err, /line 2, column 3/);
  assert.match(err, /#if/);
  assert.equal(await editor.getAttribute("aria-invalid"), "true");
  // The position is marked: the caret sits on line 2, column 3 and the line is quoted with a caret under it.
  assert.equal(await editor.evaluate((el) => el.selectionStart), '{"statusCode": 200}\n  '.length);
  await form.getByRole("group", { name: /Mapping templates/ }).getByRole("figure", { name: "Line 2 of the template, column 3 marked" }).waitFor();
  await shot("26-integration-request-template-error");

  await editor.fill('{"statusCode": 200}');
  // A request parameter mapping from a literal.
  await form.getByRole("button", { name: "Add parameter mapping" }).click();
  await form.getByLabel("Target 1", { exact: true }).fill("integration.request.header.x-source");
  await form.getByLabel("Source 1", { exact: true }).fill("'console'");
  await form.getByRole("button", { name: "Save" }).click();
  await toast("Integration request saved");
  const box = page.getByRole("region", { name: "Integration request" });
  await box.getByText("Content handling: CONVERT_TO_TEXT").waitFor();
  await box.getByText("Mapping templates: application/json").waitFor();
  const m = await page.evaluate((p) => fetch(p).then((r) => r.json()), `/restapis/${state.ordersId}/resources/${state.ordersResource}/methods/GET`);
  assert.deepEqual(m.methodIntegration.requestTemplates, { "application/json": '{"statusCode": 200}' });
  assert.deepEqual(m.methodIntegration.requestParameters, { "integration.request.header.x-source": "'console'" });
  assert.equal(m.methodIntegration.contentHandling, "CONVERT_TO_TEXT");
});

test("method response with a header and model; integration response with a header mapping and a template", async () => {
  await page.getByRole("region", { name: "Method response" }).getByRole("button", { name: "Edit" }).click();
  let form = page.getByRole("form", { name: "Method response" });
  await form.getByRole("button", { name: "Edit method response 200" }).click();
  assert.equal(await form.getByLabel("Status code (new, or one listed to change it)").inputValue(), "200");
  await form.getByRole("button", { name: "Add response header" }).click();
  await form.getByLabel("Header 1", { exact: true }).fill("X-Mock");
  await form.getByLabel("Required 1", { exact: true }).fill("false");
  await form.getByRole("button", { name: "Add response model" }).click();
  await form.getByLabel("Response model 1", { exact: true }).selectOption("Order");
  await shot("27-method-response");
  await form.getByRole("button", { name: "Save" }).click();
  await toast("Method response 200 saved");
  await form.getByRole("cell", { name: "application/json → Order" }).waitFor();
  // A second status, added and deleted.
  await form.getByLabel("Status code (new, or one listed to change it)").fill("404");
  await form.getByRole("button", { name: "Save" }).click();
  await toast("Method response 404 saved");
  await form.getByRole("button", { name: "Delete method response 404" }).click();
  await toast("Method response 404 deleted");

  await page.getByRole("region", { name: "Integration response" }).getByRole("button", { name: "Edit" }).click();
  form = page.getByRole("form", { name: "Integration response" });
  assert.equal(await form.getByLabel("Method response status").inputValue(), "200");
  await form.getByRole("button", { name: "Add header mapping" }).click();
  await form.getByLabel("Response header 1", { exact: true }).fill("method.response.header.X-Mock");
  await form.getByLabel("Value 1", { exact: true }).fill("'from-console'");
  await form.getByRole("button", { name: "Add mapping template" }).click();
  await form.getByLabel("Template for application/json").fill('#set($word = "mapped")\n{"result": "$word"}');
  await shot("28-integration-response");
  await form.getByRole("button", { name: "Save" }).click();
  await toast("Integration response 200 saved");
  const m = await page.evaluate((p) => fetch(p).then((r) => r.json()), `/restapis/${state.ordersId}/resources/${state.ordersResource}/methods/GET`);
  assert.deepEqual(m.methodResponses["200"].responseParameters, { "method.response.header.X-Mock": false });
  assert.deepEqual(m.methodResponses["200"].responseModels, { "application/json": "Order" });
  assert.equal(m.methodResponses["404"], undefined);
  assert.deepEqual(m.methodIntegration.integrationResponses["200"].responseParameters, { "method.response.header.X-Mock": "'from-console'" });
});

test("deployed from the console, the node rejects a bad body, answers the preflight and shows the custom 403", async () => {
  await page.getByRole("button", { name: "Deploy API" }).click();
  const dialog = page.getByRole("dialog", { name: "Deploy API" });
  await dialog.getByLabel("Deployment stage").selectOption("[New stage]");
  await dialog.getByLabel("Stage name").fill("live");
  await dialog.getByRole("button", { name: "Deploy", exact: true }).click();
  await toast("to live");
  await page.waitForURL(/\/stages\/live$/);

  const post = (body, query = "?store=berlin") =>
    fetch(ordersUrl(`/orders${query}`), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  // A good order reaches the backend.
  const ok = await untilNode("a valid order", () => post({ item: "tea", quantity: 2 }), (r) => r.status === 200);
  assert.match(JSON.parse(ok.body).path, /^\/orders/);
  // The model rejects a bad body; the validator also wants the required query string.
  let r = await post({ item: "tea", quantity: 0 });
  assert.equal(r.status, 400);
  assert.equal((await r.json()).message, "Invalid request body");
  r = await post({ item: "tea" });
  assert.equal(r.status, 400);
  r = await post({ item: "tea", quantity: 1 }, "");
  assert.equal(r.status, 400);
  assert.match((await r.json()).message, /Missing required request parameters: \[store\]/);

  // The preflight, answered by the OPTIONS method the CORS helper made.
  r = await fetch(ordersUrl(), { method: "OPTIONS", headers: { origin: "https://shop.example", "access-control-request-method": "POST" } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("access-control-allow-origin"), "*");
  assert.match(r.headers.get("access-control-allow-methods"), /POST/);
  assert.match(r.headers.get("access-control-allow-headers"), /Content-Type/);

  // An unknown route: MISSING_AUTHENTICATION_TOKEN as customised in the console.
  r = await fetch(ordersUrl("/nowhere"));
  assert.equal(r.status, 403);
  assert.equal(r.headers.get("access-control-allow-origin"), "*");
  const body = await r.json();
  assert.equal(body.message, "no such route");
  assert.ok(body.id);
});

test("deployed from the console, the MOCK method answers through its templates and header mapping", async () => {
  const { r, body } = await untilNode("the MOCK GET /orders", () => fetch(ordersUrl()), (r) => r.status === 200);
  assert.deepEqual(JSON.parse(body), { result: "mapped" });
  assert.equal(r.headers.get("x-mock"), "from-console");
});

test("stage method throttling: an override on GET /orders throttles it on the node; removed again", async () => {
  await page.goto(`${CONSOLE}/apis/${state.ordersId}/stages/live`);
  const form = page.getByRole("form", { name: "Method throttling" });
  await form.getByText("No method overrides.").waitFor();
  await form.getByLabel("Method", { exact: true }).locator("option", { hasText: "/orders GET" }).waitFor({ state: "attached" });
  await form.getByLabel("Method", { exact: true }).selectOption("/orders GET");
  await form.getByLabel("Method rate (requests/s)").fill("1");
  await form.getByLabel("Method burst").fill("1");
  await form.getByRole("button", { name: "Save method throttling" }).click();
  await toast("Throttling of /orders GET saved");
  const row = page.getByRole("form", { name: "Method throttling" }).getByRole("row", { name: /\/orders GET/ });
  await row.waitFor();
  await shot("29-stage-method-throttling");
  let stage = await page.evaluate((p) => fetch(p).then((r) => r.json()), `/restapis/${state.ordersId}/stages/live`);
  assert.equal(stage.methodSettings["orders/GET"].throttlingRateLimit, 1);
  assert.equal(stage.methodSettings["orders/GET"].throttlingBurstLimit, 1);
  // A few calls at once: the node lets one through and throttles the rest.
  await untilNode(
    "GET /orders throttled",
    async () => {
      const rs = await Promise.all([1, 2, 3, 4].map(() => fetch(ordersUrl())));
      const statuses = rs.map((r) => r.status);
      await Promise.all(rs.map((r) => r.text()));
      return new Response(JSON.stringify(statuses), { status: statuses.includes(429) ? 429 : 200 });
    },
    (r) => r.status === 429,
  );
  await page.getByRole("form", { name: "Method throttling" }).getByRole("button", { name: "Remove the throttling of /orders GET" }).click();
  await toast("Throttling of /orders GET removed");
  await page.getByRole("form", { name: "Method throttling" }).getByText("No method overrides.").waitFor();
  stage = await page.evaluate((p) => fetch(p).then((r) => r.json()), `/restapis/${state.ordersId}/stages/live`);
  assert.equal(stage.methodSettings?.["orders/GET"], undefined);
});

// ---- Protecting APIs: authorizers, method authorization, the authorizer cache, resource
// policies. A third API ("guarded"): GET /items (MOCK) behind a TOKEN authorizer whose function
// is functions/examples/token-authorizer (run by the functions host tests/run.sh starts), POST
// /items behind a Cognito authorizer with scopes; deployed to its own stage "beta".

const FUNCTIONS = process.env.FUNCTIONS_URL ?? "http://127.0.0.1:9001";
const TOKEN_FN = "arn:aws:lambda:us-east-1:123456789012:function:token-authorizer";
const POOL = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Example";
const itemsUrl = () => `${DP}/restapis/${state.guardedId}/beta/_user_request_/items`;
/** How many times the functions host ran the token authorizer. */
const tokenCalls = async () => (await (await fetch(`${FUNCTIONS}/invocations`)).json())["token-authorizer"] ?? 0;
const apiGet = (path) => page.evaluate((p) => fetch(p).then((r) => r.json()), path);

test("Lambda integrations: AWS_PROXY and AWS methods created and edited in the console answer through the node", async () => {
  await page.goto(`${CONSOLE}/apis/${state.ordersId}/resources`);
  const fnArn = (name) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
  const invocation = (name) => `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${fnArn(name)}/invocations`;
  const created = {};
  for (const [part, type, fn] of [["fn-proxy", "AWS_PROXY", "proxy-echo"], ["fn-plain", "AWS", "api-lambda"]]) {
    await page.goto(`${CONSOLE}/apis/${state.ordersId}/resources`);
    await page.getByRole("button", { name: "Create resource" }).click();
    const d = page.getByRole("dialog", { name: "Create resource" });
    await d.getByLabel("Resource path part").fill(part);
    await d.getByRole("button", { name: "Create resource" }).click();
    await page.waitForURL(/\/resources\/[a-z0-9]+$/);
    created[part] = page.url().split("/").pop();
    await page.getByRole("button", { name: "Create method" }).first().click();
    const m = page.getByRole("dialog", { name: /Create method/ });
    await m.getByLabel("Integration type").selectOption(type);
    await m.getByLabel("Lambda function").fill(fnArn(fn));
    await m.getByRole("button", { name: "Create method" }).click();
    await page.waitForURL(/\/methods\/GET$/);
    const saved = await page.evaluate((p) => fetch(p).then((r) => r.json()), `/restapis/${state.ordersId}/resources/${created[part]}/methods/GET`);
    assert.equal(saved.methodIntegration.type, type);
    assert.equal(saved.methodIntegration.uri, invocation(fn));
    assert.equal(saved.methodIntegration.httpMethod, "POST");
  }
  await shot("29b-lambda-method");

  // The integration request editor: an AWS_PROXY URI that is not a Lambda function is refused
  // with the server's message; a function URI saves.
  await page.getByRole("region", { name: "Integration request" }).getByRole("button", { name: "Edit" }).click();
  const form = page.getByRole("form", { name: "Integration request" });
  await form.getByLabel("Integration type").selectOption("AWS_PROXY");
  await form.getByLabel("AWS service or function URI").fill("arn:aws:apigateway:us-east-1:s3:path/bucket/key");
  await expectingHttpErrors(async () => {
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByRole("alert").first().waitFor();
  });
  assert.match(await form.getByRole("alert").first().textContent(), /lambda|function/i);
  await form.getByLabel("AWS service or function URI").fill(invocation("api-lambda"));
  await form.getByLabel("Integration type").selectOption("AWS");
  await form.getByRole("button", { name: "Save" }).click();
  await toast("Integration request saved");

  await page.getByRole("button", { name: "Deploy API" }).click();
  const dialog = page.getByRole("dialog", { name: "Deploy API" });
  await dialog.getByLabel("Deployment stage").selectOption("live");
  await dialog.getByRole("button", { name: "Deploy", exact: true }).click();
  await toast("to live");
  const proxied = await untilNode("GET /fn-proxy through the proxy-echo function", () => fetch(ordersUrl("/fn-proxy?x=1")), (r) => r.status === 200);
  const event = JSON.parse(proxied.body);
  assert.equal(event.resource, "/fn-proxy");
  assert.deepEqual(event.queryStringParameters, { x: "1" });
  const plain = await untilNode("GET /fn-plain through api-lambda", () => fetch(ordersUrl("/fn-plain")), (r) => r.status === 200);
  assert.deepEqual(JSON.parse(plain.body), { message: "I am lambda function" });
});

test("authorizers: one of each type; the form follows the type and shows the server's message at its field", async () => {
  await page.goto(`${CONSOLE}/apis`);
  await page.getByRole("button", { name: "Create API" }).first().click();
  const c = page.getByRole("dialog", { name: "Create API" });
  await c.getByLabel("Name", { exact: true }).fill("guarded");
  await c.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/\/apis\/[a-z0-9]+\/resources$/);
  state.guardedId = page.url().split("/")[4];
  await apiTab("Authorizers");
  await page.waitForURL(/\/authorizers$/);
  await page.getByText("No authorizers yet").waitFor();

  // TOKEN: an endpoint URL is no function; the control plane says so under the field.
  await page.getByRole("button", { name: "Create authorizer" }).click();
  let d = page.getByRole("dialog", { name: "Create authorizer" });
  await d.getByLabel("Authorizer name").fill("tokens");
  assert.equal(await d.getByLabel("Authorizer type").inputValue(), "TOKEN");
  assert.equal(await d.getByLabel("Token source (header name)").inputValue(), "Authorization");
  await d.getByLabel("Lambda function").fill("https://example.com/authorize");
  await expectingHttpErrors(async () => {
    await d.getByRole("button", { name: "Create authorizer" }).click();
    await d.getByRole("alert").filter({ hasText: "authorizerUri" }).waitFor();
  });
  assert.equal(await d.getByLabel("Lambda function").getAttribute("aria-invalid"), "true");
  await axeCheck("authorizer-dialog-error");
  await page.screenshot({ path: join(SHOTS, "30-authorizer-uri-error.png"), fullPage: true });
  // A function ARN is made its invocation URI.
  await d.getByLabel("Lambda function").fill(TOKEN_FN);
  await d.getByLabel("Token validation (regex)").fill("[-a-z:]+");
  assert.equal(await d.getByLabel("Result cache TTL (seconds)").inputValue(), "300");
  await d.getByRole("button", { name: "Create authorizer" }).click();
  await toast("Authorizer tokens saved");
  const table = page.getByRole("table", { name: "Authorizers" });
  await table.getByRole("row").filter({ hasText: "tokens" }).getByRole("cell", { name: "Function token-authorizer" }).waitFor();

  // REQUEST: identity sources of several kinds; a TTL above an hour is refused at the TTL field.
  await page.getByRole("button", { name: "Create authorizer" }).click();
  d = page.getByRole("dialog", { name: "Create authorizer" });
  await d.getByLabel("Authorizer name").fill("by-request");
  await d.getByLabel("Authorizer type").selectOption("REQUEST");
  assert.equal(await d.getByLabel("Token source (header name)").count(), 0);
  await d.getByLabel("Lambda function").fill("arn:aws:lambda:us-east-1:123456789012:function:request-authorizer");
  await d.getByLabel("Identity source 1 name").fill("X-Tenant");
  await d.getByRole("button", { name: "Add identity source" }).click();
  await d.getByLabel("Identity source 2 kind").selectOption({ label: "Query string" });
  await d.getByLabel("Identity source 2 name").fill("key");
  await d.getByLabel("Result cache TTL (seconds)").fill("5000");
  await expectingHttpErrors(async () => {
    await d.getByRole("button", { name: "Create authorizer" }).click();
    await d.getByRole("alert").filter({ hasText: "authorizerResultTtlInSeconds" }).waitFor();
  });
  assert.equal(await d.getByLabel("Result cache TTL (seconds)").getAttribute("aria-invalid"), "true");
  await axeCheck("authorizer-dialog-request");
  await d.getByLabel("Result cache TTL (seconds)").fill("0");
  await d.getByRole("button", { name: "Create authorizer" }).click();
  await toast("Authorizer by-request saved");
  await table.getByRole("cell", { name: "method.request.header.X-Tenant, method.request.querystring.key" }).waitFor();

  // COGNITO_USER_POOLS: providers (a user pool ARN and an issuer URL) and a client id regex.
  await page.getByRole("button", { name: "Create authorizer" }).click();
  d = page.getByRole("dialog", { name: "Create authorizer" });
  await d.getByLabel("Authorizer name").fill("pool");
  await d.getByLabel("Authorizer type").selectOption("COGNITO_USER_POOLS");
  assert.equal(await d.getByLabel("Lambda function").count(), 0);
  assert.equal(await d.getByLabel("Result cache TTL (seconds)").count(), 0);
  await d.getByLabel("Provider 1", { exact: true }).fill("not-a-provider");
  await expectingHttpErrors(async () => {
    await d.getByRole("button", { name: "Create authorizer" }).click();
    await d.getByRole("alert").filter({ hasText: "providerARNs" }).waitFor();
  });
  await d.getByLabel("Provider 1", { exact: true }).fill(POOL);
  await d.getByRole("button", { name: "Add provider" }).click();
  await d.getByLabel("Provider 2", { exact: true }).fill("https://issuer.example.com");
  await d.getByLabel("App client ID (regex)").fill("client-[a-z]+");
  await axeCheck("authorizer-dialog-cognito");
  await d.getByRole("button", { name: "Create authorizer" }).click();
  await toast("Authorizer pool saved");
  await table.getByRole("cell", { name: `${POOL}, https://issuer.example.com` }).waitFor();
  await shot("30-authorizers");

  let all = Object.fromEntries((await apiGet(`/restapis/${state.guardedId}/authorizers`)).item.map((a) => [a.name, a]));
  assert.equal(all.tokens.type, "TOKEN");
  assert.equal(all.tokens.authorizerUri, `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${TOKEN_FN}/invocations`);
  assert.equal(all.tokens.identitySource, "method.request.header.Authorization");
  assert.equal(all.tokens.identityValidationExpression, "[-a-z:]+");
  assert.equal(all.tokens.authorizerResultTtlInSeconds, 300);
  assert.equal(all["by-request"].type, "REQUEST");
  assert.equal(all["by-request"].identitySource, "method.request.header.X-Tenant, method.request.querystring.key");
  assert.equal(all["by-request"].authorizerResultTtlInSeconds, 0);
  assert.equal(all.pool.type, "COGNITO_USER_POOLS");
  assert.deepEqual(all.pool.providerARNs, [POOL, "https://issuer.example.com"]);
  assert.equal(all.pool.identitySource, "method.request.header.Authorization");
  assert.equal(all.pool.identityValidationExpression, "client-[a-z]+");

  // Edit (UpdateAuthorizer with what changed): the TOKEN one's regex and TTL, a provider removed.
  await table.getByRole("button", { name: "Edit authorizer tokens" }).click();
  d = page.getByRole("dialog", { name: "Edit authorizer tokens" });
  assert.equal(await d.getByLabel("Lambda function").inputValue(), all.tokens.authorizerUri);
  await d.getByLabel("Token validation (regex)").fill("[-a-z:]{3,}");
  await d.getByLabel("Result cache TTL (seconds)").fill("600");
  await d.getByRole("button", { name: "Save" }).click();
  await toast("Authorizer tokens saved");
  await table.getByRole("row").filter({ hasText: "tokens" }).getByRole("cell", { name: "600 s" }).waitFor();
  await table.getByRole("button", { name: "Edit authorizer pool" }).click();
  d = page.getByRole("dialog", { name: "Edit authorizer pool" });
  await d.getByRole("button", { name: "Remove provider 2" }).click();
  await d.getByRole("button", { name: "Save" }).click();
  await toast("Authorizer pool saved");
  all = Object.fromEntries((await apiGet(`/restapis/${state.guardedId}/authorizers`)).item.map((a) => [a.name, a]));
  assert.equal(all.tokens.identityValidationExpression, "[-a-z:]{3,}");
  assert.equal(all.tokens.authorizerResultTtlInSeconds, 600);
  assert.deepEqual(all.pool.providerARNs, [POOL]);
  state.authorizers = all;
});

test("method request: CUSTOM with a Lambda authorizer; COGNITO_USER_POOLS with OAuth scopes", async () => {
  await apiTab("Resources");
  await page.getByRole("button", { name: "Create resource" }).click();
  const r = page.getByRole("dialog", { name: "Create resource" });
  await r.getByLabel("Resource path part").fill("items");
  await r.getByRole("button", { name: "Create resource" }).click();
  await page.getByRole("heading", { name: "Resource /items" }).waitFor();
  state.itemsResource = page.url().split("/").pop();
  for (const m of ["GET", "POST"]) {
    await page.goto(`${CONSOLE}/apis/${state.guardedId}/resources/${state.itemsResource}`);
    await page.getByRole("button", { name: "Create method" }).first().click();
    const d = page.getByRole("dialog", { name: /Create method/ });
    await d.getByLabel("HTTP method", { exact: true }).selectOption(m);
    await d.getByLabel("Integration type").selectOption("MOCK");
    await d.getByRole("button", { name: "Create method" }).click();
    await page.waitForURL(new RegExp(`/methods/${m}$`));
  }
  const methodPath = (m) => `/restapis/${state.guardedId}/resources/${state.itemsResource}/methods/${m}`;

  // GET /items: CUSTOM offers the Lambda authorizers only.
  await page.goto(`${CONSOLE}/apis/${state.guardedId}/resources/${state.itemsResource}/methods/GET`);
  await page.getByRole("region", { name: "Method request" }).getByRole("button", { name: "Edit" }).click();
  let form = page.getByRole("form", { name: "Method request" });
  await form.getByLabel("Authorization", { exact: true }).selectOption("CUSTOM");
  const authorizer = form.getByLabel("Authorizer", { exact: true });
  await authorizer.locator("option", { hasText: "tokens (TOKEN)" }).waitFor({ state: "attached" });
  assert.deepEqual(await authorizer.locator("option").allTextContents(), ["by-request (REQUEST)", "tokens (TOKEN)"]);
  await authorizer.selectOption({ label: "tokens (TOKEN)" });
  await shot("31-method-request-custom");
  await form.getByRole("button", { name: "Save" }).click();
  await toast("Method request saved");
  await page.getByRole("region", { name: "Method request" }).getByText("Authorization: CUSTOM (tokens)").waitFor();
  let m = await apiGet(methodPath("GET"));
  assert.equal(m.authorizationType, "CUSTOM");
  assert.equal(m.authorizerId, state.authorizers.tokens.id);

  // POST /items: COGNITO_USER_POOLS with two scopes, then one removed.
  await page.goto(`${CONSOLE}/apis/${state.guardedId}/resources/${state.itemsResource}/methods/POST`);
  await page.getByRole("region", { name: "Method request" }).getByRole("button", { name: "Edit" }).click();
  form = page.getByRole("form", { name: "Method request" });
  await form.getByLabel("Authorization", { exact: true }).selectOption("COGNITO_USER_POOLS");
  await form.getByLabel("Authorizer", { exact: true }).locator("option", { hasText: "pool (COGNITO_USER_POOLS)" }).waitFor({ state: "attached" });
  for (const [i, scope] of ["items/write", "items/admin"].entries()) {
    await form.getByRole("button", { name: "Add scope" }).click();
    await form.getByLabel(`Scope ${i + 1}`, { exact: true }).fill(scope);
  }
  await axeCheck("method-request-cognito");
  await form.getByRole("button", { name: "Save" }).click();
  await toast("Method request saved");
  const box = page.getByRole("region", { name: "Method request" });
  await box.getByText("Authorization: COGNITO_USER_POOLS (pool)").waitFor();
  await box.getByText("OAuth scopes: items/write, items/admin").waitFor();
  m = await apiGet(methodPath("POST"));
  assert.equal(m.authorizationType, "COGNITO_USER_POOLS");
  assert.equal(m.authorizerId, state.authorizers.pool.id);
  assert.deepEqual(m.authorizationScopes, ["items/write", "items/admin"]);
  await form.getByRole("button", { name: "Remove scope 2" }).click();
  await form.getByRole("button", { name: "Save" }).click();
  await toast("Method request saved");
  await box.getByText("OAuth scopes: items/write", { exact: true }).waitFor();
  assert.deepEqual((await apiGet(methodPath("POST"))).authorizationScopes, ["items/write"]);
});

test("authorizers: delete is refused while a method uses one, with the server's message; an unused one is deleted", async () => {
  await apiTab("Authorizers");
  const table = page.getByRole("table", { name: "Authorizers" });
  await table.getByRole("button", { name: "Delete authorizer tokens" }).click();
  const d = page.getByRole("dialog", { name: "Delete authorizer" });
  await expectingHttpErrors(async () => {
    await d.getByRole("button", { name: "Delete authorizer" }).click();
    await d.getByRole("alert").filter({ hasText: "is referenced in method" }).waitFor();
  });
  assert.match(await d.getByRole("alert").textContent(), /GET \/items/);
  await axeCheck("authorizer-delete-refused");
  await page.screenshot({ path: join(SHOTS, "30b-authorizer-delete-refused.png"), fullPage: true });
  await d.getByRole("button", { name: "Cancel" }).click();
  await table.getByRole("link", { name: "tokens", exact: true }).waitFor();

  await table.getByRole("button", { name: "Delete authorizer by-request" }).click();
  await page.getByRole("dialog", { name: "Delete authorizer" }).getByRole("button", { name: "Delete authorizer" }).click();
  await toast("Authorizer by-request deleted");
  await table.getByRole("link", { name: "by-request" }).waitFor({ state: "detached" });
});

test("an authorizer's page: its settings and the Test panel (TestInvokeAuthorizer)", async () => {
  await page.getByRole("table", { name: "Authorizers" }).getByRole("link", { name: "tokens", exact: true }).click();
  await page.waitForURL(new RegExp(`/authorizers/${state.authorizers.tokens.id}$`));
  await page.getByRole("heading", { name: "Authorizer tokens" }).waitFor();
  await page.getByTestId("authorizer-props").getByText(TOKEN_FN, { exact: false }).waitFor();
  const panel = page.getByRole("region", { name: "Test the authorizer" });
  await panel.getByLabel("Token (Authorization header)").fill("allow");
  await panel.getByLabel("Path with query string").fill("/items?color=red");
  await panel.getByRole("button", { name: "Add stage variable" }).click();
  await panel.getByLabel("Stage variable 1", { exact: true }).fill("tier");
  await panel.getByLabel("Stage variable value 1", { exact: true }).fill("gold");
  await panel.getByRole("button", { name: "Test authorizer" }).click();
  await panel.getByTestId("authorizer-test-result").waitFor();
  assert.equal(await panel.getByTestId("authorizer-principal").textContent(), "user-allow");
  assert.equal(await panel.getByTestId("authorizer-client-status").textContent(), "0");
  const policy = JSON.parse(await panel.getByTestId("authorizer-policy").textContent());
  assert.equal(policy.Statement[0].Effect, "Allow");
  assert.ok((await panel.getByTestId("authorizer-log").textContent()).trim(), "the log is shown");
  await shot("32-authorizer-test");
});

test("deployed: the node asks the token authorizer once per token, again after the stage's authorizer cache is flushed", async () => {
  await page.getByRole("button", { name: "Deploy API" }).click();
  const dialog = page.getByRole("dialog", { name: "Deploy API" });
  await dialog.getByLabel("Deployment stage").selectOption("[New stage]");
  await dialog.getByLabel("Stage name").fill("beta");
  await dialog.getByRole("button", { name: "Deploy", exact: true }).click();
  await toast("to beta");
  await page.waitForURL(/\/stages\/beta$/);

  const withToken = () => fetch(itemsUrl(), { headers: { authorization: "allow" } });
  await untilNode("GET /items without a token", () => fetch(itemsUrl()), (r) => r.status === 401);
  await untilNode("GET /items with a token", withToken, (r) => r.status === 200);
  const calls = await tokenCalls();
  assert.ok(calls >= 1, "the function decided");
  for (let i = 0; i < 3; i++) {
    const r = await withToken();
    assert.equal(r.status, 200);
    await r.text();
  }
  assert.equal(await tokenCalls(), calls, "the decision is cached for the TTL");

  await page.getByRole("button", { name: "Flush authorizer cache" }).click();
  const d = page.getByRole("dialog", { name: "Flush authorizer cache" });
  await axeCheck("stage-flush-authorizer-cache");
  await d.getByRole("button", { name: "Flush authorizer cache" }).click();
  await toast("Authorizer cache of beta flushed");
  await untilNode(
    "the function asked again after the flush",
    async () => {
      const r = await withToken();
      await r.text();
      return new Response(String(await tokenCalls()), { status: r.status });
    },
    (r, body) => r.status === 200 && Number(body) > calls,
  );
  await shot("33-stage-beta");
});

test("resource policy: an invalid one shows the server's message; a valid one saves", async () => {
  await apiTab("API settings");
  const form = page.getByRole("form", { name: "Resource policy" });
  const editor = form.getByLabel("Policy document (JSON)");
  assert.equal(await editor.inputValue(), "");
  await form.getByRole("button", { name: "Start from an example" }).click();
  const example = await editor.inputValue();
  assert.ok(JSON.parse(example).Statement.length >= 1);
  await editor.fill(example.replace('"Effect": "Deny"', '"Effect": "Maybe"'));
  await expectingHttpErrors(async () => {
    await form.getByRole("button", { name: "Save resource policy" }).click();
    await form.getByRole("alert").waitFor();
  });
  assert.match(await form.getByRole("alert").textContent(), /Effect.*Maybe/);
  await axeCheck("resource-policy-error");
  await page.screenshot({ path: join(SHOTS, "34-resource-policy-error.png"), fullPage: true });
  assert.equal((await apiGet(`/restapis/${state.guardedId}`)).policy, undefined, "nothing saved");
  // Not even JSON: said at once, beside the editor.
  await editor.fill('{"Version": ');
  await form.getByText("Not valid JSON").waitFor();

  const policy = JSON.parse(example);
  policy.Statement[1].Condition.NotIpAddress["aws:SourceIp"] = ["127.0.0.0/8", "::1/128"];
  await editor.fill(JSON.stringify(policy, null, 2));
  await form.getByRole("button", { name: "Save resource policy" }).click();
  await toast("Resource policy saved");
  assert.deepEqual(JSON.parse((await apiGet(`/restapis/${state.guardedId}`)).policy), policy);
  await page.reload();
  assert.deepEqual(JSON.parse(await page.getByRole("form", { name: "Resource policy" }).getByLabel("Policy document (JSON)").inputValue()), policy);
  await shot("34-resource-policy");
});

test("tags: an API's, a stage's and a usage plan's, added and removed (TagResource / UntagResource)", async () => {
  const tagsOf = (p) => page.evaluate((p) => fetch(p).then((r) => r.json()).then((b) => b.tags ?? {}), p);
  for (const [url, name, resource] of [
    [`/apis/${state.apiId}/settings`, "API tags", `/restapis/${state.apiId}`],
    [`/apis/${state.apiId}/stages/prod`, "Stage tags", `/restapis/${state.apiId}/stages/prod`],
    [`/usage-plans/${state.planId}`, "Usage plan tags", `/usageplans/${state.planId}`],
  ]) {
    await page.goto(`${CONSOLE}${url}`);
    const form = page.getByRole("form", { name });
    await form.getByRole("button", { name: "Add tag" }).click();
    await form.getByLabel("Tag key 1", { exact: true }).fill("team");
    await form.getByLabel("Tag value 1", { exact: true }).fill("payments");
    await form.getByRole("button", { name: "Add tag" }).click();
    await form.getByLabel("Tag key 2", { exact: true }).fill("aws:nope");
    await form.getByLabel("Tag value 2", { exact: true }).fill("x");
    // AWS's rule: no aws: prefix. The server's message is shown and nothing is saved.
    await expectingHttpErrors(async () => {
      await form.getByRole("button", { name: "Save tags" }).click();
      await form.getByRole("alert").waitFor();
    });
    assert.match(await form.getByRole("alert").textContent(), /aws:/);
    await form.getByRole("button", { name: "Remove Tag key 2" }).click();
    await form.getByRole("button", { name: "Save tags" }).click();
    await toast("Tags saved");
    assert.deepEqual(await tagsOf(resource), { team: "payments" });
    await axeCheck(`tags-${name.split(" ")[0].toLowerCase()}`);
    await page.getByRole("form", { name }).getByRole("button", { name: "Remove Tag key 1" }).click();
    await page.getByRole("form", { name }).getByRole("button", { name: "Save tags" }).click();
    // The first save's "Tags saved" toast may still be up: wait for the form to have no
    // unsaved tag row and for the server to agree, not for the toast.
    await page.getByRole("form", { name }).getByText("None.").waitFor();
    for (const deadline = Date.now() + 10_000; Object.keys(await tagsOf(resource)).length && Date.now() < deadline; ) await page.waitForTimeout(50);
    assert.deepEqual(await tagsOf(resource), {});
  }
  await shot("35-tags");
});

test("the APIs list filters by search", async () => {
  // The APIs list shows the API and filters by search.
  await page.goto(`${CONSOLE}/apis`);
  await page.getByRole("link", { name: "pets" }).waitFor();
  const tti = await listReadyMark();
  console.log(`time to interactive of the APIs list (1 API): ${Math.round(tti)} ms`);
  await page.getByRole("searchbox", { name: "Search APIs" }).fill("zzz");
  await page.getByText("No API matches").waitFor();
  await page.getByRole("searchbox", { name: "Search APIs" }).fill("pet");
  await page.getByRole("link", { name: "pets" }).waitFor();
  await shot("11-apis-list");
});

test("Create API from an OpenAPI document (ImportRestApi): fail on warnings, then imported", async () => {
  const doc = [
    "openapi: 3.0.1",
    "info: {title: imported-shop, version: '1'}",
    "x-amazon-apigateway-unknown-thing: true",
    "paths:",
    "  /items:",
    "    get:",
    "      responses: {'200': {description: ok}}",
    "      x-amazon-apigateway-integration:",
    "        type: mock",
    "        requestTemplates: {application/json: '{\"statusCode\": 200}'}",
    "        responses: {default: {statusCode: '200'}}",
  ].join("\n");
  await page.goto(`${CONSOLE}/apis`);
  await page.getByRole("button", { name: "Create API" }).first().click();
  const d = page.getByRole("dialog", { name: "Create API" });
  await d.getByLabel("Start from").selectOption("openapi");
  await d.getByLabel("OpenAPI document (JSON or YAML)").fill(doc);
  await d.getByLabel(/Fail on warnings/).check();
  await axeCheck("create-api-import");
  await expectingHttpErrors(async () => {
    await d.getByRole("button", { name: "Import" }).click();
    await d.getByRole("alert").waitFor();
  });
  assert.match(await d.getByRole("alert").textContent(), /x-amazon-apigateway-unknown-thing/);
  await d.getByLabel(/Fail on warnings/).uncheck();
  await d.getByRole("button", { name: "Import" }).click();
  await toast("imported-shop");
  await page.waitForURL(/\/apis\/[a-z0-9]+\/resources$/);
  await page.getByRole("link", { name: "/items" }).first().waitFor();
  const id = page.url().split("/")[4];
  const resources = await page.evaluate((p) => fetch(p).then((r) => r.json()), `/restapis/${id}/resources`);
  assert.ok(resources.item.some((r) => r.path === "/items" && r.resourceMethods?.GET), JSON.stringify(resources));
  await shot("36-imported-api");
});

test("a return visit after the access token expired renews it first, with no 401", async () => {
  // As after 15 minutes away: the browser still holds the session's cookies, but the
  // access token in apigw_session no longer works.
  await page.evaluate(() => localStorage.setItem("apigw.accessExpiresAt", "1"));
  await page.context().addCookies([{ name: "apigw_session", value: "expired-token", url: CONSOLE, httpOnly: true, sameSite: "Strict" }]);
  const stale = await expectingHttpErrors(() => page.evaluate(() => fetch("/restapis").then((r) => r.status)));
  assert.equal(stale, 401, "the stale access token is refused");
  const unauthorized = [];
  const onResponse = (r) => r.status() === 401 && unauthorized.push(`${r.request().method()} ${r.url()}`);
  page.on("response", onResponse);
  await page.goto(`${CONSOLE}/api-keys`);
  await page.getByRole("row").filter({ hasText: "partner-a" }).waitFor();
  page.off("response", onResponse);
  assert.deepEqual(unauthorized, []);
});

test("axe-core finds no accessibility violation on any screen the journey visited", () => {
  console.log(`axe-core checked ${a11y.screens.length} screens: ${a11y.screens.join(", ")}`);
  assert.ok(a11y.screens.length >= 20, "every main screen was checked");
  assert.deepEqual(a11y.violations, []);
});

test("the journey logged no page error and no console error", () => {
  assert.deepEqual(problems, []);
});

test("signing out ends the session, and its tokens are refused from then on", async () => {
  const cookies = Object.fromEntries((await page.context().cookies()).map((c) => [c.name, c.value]));
  assert.ok(cookies.apigw_session && cookies.apigw_refresh, "session cookies before signing out");
  // As after a while away: the access token has expired; signing out must still revoke the
  // session, refresh token included.
  await page.evaluate(() => localStorage.setItem("apigw.accessExpiresAt", "1"));
  await page.context().addCookies([{ name: "apigw_session", value: "expired-token", url: CONSOLE, httpOnly: true, sameSite: "Strict" }]);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/signin/);
  const status = await expectingHttpErrors(() => page.evaluate(() => fetch("/restapis").then((r) => r.status)));
  assert.equal(status, 403);
  // Copies of the session's cookies taken before sign-out no longer work.
  const replay = await fetch(`${CONSOLE}/restapis`, { headers: { cookie: `apigw_session=${cookies.apigw_session}` } });
  assert.equal(replay.status, 401);
  const refresh = await fetch(`${CONSOLE}/console/api/session/refresh`, {
    method: "POST",
    headers: { cookie: `apigw_refresh=${cookies.apigw_refresh}`, "x-csrf-token": cookies.apigw_csrf, "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(refresh.status, 401);
});
