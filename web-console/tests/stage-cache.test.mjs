// Browser test of the stage cache block of a stage's settings (issue 17), against the
// control plane and node tests/run.sh starts (CONSOLE_TESTS=stage-cache): an API whose MOCK
// GET answers its own request id is deployed; the stage's cache panel shows NOT_AVAILABLE,
// is turned on (status AVAILABLE, size and TTL saved), the node then answers the GET from
// the cache (the same request id twice), and "Flush cache" (FlushStageCache) makes the next
// GET a miss. axe-core checks each screen; no page error is allowed. Screenshots land in
// web-console/test-results/ (prefix "cache").
import { test } from "node:test";
import assert from "node:assert/strict";
import { CONSOLE, DP, USER, PASSWORD, page, problems, violations, shot, fromPage } from "./harness.mjs";

async function toast(text) {
  await page.getByTestId("toast").filter({ hasText: text }).first().waitFor();
}

/** Polls `f` (every 100 ms, up to 20 s) until it returns something truthy. */
async function until(what, f) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("the stage cache panel turns the cache on, shows its status, and flushes it", async () => {
  await page.goto(`${CONSOLE}/apis`);
  await page.waitForURL(/\/signin/);
  await page.getByLabel("Username").fill(USER);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/apis$/);

  // GET / : MOCK answering its request id, so a cached answer repeats an old one.
  const api = await fromPage("POST", "/restapis", { name: "cached-console" });
  assert.equal(api.status, 201, JSON.stringify(api.body));
  const id = api.body.id;
  const method = `/restapis/${id}/resources/${api.body.rootResourceId}/methods/GET`;
  for (const [verb, path, body] of [
    ["PUT", method, { authorizationType: "NONE" }],
    ["PUT", `${method}/responses/200`, {}],
    ["PUT", `${method}/integration`, { type: "MOCK", requestTemplates: { "application/json": '{"statusCode": 200}' } }],
    ["PUT", `${method}/integration/responses/200`, { responseTemplates: { "application/json": '{"id": "$context.requestId"}' } }],
    ["POST", `/restapis/${id}/deployments`, { stageName: "prod" }],
  ]) {
    const r = await fromPage(verb, path, body);
    assert.ok(r.status < 300, `${verb} ${path}: ${JSON.stringify(r.body)}`);
  }
  const invoke = async () => {
    const r = await fetch(`${DP}/restapis/${id}/prod/_user_request_/`);
    return r.status === 200 ? (await r.json()).id : undefined;
  };
  await until("the node serves the API", invoke);
  const a = await invoke();
  assert.notEqual(await invoke(), a, "no cache yet: every GET is new");

  await page.goto(`${CONSOLE}/apis/${id}/stages/prod`);
  const panel = page.getByRole("form", { name: "Stage cache" });
  await panel.getByTestId("cache-status").filter({ hasText: "NOT_AVAILABLE" }).waitFor();
  await shot("cache-01-off");
  await panel.getByLabel("Cache enabled").check();
  await panel.getByLabel("Cache size (GB)").selectOption("1.6");
  await panel.getByLabel("Default TTL (seconds)").fill("120");
  await panel.getByRole("button", { name: "Save cache settings" }).click();
  await toast("Stage cache settings saved");
  await panel.getByTestId("cache-status").filter({ hasText: "AVAILABLE" }).filter({ hasNotText: "NOT" }).waitFor();
  await shot("cache-02-on");
  const stage = (await fromPage("GET", `/restapis/${id}/stages/prod`)).body;
  assert.equal(stage.cacheClusterEnabled, true);
  assert.equal(stage.cacheClusterSize, "1.6");
  assert.equal(stage.cacheClusterStatus, "AVAILABLE");
  assert.equal(stage.methodSettings["*/*"].cacheTtlInSeconds, 120);

  // The node answers from the cache: the same request id twice.
  const cached = await until("a cached GET", async () => {
    const first = await invoke();
    return first && (await invoke()) === first ? first : undefined;
  });

  // Flush cache: the next GET is a miss (a new id), then cached again.
  await panel.getByRole("button", { name: "Flush cache" }).click();
  const dialog = page.getByRole("dialog", { name: "Flush cache" });
  await shot("cache-03-flush");
  await dialog.getByRole("button", { name: "Flush cache" }).click();
  await toast("Cache of prod flushed");
  await until("the flushed entry is gone", async () => (await invoke()) !== cached);

  assert.deepEqual(problems, []);
  assert.deepEqual(violations, []);
});
