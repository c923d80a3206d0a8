// Browser test of the WebSocket API screens (issue 19's console part; node's test runner +
// playwright-core + Debian Chromium), against the control plane and node tests/run.sh starts
// (CONSOLE_TESTS=websocket). The journey: sign in; on WebSocket APIs a create with a bad
// route selection expression is refused and the server's message is shown at that field;
// a good one opens the API page; its Integrations tab creates a MOCK integration (and a
// refused HTTP_PROXY URL shows its message at the URL field); Routes creates a `$default`
// route targeting it; Stages creates `dev` with autoDeploy and a stage variable and shows
// its ws:// URL, which the test connects to from node (the page's CSP allows no
// other origin): the node answers the message with the
// mock's template; the stage's live connection count shows a client held open, then none;
// the Usage tab shows the metered messages and its "Download CSV" is the export of the same
// numbers. The list shows the API and deletes it. axe-core checks each screen; no
// page error is allowed. Screenshots land in web-console/test-results/ (prefix "websocket").
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { randomBytes } from "node:crypto";
import { CONSOLE, DP, USER, PASSWORD, page, problems, violations, expectHttpErrors, shot, fromPage } from "./harness.mjs";

async function toast(text) {
  await page.getByTestId("toast").filter({ hasText: text }).first().waitFor();
}

async function ok(method, path, body) {
  const r = await fromPage(method, path, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * Connects to a stage's ws:// URL from node (the URL's host names the API; the connection
 * goes to the node on 127.0.0.1), sends `message` as one text frame and answers the first
 * text frame back (`message: ...`), or how the attempt ended.
 */
function exchange(url, message) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const req = http.request({
      host: "127.0.0.1",
      port: u.port,
      path: u.pathname,
      headers: { host: u.host, connection: "Upgrade", upgrade: "websocket", "sec-websocket-key": randomBytes(16).toString("base64"), "sec-websocket-version": "13" },
    });
    req.setTimeout(5000, () => req.destroy(new Error("timeout")));
    req.on("response", (res) => {
      res.resume();
      resolve(`status ${res.statusCode}`);
    });
    req.on("error", (e) => resolve(`error ${e.message}`));
    req.on("upgrade", (_res, socket, head) => {
      let buf = head;
      const done = (v) => {
        socket.destroy();
        resolve(v);
      };
      // One masked text frame (client to server), payload under 126 bytes.
      const payload = Buffer.from(message);
      const mask = randomBytes(4);
      socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]))]));
      // The first server frame (unmasked, payload under 126 bytes).
      const read = () => {
        if (buf.length < 2) return;
        const len = buf[1] & 0x7f;
        if (buf.length < 2 + len) return;
        const opcode = buf[0] & 0x0f;
        done(opcode === 1 ? `message: ${buf.subarray(2, 2 + len).toString()}` : `opcode ${opcode}`);
      };
      socket.on("data", (c) => {
        buf = Buffer.concat([buf, c]);
        read();
      });
      socket.on("close", () => done("closed"));
      socket.on("error", (e) => done(`error ${e.message}`));
      socket.setTimeout(5000, () => done("timeout"));
      read();
    });
    req.end();
  });
}

/** Opens a WebSocket to a stage's ws:// URL from node and keeps it open: answers the socket. */
function hold(url) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: "127.0.0.1",
      port: u.port,
      path: u.pathname,
      headers: { host: u.host, connection: "Upgrade", upgrade: "websocket", "sec-websocket-key": randomBytes(16).toString("base64"), "sec-websocket-version": "13" },
    });
    req.on("response", (res) => reject(new Error(`status ${res.statusCode}`)));
    req.on("error", reject);
    req.on("upgrade", (_res, socket) => resolve(socket));
    req.end();
  });
}

test("a WebSocket API is created, given a $default MOCK route and a stage, and answers on its ws:// URL", async () => {
  await page.goto(`${CONSOLE}/apis/websocket`);
  await page.waitForURL(/\/signin/);
  await page.getByLabel("Username").fill(USER);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/apis\/websocket$/);
  // The node of this run answers on DP's port: the stage's URL uses it.
  const port = new URL(DP).port;
  await page.evaluate(([node, domain]) => localStorage.setItem("apigw.invokeEndpoint", JSON.stringify({ node, domain })), [DP, `execute-api.localhost:${port}`]);
  await page.getByText("No WebSocket APIs yet").waitFor();
  await shot("websocket-01-empty");

  // A refused create: the server's message at the route selection expression.
  await page.getByRole("button", { name: "Create WebSocket API" }).click();
  const create = page.getByRole("dialog", { name: "Create WebSocket API" });
  await create.getByLabel("Name").fill("chat-console");
  await create.getByLabel("Route selection expression").fill("$request.header.x");
  expectHttpErrors(true);
  await create.getByRole("button", { name: "Create" }).click();
  const rse = create.getByLabel("Route selection expression");
  await create.locator(".error-text", { hasText: "routeSelectionExpression" }).waitFor();
  assert.equal(await rse.getAttribute("aria-invalid"), "true");
  expectHttpErrors(false);
  await shot("websocket-02-refused");
  await rse.fill("$request.body.action");
  await create.getByRole("button", { name: "Create" }).click();
  await toast("WebSocket API “chat-console” created");
  await page.waitForURL(/\/apis\/websocket\/[a-z0-9]+\/routes$/);
  const apiId = page.url().split("/").at(-2);
  await page.getByText("No routes yet").waitFor();

  // Integrations: a refused HTTP_PROXY URL, then a MOCK.
  await page.getByRole("link", { name: "Integrations" }).click();
  await page.getByText("No integrations yet").waitFor();
  await page.getByRole("button", { name: "Create integration" }).click();
  let dialog = page.getByRole("dialog", { name: "Create integration" });
  await dialog.getByLabel("Integration type").selectOption("HTTP_PROXY");
  await dialog.getByLabel("Endpoint URL").fill("ftp://example.com");
  expectHttpErrors(true);
  await dialog.getByRole("button", { name: "Create" }).click();
  await dialog.locator(".error-text", { hasText: "Invalid integrationUri" }).waitFor();
  expectHttpErrors(false);
  await dialog.getByLabel("Integration type").selectOption("MOCK");
  await dialog.getByRole("button", { name: "Create" }).click();
  await toast("MOCK integration created");
  const integrations = await ok("GET", `/v2/apis/${apiId}/integrations`);
  assert.equal(integrations.items.length, 1);
  const mock = integrations.items[0];
  assert.equal(mock.integrationType, "MOCK");
  await page.getByTestId("ws-integrations").getByText(mock.integrationId).waitFor();
  await shot("websocket-03-integrations");
  // What the mock answers (the Responses screen is websocket-settings.test.mjs's).
  await ok("POST", `/v2/apis/${apiId}/integrations/${mock.integrationId}/integrationresponses`, {
    integrationResponseKey: "$default",
    responseTemplates: { $default: '{"from": "mock"}' },
  });

  // Routes: $default targeting the mock.
  await page.getByRole("link", { name: "Routes" }).click();
  await page.getByRole("button", { name: "Create route" }).click();
  dialog = page.getByRole("dialog", { name: "Create route" });
  await dialog.getByLabel("Route", { exact: true }).selectOption("$default");
  await dialog.getByLabel("Target integration").selectOption(mock.integrationId);
  await dialog.getByLabel("Send the integration's answer back").check();
  await shot("websocket-04-create-route");
  await dialog.getByRole("button", { name: "Create" }).click();
  await toast("Route $default created");
  await page.getByTestId("ws-routes").getByText("$default").waitFor();
  const routes = await ok("GET", `/v2/apis/${apiId}/routes`);
  assert.equal(routes.items.length, 1);
  assert.equal(routes.items[0].target, `integrations/${mock.integrationId}`);
  assert.equal(routes.items[0].routeResponseSelectionExpression, "$default");
  const responses = await ok("GET", `/v2/apis/${apiId}/routes/${routes.items[0].routeId}/routeresponses`);
  assert.deepEqual(responses.items.map((r) => r.routeResponseKey), ["$default"]);
  await shot("websocket-05-routes");

  // Stages: dev with autoDeploy and a variable; its ws:// URL answers.
  await page.getByRole("link", { name: "Stages" }).click();
  await page.getByText("No stages yet").waitFor();
  await page.getByRole("button", { name: "Create stage" }).click();
  dialog = page.getByRole("dialog", { name: "Create stage" });
  await dialog.getByLabel("Stage name").fill("a b");
  expectHttpErrors(true);
  await dialog.getByRole("button", { name: "Create" }).click();
  await dialog.locator(".error-text").waitFor();
  assert.equal(await dialog.getByLabel("Stage name").getAttribute("aria-invalid"), "true");
  expectHttpErrors(false);
  await dialog.getByLabel("Stage name").fill("dev");
  await dialog.getByRole("button", { name: "Add stage variable" }).click();
  await dialog.getByLabel("Variable name 1", { exact: true }).fill("color");
  await dialog.getByLabel("Value 1", { exact: true }).fill("blue");
  await dialog.getByRole("button", { name: "Create" }).click();
  await toast("Stage dev created");
  const card = page.getByTestId("ws-stage-dev");
  await card.getByText("On: every change is deployed").waitFor();
  await card.getByText("color=blue").waitFor();
  const url = await page.getByTestId("ws-url-dev").textContent();
  assert.equal(url, `ws://${apiId}.execute-api.localhost:${port}/dev`);
  const stage = await ok("GET", `/v2/apis/${apiId}/stages/dev`);
  assert.equal(stage.autoDeploy, true);
  assert.deepEqual(stage.stageVariables, { color: "blue" });
  await shot("websocket-06-stages");
  // The node gets the deployment over its stream: poll until it answers.
  const deadline = Date.now() + 15_000;
  let last;
  while (Date.now() < deadline) {
    last = await exchange(url, '{"action": "hello"}');
    if (last === 'message: {"from": "mock"}') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(last, 'message: {"from": "mock"}');
  // The live connection count: a client held open shows, then goes away.
  const counted = card.getByTestId("ws-connections-dev");
  await counted.getByText("0 clients connected now").waitFor();
  const held = await hold(url);
  await counted.getByRole("button", { name: "Refresh the connection count of dev" }).click();
  await counted.getByText("1 client connected now").waitFor({ timeout: 15_000 });
  await shot("websocket-06b-connections");
  held.destroy();
  await counted.getByText("0 clients connected now").waitFor({ timeout: 15_000 });
  // Without automatic deployment, "Deploy to dev" makes a deployment by hand.
  const before = stage.deploymentId;
  assert.equal(await card.getByRole("button", { name: "Deploy to dev" }).count(), 0);
  await card.getByRole("button", { name: "Turn automatic deployment off" }).click();
  await toast("Automatic deployment of dev turned off");
  await card.getByText("Off", { exact: true }).waitFor();
  await card.getByRole("button", { name: "Deploy to dev" }).click();
  await toast("to dev");
  await shot("websocket-07-deployed");
  assert.notEqual((await ok("GET", `/v2/apis/${apiId}/stages/dev`)).deploymentId, before);

  // Usage: the exchange above is metered (a message in, the mock's answer out, a minute of
  // connection); the Usage tab shows it once the counters are in, and "Download CSV" is the
  // export of the same range, with the same numbers.
  await page.getByRole("link", { name: "Usage", exact: true }).click();
  const usageTable = page.getByTestId("ws-usage");
  await usageTable.waitFor();
  const usageDeadline = Date.now() + 15_000;
  let usage;
  while (Date.now() < usageDeadline) {
    usage = await ok("GET", `/v2/apis/${apiId}/usage?startDate=${new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10)}&endDate=${new Date().toISOString().slice(0, 10)}`);
    if (usage.items.some((i) => i.messages >= 2 && i.connectionMinutes >= 1)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const day = usage.items.find((i) => i.stage === "dev");
  assert.ok(day && day.messages >= 2, JSON.stringify(usage));
  // The table reads on opening: reopen the tab to see the metered numbers.
  await page.getByRole("link", { name: "Stages" }).click();
  await page.getByRole("link", { name: "Usage", exact: true }).click();
  await usageTable.getByRole("cell", { name: String(day.messages), exact: true }).first().waitFor();
  const href = await page.getByRole("link", { name: "Download CSV" }).getAttribute("href");
  assert.match(href, new RegExp(`^/v2/apis/${apiId}/usage/export\\?startDate=\\d{4}-\\d{2}-\\d{2}&endDate=\\d{4}-\\d{2}-\\d{2}$`));
  const csv = await page.evaluate(async (path) => {
    const r = await fetch(path);
    return { status: r.status, type: r.headers.get("content-type"), text: await r.text() };
  }, href);
  assert.equal(csv.status, 200);
  assert.match(csv.type, /^text\/csv/);
  const lines = csv.text.trim().split("\n");
  assert.equal(lines[0], "apiId,apiName,stage,day,messages,connectionMinutes");
  assert.ok(lines.includes(`${apiId},chat-console,dev,${day.date},${day.messages},${day.connectionMinutes}`), csv.text);
  await shot("websocket-08-usage");

  // The list shows it; deleting it empties the list.
  await page.getByRole("link", { name: "WebSocket APIs", exact: true }).first().click();
  await page.getByTestId("ws-apis-table").getByRole("link", { name: "chat-console" }).waitFor();
  await shot("websocket-09-list");
  await page.getByRole("button", { name: "Delete chat-console" }).click();
  await page.getByRole("dialog", { name: "Delete WebSocket API" }).getByRole("button", { name: "Delete API" }).click();
  await toast("WebSocket API “chat-console” deleted");
  await page.getByText("No WebSocket APIs yet").waitFor();

  assert.deepEqual(problems, []);
  assert.deepEqual(violations, []);
});
