// Browser test of the WebSocket API screens beyond routes, integrations and stages (issue
// 19's console part; node's test runner + playwright-core + Debian Chromium), against the
// control plane, node and functions host tests/run.sh starts (CONSOLE_TESTS=websocket-settings).
// An API and a MOCK integration are made through the API; then, each checked through the
// API and not only on the page:
// - Integrations → Responses: a refused key and a template that does not parse show their
//   messages where they belong; `$default` with a template is created, a `/4\d{2}/` one
//   created and deleted.
// - Models: a schema that is not an object and a name that is not alphanumeric are refused
//   at their fields; one is created, edited and another deleted.
// - Authorizers: a refused identity source; a REQUEST authorizer with a query string and a
//   header source is created, edited (renamed, the header removed); a spare one deleted.
// - Routes: `$connect` with that authorizer (the picker), `$default` to the mock; the
//   `$default` route's Responses turn its route response selection expression on, refuse a
//   key other than `$default`, create `$default` with a response model, and delete another.
// - Routes → Edit (UpdateRoute): `$default`'s target, model selection expression and request
//   model; `$connect`'s authorization CUSTOM → NONE → CUSTOM (refused without an authorizer,
//   the message under the picker; then with it and an API key) → AWS_IAM → CUSTOM.
// - The `dev` stage then answers on the node: 401 without the token, the integration
//   response's template with it.
// - Stages → Route settings: a negative burst is refused at its field; defaults saved; a
//   `$default` override (burst 1, no rate) makes the node answer "Too Many Requests";
//   removing it (DeleteRouteSettings) brings the answers back.
// axe-core checks each screen; no page error is allowed. Screenshots: prefix "ws-settings".
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

/** Saves `dialog` (it closes once the change is made) and waits for the toast `text`. */
async function save(dialog, text) {
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  await toast(text);
}

/** Clicks `button` of `dialog` expecting a refusal (a 4XX the page reports). */
async function refused(dialog, button, errorLocator) {
  expectHttpErrors(true);
  await dialog.getByRole("button", { name: button, exact: true }).click();
  await errorLocator.waitFor();
  expectHttpErrors(false);
}

/**
 * Connects to a ws:// URL (path and query kept) from node, the connection going to the node
 * on 127.0.0.1 with the URL's host, sends `message` as one text frame and answers the first
 * text frame back (`message: ...`), or how the attempt ended (`status 401`, ...).
 */
function exchange(url, message) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const req = http.request({
      host: "127.0.0.1",
      port: u.port,
      path: u.pathname + u.search,
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
      const payload = Buffer.from(message);
      const mask = randomBytes(4);
      socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]))]));
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

/** Exchanges until `want(answer)` holds (the node gets each deployment over its stream), or 15 s. */
async function until(url, message, want) {
  const deadline = Date.now() + 15_000;
  let last;
  while (Date.now() < deadline) {
    last = await exchange(url, message);
    if (want(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`the node kept answering ${last}`);
}

const AUTHORIZER_ARN = "arn:aws:lambda:us-east-1:000000000000:function:websocket-authorizer";
const AUTHORIZER_URI = `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${AUTHORIZER_ARN}/invocations`;

test("WebSocket integration responses, models, authorizers, route responses and route settings are managed from the console", async () => {
  await page.goto(`${CONSOLE}/apis/websocket`);
  await page.waitForURL(/\/signin/);
  await page.getByLabel("Username").fill(USER);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/apis\/websocket$/);
  const port = new URL(DP).port;
  await page.evaluate(([node, domain]) => localStorage.setItem("apigw.invokeEndpoint", JSON.stringify({ node, domain })), [DP, `execute-api.localhost:${port}`]);

  const api = await ok("POST", "/v2/apis", { name: "ws-settings", protocolType: "WEBSOCKET", routeSelectionExpression: "$request.body.action" });
  const apiId = api.apiId;
  const mock = await ok("POST", `/v2/apis/${apiId}/integrations`, { integrationType: "MOCK" });
  const base = `/v2/apis/${apiId}`;

  // ---- integration responses --------------------------------------------------------
  await page.goto(`${CONSOLE}/apis/websocket/${apiId}/integrations`);
  await page.getByRole("button", { name: `Responses of integration ${mock.integrationId}` }).click();
  const irPanel = page.getByTestId("ws-integration-responses");
  await irPanel.getByText("No integration responses").waitFor();
  await irPanel.getByRole("button", { name: "Create integration response" }).click();
  let dialog = page.getByRole("dialog", { name: /Create an integration response/ });
  await dialog.getByLabel("Integration response key").fill("200");
  await refused(dialog, "Create", dialog.locator(".error-text", { hasText: "Invalid integrationResponseKey '200'" }));
  assert.equal(await dialog.getByLabel("Integration response key").getAttribute("aria-invalid"), "true");
  await dialog.getByLabel("Integration response key").fill("$default");
  await dialog.getByLabel("Template key 1", { exact: true }).fill("$default");
  await dialog.getByLabel("Template 1", { exact: true }).fill('#if($context.routeKey) {"unclosed": true}');
  await refused(dialog, "Create", dialog.getByRole("alert").filter({ hasText: "responseTemplates.$default: Invalid mapping template" }));
  await shot("ws-settings-01-integration-response-refused");
  await dialog.getByLabel("Template 1", { exact: true }).fill('{"from": "console"}');
  await dialog.getByRole("button", { name: "Create", exact: true }).click();
  await toast("Integration response $default created");
  await irPanel.getByRole("button", { name: "Create integration response" }).click();
  dialog = page.getByRole("dialog", { name: /Create an integration response/ });
  await dialog.getByLabel("Integration response key").fill("/4\\d{2}/");
  await dialog.getByLabel("Template selection expression").fill("$default");
  await dialog.getByRole("button", { name: "Remove Template key 1" }).click();
  await dialog.getByRole("button", { name: "Create", exact: true }).click();
  await toast("Integration response /4\\d{2}/ created");
  let irs = (await ok("GET", `${base}/integrations/${mock.integrationId}/integrationresponses`)).items;
  assert.deepEqual(
    irs.map((r) => [r.integrationResponseKey, r.templateSelectionExpression, r.responseTemplates]).sort(),
    [
      ["$default", undefined, { $default: '{"from": "console"}' }],
      ["/4\\d{2}/", "$default", undefined],
    ],
  );
  await irPanel.getByRole("cell", { name: "/4\\d{2}/", exact: true }).waitFor();
  await shot("ws-settings-02-integration-responses");
  await irPanel.getByRole("button", { name: "Delete integration response /4\\d{2}/" }).click();
  await page.getByRole("dialog", { name: "Delete integration response" }).getByRole("button", { name: "Delete" }).click();
  await toast("Integration response /4\\d{2}/ deleted");
  irs = (await ok("GET", `${base}/integrations/${mock.integrationId}/integrationresponses`)).items;
  assert.deepEqual(irs.map((r) => r.integrationResponseKey), ["$default"]);

  // ---- models -----------------------------------------------------------------------
  await page.getByRole("link", { name: "Models" }).click();
  await page.getByText("No models yet").waitFor();
  await page.getByRole("button", { name: "Create model" }).click();
  dialog = page.getByRole("dialog", { name: "Create model" });
  await dialog.getByLabel("Model name").fill("Message");
  const schema = dialog.getByLabel("Schema (JSON Schema draft-04)");
  await schema.fill("[1, 2]");
  await refused(dialog, "Create", dialog.locator(".error-text", { hasText: "Invalid model schema: it must be a JSON object" }));
  assert.equal(await schema.getAttribute("aria-invalid"), "true");
  await shot("ws-settings-03-model-refused");
  await schema.fill('{"type": "object", "required": ["action"]}');
  await dialog.getByLabel("Model name").fill("bad-name");
  await refused(dialog, "Create", dialog.locator(".error-text", { hasText: "Invalid model name 'bad-name'" }));
  assert.equal(await dialog.getByLabel("Model name").getAttribute("aria-invalid"), "true");
  await dialog.getByLabel("Model name").fill("Message");
  await dialog.getByRole("button", { name: "Create", exact: true }).click();
  await toast("Model Message created");
  await page.getByRole("button", { name: "Create model" }).click();
  dialog = page.getByRole("dialog", { name: "Create model" });
  await dialog.getByLabel("Model name").fill("Spare");
  await dialog.getByRole("button", { name: "Create", exact: true }).click();
  await toast("Model Spare created");
  await page.getByRole("button", { name: "Edit model Message" }).click();
  dialog = page.getByRole("dialog", { name: "Edit model Message" });
  await dialog.getByLabel("Description").fill("What clients send");
  await dialog.getByLabel("Schema (JSON Schema draft-04)").fill('{"type": "object", "required": ["action", "data"]}');
  await dialog.getByRole("button", { name: "Save" }).click();
  await toast("Model Message saved");
  await page.getByRole("button", { name: "Delete model Spare" }).click();
  await page.getByRole("dialog", { name: "Delete model" }).getByRole("button", { name: "Delete model" }).click();
  await toast("Model Spare deleted");
  await page.getByTestId("ws-models").getByText("What clients send").waitFor();
  await shot("ws-settings-04-models");
  let models = (await ok("GET", `${base}/models`)).items;
  assert.equal(models.length, 1);
  assert.equal(models[0].name, "Message");
  assert.equal(models[0].description, "What clients send");
  assert.equal(models[0].contentType, "application/json");
  assert.deepEqual(JSON.parse(models[0].schema), { type: "object", required: ["action", "data"] });

  // ---- authorizers ------------------------------------------------------------------
  await page.getByRole("link", { name: "Authorizers" }).click();
  await page.getByText("No authorizers yet").waitFor();
  await page.getByRole("button", { name: "Create authorizer" }).click();
  dialog = page.getByRole("dialog", { name: "Create authorizer" });
  await dialog.getByLabel("Authorizer name").fill("token");
  await dialog.getByLabel("Lambda function").fill(AUTHORIZER_ARN);
  await dialog.getByLabel("Identity source 1 kind").selectOption({ label: "Expression (as written)" });
  await dialog.getByLabel("Identity source 1 name").fill("route.request.cookie.token");
  await refused(dialog, "Create", dialog.getByRole("alert").filter({ hasText: "Invalid identitySource 'route.request.cookie.token'" }));
  await shot("ws-settings-05-authorizer-refused");
  await dialog.getByLabel("Identity source 1 kind").selectOption({ label: "Query string" });
  await dialog.getByLabel("Identity source 1 name").fill("token");
  await dialog.getByRole("button", { name: "Add identity source" }).click();
  await dialog.getByLabel("Identity source 2 kind").selectOption({ label: "Header" });
  await dialog.getByLabel("Identity source 2 name").fill("Auth");
  await dialog.getByRole("button", { name: "Create", exact: true }).click();
  await toast("Authorizer token created");
  let authorizers = (await ok("GET", `${base}/authorizers`)).items;
  assert.equal(authorizers.length, 1);
  const auth = authorizers[0];
  assert.equal(auth.authorizerType, "REQUEST");
  assert.equal(auth.authorizerUri, AUTHORIZER_URI);
  assert.deepEqual(auth.identitySource, ["route.request.querystring.token", "route.request.header.Auth"]);
  await page.getByRole("button", { name: "Edit authorizer token" }).click();
  dialog = page.getByRole("dialog", { name: "Edit authorizer token" });
  await dialog.getByLabel("Authorizer name").fill("querytoken");
  await dialog.getByRole("button", { name: "Remove identity source 2" }).click();
  await dialog.getByRole("button", { name: "Save" }).click();
  await toast("Authorizer querytoken saved");
  authorizers = (await ok("GET", `${base}/authorizers`)).items;
  assert.deepEqual(
    authorizers.map((a) => [a.authorizerId, a.name, a.identitySource]),
    [[auth.authorizerId, "querytoken", ["route.request.querystring.token"]]],
  );
  await page.getByRole("button", { name: "Create authorizer" }).click();
  dialog = page.getByRole("dialog", { name: "Create authorizer" });
  await dialog.getByLabel("Authorizer name").fill("spare");
  await dialog.getByLabel("Lambda function").fill(AUTHORIZER_ARN);
  await dialog.getByLabel("Identity source 1 name").fill("other");
  await dialog.getByRole("button", { name: "Create", exact: true }).click();
  await toast("Authorizer spare created");
  await page.getByRole("button", { name: "Delete authorizer spare" }).click();
  await page.getByRole("dialog", { name: "Delete authorizer" }).getByRole("button", { name: "Delete authorizer" }).click();
  await toast("Authorizer spare deleted");
  authorizers = (await ok("GET", `${base}/authorizers`)).items;
  assert.deepEqual(authorizers.map((a) => a.name), ["querytoken"]);
  await shot("ws-settings-06-authorizers");

  // ---- routes: $connect with the authorizer, $default and its responses ------------------
  await page.getByRole("link", { name: "Routes" }).click();
  await page.getByText("No routes yet").waitFor();
  await page.getByRole("button", { name: "Create route" }).click();
  dialog = page.getByRole("dialog", { name: "Create route" });
  await dialog.getByLabel("Route", { exact: true }).selectOption("$connect");
  await dialog.getByLabel("Authorization").selectOption("CUSTOM");
  await dialog.getByLabel("Authorizer", { exact: true }).selectOption(auth.authorizerId);
  await dialog.getByLabel("Target integration").selectOption(mock.integrationId);
  await dialog.getByRole("button", { name: "Create", exact: true }).click();
  await toast("Route $connect created");
  await page.getByRole("button", { name: "Create route" }).click();
  dialog = page.getByRole("dialog", { name: "Create route" });
  await dialog.getByLabel("Route", { exact: true }).selectOption("$default");
  await dialog.getByLabel("Target integration").selectOption(mock.integrationId);
  await dialog.getByRole("button", { name: "Create", exact: true }).click();
  await toast("Route $default created");
  await page.getByTestId("ws-routes").getByText("CUSTOM (querytoken)").waitFor();
  let routes = (await ok("GET", `${base}/routes`)).items;
  const connect = routes.find((r) => r.routeKey === "$connect");
  assert.equal(connect.authorizationType, "CUSTOM");
  assert.equal(connect.authorizerId, auth.authorizerId);
  const dflt = routes.find((r) => r.routeKey === "$default");
  assert.equal(dflt.routeResponseSelectionExpression, undefined);

  // The authorizer is in use: deleting it is refused, the message stays in the dialog.
  await page.getByRole("link", { name: "Authorizers" }).click();
  await page.getByTestId("ws-authorizers").getByText("$connect").waitFor();
  await page.getByRole("button", { name: "Delete authorizer querytoken" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete authorizer" });
  await refused(confirm, "Delete authorizer", confirm.getByRole("alert").filter({ hasText: "it is used by the route(s) $connect" }));
  await confirm.getByRole("button", { name: "Cancel" }).click();
  assert.equal((await ok("GET", `${base}/authorizers`)).items.length, 1);

  await page.getByRole("link", { name: "Routes" }).click();
  await page.getByRole("button", { name: "Responses of route $default" }).click();
  const rrPanel = page.getByTestId("ws-route-responses");
  await rrPanel.getByText("No route responses").waitFor();
  await rrPanel.getByRole("button", { name: "Send answers back ($default)" }).click();
  await toast("Route $default now sends answers back");
  await rrPanel.getByRole("button", { name: "Send answers back ($default)" }).waitFor({ state: "detached" });
  routes = (await ok("GET", `${base}/routes`)).items;
  assert.equal(routes.find((r) => r.routeKey === "$default").routeResponseSelectionExpression, "$default");
  await rrPanel.getByRole("button", { name: "Create route response" }).click();
  dialog = page.getByRole("dialog", { name: /Create a route response/ });
  await dialog.getByLabel("Route response key").fill("ok");
  await dialog.getByLabel("Model selection expression").fill("$default");
  await dialog.getByRole("button", { name: "Add response model" }).click();
  await dialog.getByLabel("Model selection key 1").fill("$default");
  await dialog.getByLabel("Model 1", { exact: true }).selectOption("Message");
  await refused(dialog, "Create", dialog.locator(".error-text", { hasText: "Invalid routeResponseKey 'ok'" }));
  assert.equal(await dialog.getByLabel("Route response key").getAttribute("aria-invalid"), "true");
  await shot("ws-settings-07-route-response-refused");
  await dialog.getByLabel("Route response key").fill("$default");
  await dialog.getByRole("button", { name: "Create", exact: true }).click();
  await toast("Route response $default created");
  await rrPanel.getByText("$default → Message").waitFor();
  let rrs = (await ok("GET", `${base}/routes/${dflt.routeId}/routeresponses`)).items;
  assert.deepEqual(
    rrs.map((r) => [r.routeResponseKey, r.modelSelectionExpression, r.responseModels]),
    [["$default", "$default", { $default: "Message" }]],
  );
  await shot("ws-settings-08-route-responses");
  // One on $connect is created and deleted.
  await page.getByRole("button", { name: "Responses of route $connect" }).click();
  await rrPanel.getByRole("heading", { name: "Route responses of $connect" }).waitFor();
  await rrPanel.getByText("No route responses").waitFor();
  await rrPanel.getByRole("button", { name: "Create route response" }).click();
  dialog = page.getByRole("dialog", { name: /Create a route response of \$connect/ });
  await dialog.getByRole("button", { name: "Create", exact: true }).click();
  await rrPanel.getByRole("button", { name: "Delete route response $default" }).waitFor();
  assert.equal((await ok("GET", `${base}/routes/${connect.routeId}/routeresponses`)).items.length, 1);
  await rrPanel.getByRole("button", { name: "Delete route response $default" }).click();
  await page.getByRole("dialog", { name: "Delete route response" }).getByRole("button", { name: "Delete" }).click();
  await toast("Route response $default deleted");
  await rrPanel.getByText("No route responses").waitFor();
  assert.equal((await ok("GET", `${base}/routes/${connect.routeId}/routeresponses`)).items.length, 0);
  rrs = (await ok("GET", `${base}/routes/${dflt.routeId}/routeresponses`)).items;
  assert.equal(rrs.length, 1);

  // ---- editing routes (UpdateRoute) ----------------------------------------------------
  // `$default`: another target, a model selection expression and a request model; then the
  // first mock again (its integration response answers on the node below).
  const mock2 = await ok("POST", `${base}/integrations`, { integrationType: "MOCK" });
  await page.goto(`${CONSOLE}/apis/websocket/${apiId}/routes`);
  await page.getByRole("button", { name: "Edit route $default" }).click();
  dialog = page.getByRole("dialog", { name: "Edit route $default" });
  assert.equal(await dialog.getByLabel("Target integration").inputValue(), mock.integrationId);
  assert.equal(await dialog.getByLabel("Route response selection expression").inputValue(), "$default");
  assert.equal(await dialog.getByLabel("Authorization").count(), 0, "authorization is only offered on $connect");
  await dialog.getByLabel("Target integration").selectOption(mock2.integrationId);
  await dialog.getByLabel("Model selection expression").fill("$default");
  await dialog.getByRole("button", { name: "Add request model" }).click();
  assert.equal(await dialog.getByLabel("Request model key 1", { exact: true }).inputValue(), "$default");
  await dialog.getByLabel("Request model 1", { exact: true }).selectOption("Message");
  await shot("ws-settings-08a-route-edit");
  await save(dialog, "Route $default saved");
  await page.getByTestId("ws-routes").getByText(`MOCK (${mock2.integrationId})`).waitFor();
  let route = await ok("GET", `${base}/routes/${dflt.routeId}`);
  assert.equal(route.target, `integrations/${mock2.integrationId}`);
  assert.equal(route.modelSelectionExpression, "$default");
  assert.deepEqual(route.requestModels, { $default: "Message" });
  assert.equal(route.routeResponseSelectionExpression, "$default");
  assert.equal(route.authorizationType, "NONE");
  await page.getByRole("button", { name: "Edit route $default" }).click();
  dialog = page.getByRole("dialog", { name: "Edit route $default" });
  assert.equal(await dialog.getByLabel("Request model 1", { exact: true }).inputValue(), "Message");
  await dialog.getByLabel("Target integration").selectOption(mock.integrationId);
  await save(dialog, "Route $default saved");
  route = await ok("GET", `${base}/routes/${dflt.routeId}`);
  assert.equal(route.target, `integrations/${mock.integrationId}`);
  assert.deepEqual(route.requestModels, { $default: "Message" });

  // `$connect`: CUSTOM → NONE → CUSTOM (refused without an authorizer, then with it and an
  // API key) → AWS_IAM; then back to the authorizer for the node below.
  const connectRow = page.getByTestId("ws-routes").getByRole("row").filter({ hasText: "$connect" });
  const editConnect = async () => {
    await page.getByRole("button", { name: "Edit route $connect" }).click();
    return page.getByRole("dialog", { name: "Edit route $connect" });
  };
  dialog = await editConnect();
  // The authorizers are listed once the dialog is open.
  await dialog.locator("option", { hasText: "querytoken" }).waitFor({ state: "attached" });
  assert.equal(await dialog.getByLabel("Authorization").inputValue(), "CUSTOM");
  assert.equal(await dialog.getByLabel("Authorizer", { exact: true }).inputValue(), auth.authorizerId);
  await dialog.getByLabel("Authorization").selectOption("NONE");
  await save(dialog, "Route $connect saved");
  route = await ok("GET", `${base}/routes/${connect.routeId}`);
  assert.equal(route.authorizationType, "NONE");
  assert.equal(route.authorizerId, undefined);
  assert.equal(route.target, `integrations/${mock.integrationId}`);
  await connectRow.getByRole("cell", { name: "NONE", exact: true }).waitFor();

  dialog = await editConnect();
  await dialog.getByLabel("Authorization").selectOption("CUSTOM");
  assert.equal(await dialog.getByLabel("Authorizer", { exact: true }).inputValue(), "");
  await refused(dialog, "Save", dialog.getByRole("alert").filter({ hasText: "authorizerId is required when authorizationType is CUSTOM" }));
  // Under the authorizer picker, the field it names.
  await dialog.locator(".field:has(select[name=authorizerId]) + p.error", { hasText: "authorizerId is required" }).waitFor();
  await shot("ws-settings-08b-route-edit-refused");
  assert.equal((await ok("GET", `${base}/routes/${connect.routeId}`)).authorizationType, "NONE");
  await dialog.getByLabel("Authorizer", { exact: true }).selectOption(auth.authorizerId);
  await dialog.getByLabel("API key required").check();
  await save(dialog, "Route $connect saved");
  await page.getByTestId("ws-routes").getByText("CUSTOM (querytoken) · API key").waitFor();
  route = await ok("GET", `${base}/routes/${connect.routeId}`);
  assert.equal(route.authorizationType, "CUSTOM");
  assert.equal(route.authorizerId, auth.authorizerId);
  assert.equal(route.apiKeyRequired, true);

  dialog = await editConnect();
  assert.equal(await dialog.getByLabel("API key required").isChecked(), true);
  await dialog.getByLabel("Authorization").selectOption("AWS_IAM");
  await dialog.getByLabel("API key required").uncheck();
  await save(dialog, "Route $connect saved");
  await connectRow.getByRole("cell", { name: "AWS_IAM", exact: true }).waitFor();
  route = await ok("GET", `${base}/routes/${connect.routeId}`);
  assert.equal(route.authorizationType, "AWS_IAM");
  assert.equal(route.authorizerId, undefined);
  assert.equal(route.apiKeyRequired, false);

  dialog = await editConnect();
  await dialog.getByLabel("Authorization").selectOption("CUSTOM");
  await dialog.getByLabel("Authorizer", { exact: true }).selectOption(auth.authorizerId);
  await save(dialog, "Route $connect saved");
  route = await ok("GET", `${base}/routes/${connect.routeId}`);
  assert.deepEqual([route.authorizationType, route.authorizerId, route.apiKeyRequired], ["CUSTOM", auth.authorizerId, false]);

  // ---- the stage answers on the node --------------------------------------------------
  await ok("POST", `${base}/stages`, { stageName: "dev", autoDeploy: true });
  const url = `ws://${apiId}.execute-api.localhost:${port}/dev`;
  const answered = 'message: {"from": "console"}';
  await until(`${url}?token=allow`, '{"action": "hello"}', (a) => a === answered);
  assert.equal(await exchange(url, '{"action": "hello"}'), "status 401");

  // ---- route settings ------------------------------------------------------------------
  await page.getByRole("link", { name: "Stages" }).click();
  const card = page.getByTestId("ws-stage-dev");
  await card.getByRole("button", { name: "Route settings", exact: true }).click();
  const defaults = card.getByRole("form", { name: "Default route settings of dev" });
  await defaults.getByLabel("Throttling burst limit").fill("-1");
  await defaults.getByLabel("Throttling rate limit (messages/s)").fill("10000");
  await refused(defaults, "Save default route settings", defaults.locator(".error-text", { hasText: "must not be negative" }));
  assert.equal(await defaults.getByLabel("Throttling burst limit").getAttribute("aria-invalid"), "true");
  await shot("ws-settings-09-route-settings-refused");
  await defaults.getByLabel("Throttling burst limit").fill("5000");
  await defaults.getByLabel("Logging level").selectOption("INFO");
  await defaults.getByLabel("Detailed metrics (per route)").check();
  await defaults.getByLabel("Data trace (log full message data)").check();
  await defaults.getByRole("button", { name: "Save default route settings" }).click();
  await toast("Default route settings of dev saved");
  await card.getByText("Default throttling: burst 5000, rate 10000/s").waitFor();
  let stage = await ok("GET", `${base}/stages/dev`);
  assert.deepEqual(stage.defaultRouteSettings, {
    throttlingBurstLimit: 5000,
    throttlingRateLimit: 10000,
    detailedMetricsEnabled: true,
    dataTraceEnabled: true,
    loggingLevel: "INFO",
  });

  await card.getByRole("button", { name: "Add route override" }).click();
  dialog = page.getByRole("dialog", { name: "Add a route override on dev" });
  await dialog.getByLabel("Route", { exact: true }).selectOption("$default");
  await dialog.getByLabel("Throttling burst limit").fill("1");
  await dialog.getByLabel("Logging level").selectOption("ERROR");
  await dialog.getByLabel("Data trace (log full message data)").uncheck();
  await dialog.getByRole("button", { name: "Save route override" }).click();
  await toast("Route override of $default on dev saved");
  await card.getByTestId("ws-route-overrides-dev").getByRole("cell", { name: "burst 1", exact: true }).waitFor();
  await shot("ws-settings-10-route-settings");
  stage = await ok("GET", `${base}/stages/dev`);
  assert.deepEqual(stage.routeSettings, {
    $default: { throttlingBurstLimit: 1, detailedMetricsEnabled: true, dataTraceEnabled: false, loggingLevel: "ERROR" },
  });
  // A burst of 1 and no rate: once the node has the override, at most one message passes.
  const throttled = await until(`${url}?token=allow`, '{"action": "hello"}', (a) => a.includes("Too Many Requests"));
  assert.match(throttled, /^message: \{"message":"Too Many Requests"/);

  await card.getByRole("button", { name: "Delete the route override of $default" }).click();
  await page.getByRole("dialog", { name: "Remove route override" }).getByRole("button", { name: "Remove" }).click();
  await toast("Route override of $default removed");
  await card.getByText("No route overrides: every route uses the defaults.").waitFor();
  stage = await ok("GET", `${base}/stages/dev`);
  assert.deepEqual(stage.routeSettings, {});
  assert.equal(stage.defaultRouteSettings.throttlingBurstLimit, 5000);
  await until(`${url}?token=allow`, '{"action": "hello"}', (a) => a === answered);

  await ok("DELETE", base);
  assert.deepEqual(problems, []);
  assert.deepEqual(violations, []);
});
