// Browser tests of the web console (node's test runner + playwright-core + Debian Chromium),
// against a real control plane and data-plane node started by tests/run.sh.
//
// The journey of the issue: a wrong password is refused; sign in; create an API with
// /pets/{id} GET -> HTTP_PROXY to a backend started here; deploy to prod; call the invoke
// URL; change the integration and deploy again; roll back from the history. Screenshots of
// each main screen land in web-console/test-results/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
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

const shot = (name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

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
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
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

test("a wrong password shows the error and does not sign in", async () => {
  await page.goto(`${CONSOLE}/apis`);
  await page.waitForURL(/\/signin/);
  await page.getByLabel("Username").fill(USER);
  await page.getByLabel("Password").fill("not-the-password-1");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "Incorrect username or password" }).waitFor();
  assert.match(page.url(), /\/signin/);
  const me = await page.evaluate(() => fetch("/console/api/session").then((r) => r.status));
  assert.equal(me, 401, "no session after a failed sign-in");
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
  await d.getByRole("button", { name: "Create method" }).click();
  await d.getByRole("alert").waitFor();
  assert.match(await d.getByRole("alert").textContent(), /uri|URL|url/i);
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
  await page.reload();
  assert.equal(await page.getByRole("form", { name: "Stage variables" }).getByLabel("Value 1", { exact: true }).inputValue(), "127.0.0.1");
  await shot("05-stage-prod");
  await expectInvoke("/v1/pets/1", "after the first deployment");
});

test("change the integration and deploy again", async () => {
  // Deep link straight to the method.
  await page.goto(`${CONSOLE}/apis/${state.apiId}/resources/${state.petResource}/methods/GET`);
  await page.getByRole("region", { name: "Integration request" }).getByRole("button", { name: "Edit" }).click();
  const form = page.getByRole("form", { name: "Integration request" });
  await form.getByLabel("Endpoint URL").fill(`${backendUrl}/v2/pets/{id}`);
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
  await row.getByRole("button", { name: /Make deployment .* active/ }).click();
  const dialog = page.getByRole("dialog", { name: "Make deployment active" });
  await dialog.getByText("instead of").waitFor();
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

test("signing out ends the session", async () => {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/signin/);
  const status = await page.evaluate(() => fetch("/restapis").then((r) => r.status));
  assert.equal(status, 403);
});
