// Browser test of a stage's canary panel and method settings (issue 17; node's test runner
// + playwright-core + Debian Chromium), against the control plane and node tests/run.sh
// starts (CONSOLE_TESTS=canary). The journey: sign in; an API with a MOCK GET /who answering
// which version it is and its `color` stage variable, deployed to prod (v1), then changed
// and deployed without a stage (v2); on the stage page the Canary panel creates a canary
// from v2 with the slider at 100 % and an override (the node answers v2 with the override),
// moves the slider to 0 % (the node answers v1), promotes it (the stage serves v2 with the
// override as a stage variable) and deletes it; the Method settings panel sets every field
// for GET /who (read back through GetStage) and shows the server's refusal of a bad TTL.
// axe-core checks each screen; no page error is allowed. Screenshots land in
// web-console/test-results/ (prefix "canary").
import { test } from "node:test";
import assert from "node:assert/strict";
import { CONSOLE, DP, USER, PASSWORD, page, problems, violations, expectHttpErrors, shot, fromPage } from "./harness.mjs";

async function toast(text) {
  await page.getByTestId("toast").filter({ hasText: text }).first().waitFor();
}

async function ok(method, path, body) {
  const r = await fromPage(method, path, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Polls the node until GET /who answers `want` (version and color). */
async function untilNode(apiId, want) {
  const url = `${DP}/restapis/${apiId}/prod/_user_request_/who`;
  const deadline = Date.now() + 15_000;
  let last;
  while (Date.now() < deadline) {
    const r = await fetch(url);
    last = `${r.status} ${await r.text()}`;
    if (r.status === 200) {
      const b = JSON.parse(last.slice(4));
      if (b.version === want.version && b.color === want.color) return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${url} never answered ${JSON.stringify(want)}; last: ${last}`);
}

const template = (version) => `{"version": "${version}", "color": "$stageVariables.color"}`;

test("a canary is created with the slider, promoted and deleted; every method setting is saved", async () => {
  await page.goto(`${CONSOLE}/apis`);
  await page.waitForURL(/\/signin/);
  await page.getByLabel("Username").fill(USER);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/apis$/);

  // The API: GET /who (MOCK), v1 on prod, v2 deployed without a stage.
  const api = await ok("POST", "/restapis", { name: "canary-console" });
  const resources = await ok("GET", `/restapis/${api.id}/resources`);
  const root = resources.item.find((r) => r.path === "/").id;
  const who = await ok("POST", `/restapis/${api.id}/resources/${root}`, { pathPart: "who" });
  const m = `/restapis/${api.id}/resources/${who.id}/methods/GET`;
  await ok("PUT", m, { authorizationType: "NONE" });
  await ok("PUT", `${m}/responses/200`, {});
  await ok("PUT", `${m}/integration`, { type: "MOCK", requestTemplates: { "application/json": '{"statusCode": 200}' } });
  await ok("PUT", `${m}/integration/responses/200`, { selectionPattern: "", responseTemplates: { "application/json": template("v1") } });
  const v1 = await ok("POST", `/restapis/${api.id}/deployments`, { stageName: "prod", description: "v1", variables: { color: "blue" } });
  await ok("PUT", `${m}/integration/responses/200`, { selectionPattern: "", responseTemplates: { "application/json": template("v2") } });
  const v2 = await ok("POST", `/restapis/${api.id}/deployments`, { description: "v2" });
  await untilNode(api.id, { version: "v1", color: "blue" });

  // The Canary panel: v2 at 100 % with an override.
  await page.goto(`${CONSOLE}/apis/${api.id}/stages/prod`);
  const panel = page.getByRole("form", { name: "Canary" });
  await panel.getByText("No canary.").waitFor();
  await panel.getByLabel("Canary deployment").locator("option", { hasText: v2.id }).waitFor({ state: "attached" });
  await panel.getByLabel("Canary deployment").selectOption(v2.id);
  await panel.getByLabel("Canary traffic", { exact: true }).fill("100");
  assert.equal(await panel.getByLabel("Canary traffic (%)").inputValue(), "100");
  await panel.getByRole("button", { name: "Add override" }).click();
  await panel.getByLabel("Name 1", { exact: true }).fill("color");
  await panel.getByLabel("Value 1", { exact: true }).fill("green");
  await shot("canary-01-new");
  await panel.getByRole("button", { name: "Create canary" }).click();
  await toast("Canary created");
  await page.getByTestId("canary-summary").locator("strong", { hasText: /^100 %$/ }).waitFor();
  let stage = await ok("GET", `/restapis/${api.id}/stages/prod`);
  assert.deepEqual(stage.canarySettings, { percentTraffic: 100, deploymentId: v2.id, stageVariableOverrides: { color: "green" }, useStageCache: false });
  assert.equal(stage.deploymentId, v1.id);
  await untilNode(api.id, { version: "v2", color: "green" });
  await shot("canary-02-created");

  // The slider down to 0 %: every request back on v1.
  await page.getByRole("form", { name: "Canary" }).getByLabel("Canary traffic (%)").fill("0");
  await page.getByRole("form", { name: "Canary" }).getByRole("button", { name: "Save canary" }).click();
  await toast("Canary saved");
  // The stage reloads and its panels are drawn again: wait for the new summary.
  await page.getByTestId("canary-summary").locator("strong", { hasText: /^0 %$/ }).waitFor();
  await untilNode(api.id, { version: "v1", color: "blue" });
  // A share over 100 % is refused before any call.
  await page.getByRole("form", { name: "Canary" }).getByLabel("Canary traffic (%)").fill("150");
  await page.getByRole("form", { name: "Canary" }).getByRole("button", { name: "Save canary" }).click();
  await page.getByRole("form", { name: "Canary" }).getByText("from 0.0 to 100.0").waitFor();

  // Promote: the stage serves v2 with the override as a stage variable.
  await page.getByRole("form", { name: "Canary" }).getByRole("button", { name: "Promote canary" }).click();
  const promote = page.getByRole("dialog", { name: "Promote canary" });
  await promote.waitFor();
  await shot("canary-03-promote");
  await promote.getByRole("button", { name: "Promote canary" }).click();
  await toast("Canary promoted");
  await page.getByTestId("active-deployment").filter({ hasText: v2.id }).waitFor();
  stage = await ok("GET", `/restapis/${api.id}/stages/prod`);
  assert.equal(stage.deploymentId, v2.id);
  assert.deepEqual(stage.variables, { color: "green" });
  assert.equal(stage.canarySettings.percentTraffic, 0);
  await untilNode(api.id, { version: "v2", color: "green" });

  // Delete the canary.
  await page.getByRole("form", { name: "Canary" }).getByRole("button", { name: "Delete canary" }).click();
  const del = page.getByRole("dialog", { name: "Delete canary" });
  await del.getByRole("button", { name: "Delete canary" }).click();
  await toast("Canary of prod deleted");
  await page.getByRole("form", { name: "Canary" }).getByText("No canary.").waitFor();
  stage = await ok("GET", `/restapis/${api.id}/stages/prod`);
  assert.equal(stage.canarySettings, undefined);

  // Method settings of GET /who: every field.
  const ms = page.getByRole("form", { name: "Method settings" });
  await ms.getByLabel("Settings for").locator("option", { hasText: "/who GET" }).waitFor({ state: "attached" });
  await ms.getByLabel("Settings for").selectOption({ label: "/who GET" });
  await ms.getByLabel("Throttling rate (requests/s)").fill("25.5");
  await ms.getByLabel("Throttling burst").fill("50");
  await ms.getByLabel("Logging level").selectOption("INFO");
  await ms.getByLabel("Data trace (full request and response logs)").check();
  await ms.getByLabel("Detailed metrics").check();
  await ms.getByLabel("Caching enabled").check();
  await ms.getByLabel("Cache TTL (seconds)").fill("60");
  await ms.getByLabel("Encrypt cache data").check();
  await ms.getByLabel("Require authorization to invalidate the cache").uncheck();
  await ms.getByLabel("Unauthorized Cache-Control header").selectOption("FAIL_WITH_403");
  await ms.getByRole("button", { name: "Save method settings" }).click();
  await toast("Method settings of /who GET saved");
  await page.getByTestId("method-settings-table").getByRole("row", { name: /\/who GET/ }).waitFor();
  await shot("canary-04-method-settings");
  stage = await ok("GET", `/restapis/${api.id}/stages/prod`);
  assert.deepEqual(stage.methodSettings["who/GET"], {
    metricsEnabled: true,
    loggingLevel: "INFO",
    dataTraceEnabled: true,
    throttlingBurstLimit: 50,
    throttlingRateLimit: 25.5,
    cachingEnabled: true,
    cacheTtlInSeconds: 60,
    cacheDataEncrypted: true,
    requireAuthorizationForCacheControl: false,
    unauthorizedCacheControlHeaderStrategy: "FAIL_WITH_403",
  });
  // A TTL over an hour is refused with the console's message, nothing saved.
  const form = page.getByRole("form", { name: "Method settings" });
  await form.getByLabel("Cache TTL (seconds)").fill("4000");
  await form.getByRole("button", { name: "Save method settings" }).click();
  await form.getByText("from 0 to 3600").waitFor();
  // A bad rate is the server's refusal, shown in the panel.
  await form.getByLabel("Cache TTL (seconds)").fill("60");
  await form.getByLabel("Throttling rate (requests/s)").fill("-1");
  expectHttpErrors(true);
  await form.getByRole("button", { name: "Save method settings" }).click();
  await form.getByText("must not be negative").waitFor();
  expectHttpErrors(false);

  assert.deepEqual(problems, []);
  assert.deepEqual(violations, []);
});
