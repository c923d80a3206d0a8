// Browser test of an HTTP API's Metrics tab and its stage's "Reset authorizer cache" (issue 20's
// console gaps; node's test runner + playwright-core + Debian Chromium), against the control
// plane and node tests/run.sh starts (CONSOLE_TESTS=http-api-metrics):
// - An HTTP API quick-created (through the management API) with a local backend answering a
//   fixed 11-byte body; 3 POSTs with an 11-byte body through the node.
// - The Metrics tab ($default stage, all routes) shows 3 requests, no 4xx / 5xx, and 66 B of
//   data processed (3 × (11 + 11): request and response bodies) once the node has shipped
//   its minute (every 10 s; the tab is refreshed until then), and the charts.
// - The Stages tab's "Reset authorizer cache" asks, calls ResetAuthorizersCache and says so.
// - The API is deleted at the end (the files share one control plane).
// axe-core checks each screen; no page error is allowed. Screenshots: prefix "http-metrics".
import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { CONSOLE, DP, USER, PASSWORD, page, problems, violations, shot, fromPage } from "./harness.mjs";

async function toast(text) {
  await page.getByTestId("toast").filter({ hasText: text }).first().waitFor();
}

async function ok(method, path, body) {
  const r = await fromPage(method, path, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const ANSWER = '{"ok":true}'; // 11 bytes
const SENT = "hello world"; // 11 bytes
const backend = await new Promise((resolve) => {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(ANSWER) });
      res.end(ANSWER);
    });
  });
  server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` }));
});
after(() => backend.server.close());

/** POST `body` to the node with the API's invoke Host: `{status, body}`. */
function post(apiId, body) {
  const port = new URL(DP).port;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path: "/things", method: "POST", headers: { host: `${apiId}.execute-api.localhost:${port}`, "content-length": Buffer.byteLength(body) } },
      (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode, body: text }));
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body);
  });
}

test("an HTTP API's metrics tab shows its requests and data processed; its stage's authorizer cache resets", async () => {
  await page.goto(`${CONSOLE}/apis/http`);
  await page.waitForURL(/\/signin/);
  await page.getByLabel("Username").fill(USER);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/apis\/http$/);

  const api = await ok("POST", "/v2/apis", { name: "metered-console", protocolType: "HTTP", target: backend.url });
  const apiId = api.apiId;
  // The node has the auto-deployed $default stage once the first call answers 200 (it counts).
  const deadline = Date.now() + 30_000;
  let first;
  while (Date.now() < deadline) {
    first = await post(apiId, SENT).catch((e) => ({ status: 0, body: e.message }));
    if (first.status === 200) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(first.status, 200, first.body);
  for (let i = 0; i < 2; i++) {
    const got = await post(apiId, SENT);
    assert.equal(got.status, 200);
    assert.equal(got.body, ANSWER);
  }

  await page.goto(`${CONSOLE}/apis/http/${apiId}/metrics`);
  const tab = page.getByTestId("http-metrics");
  await tab.waitFor();
  assert.equal(await tab.getByLabel("Stage").inputValue(), "$default");
  // The node ships every 10 s: refresh until the minute is in.
  const until = Date.now() + 90_000;
  for (;;) {
    const count = tab.getByTestId("tile-count");
    if ((await count.count()) && (await count.locator("dd").textContent()) === "3" && (await tab.getByTestId("tile-data").locator("dd").textContent()) === "66 B") break;
    assert.ok(Date.now() < until, "the metrics arrived within 90 s");
    await page.waitForTimeout(2000);
    await tab.getByRole("button", { name: "Refresh" }).click();
  }
  assert.equal(await tab.getByTestId("tile-4xx").locator("dd").textContent(), "0");
  assert.equal(await tab.getByTestId("tile-5xx").locator("dd").textContent(), "0");
  await tab.getByTestId("chart-data").waitFor();
  await tab.getByTestId("chart-count").waitFor();
  await shot("http-metrics-01-dashboard");

  // The stage's "Reset authorizer cache".
  await page.getByRole("navigation", { name: "HTTP API sections" }).getByRole("link", { name: "Stages", exact: true }).click();
  const card = page.getByTestId("http-stage-$default");
  await card.getByRole("button", { name: "Reset authorizer cache" }).click();
  const dialog = page.getByRole("dialog", { name: "Reset authorizer cache" });
  await dialog.getByText("Forget the cached Lambda authorizer decisions of stage $default").waitFor();
  await shot("http-metrics-02-reset");
  await dialog.getByRole("button", { name: "Reset authorizer cache" }).click();
  await toast("Authorizer cache of $default reset");

  await ok("DELETE", `/v2/apis/${apiId}`);
  assert.deepEqual(problems, []);
  assert.deepEqual(violations, []);
});
