// Browser test of the HTTP API screens (issue 20's console part; node's test runner +
// playwright-core + Debian Chromium), against the control plane and node tests/run.sh starts
// (CONSOLE_TESTS=http-api). The test starts its own backend (an HTTP server answering what it
// got) and a JWT issuer (OpenID discovery + JWKS, RS256 tokens signed here). Each step is
// checked through the management API, not only on the page:
// - Quick create: name + target URL makes the `$default` route, its HTTP_PROXY integration
//   and the `$default` stage with autoDeploy; the stage's invoke URL has no stage segment,
//   and the node answers on it from the backend. A Lambda function ARN + route key makes an
//   AWS_PROXY (2.0) integration: the node answers with the 2.0 event the function echoes.
// - A third API built screen by screen: an HTTP_PROXY integration (method, timeout, a
//   request parameter mapping from the path, a response header mapping for 200; a timeout
//   out of range is refused at its field; then edited), a JWT authorizer (issuer, audience)
//   and a Lambda REQUEST authorizer (payload 2.0, simple responses, TTL), the route
//   `GET /orders/{id}` (a path without its leading slash is refused at the Path field) with
//   the JWT authorizer and a scope (then edited), CORS (origins, methods, headers, max age),
//   the `dev` stage (autoDeploy, a variable; default route throttling; access logs).
// - The node serves `dev`: the preflight answered by the gateway, 401 without a token, 403
//   without the scope, 200 with it (the mapped request header reached the backend, the
//   mapped response header and CORS headers came back); then CORS is removed.
// - The WebSocket APIs list does not show HTTP APIs; deleting from the list works.
// axe-core checks each screen; no page error is allowed. Screenshots: prefix "http-api".
import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { generateKeyPairSync, sign } from "node:crypto";
import { CONSOLE, DP, USER, PASSWORD, page, problems, violations, expectHttpErrors, shot, fromPage } from "./harness.mjs";

async function toast(text) {
  await page.getByTestId("toast").filter({ hasText: text }).first().waitFor();
}

async function ok(method, path, body) {
  const r = await fromPage(method, path, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Listens on a free loopback port; answers the server and its base URL. */
function listen(handler) {
  const server = http.createServer(handler);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` })));
}

// The backend: answers 200 with what it got, and remembers the last request.
let lastRequest;
const backend = await listen((req, res) => {
  lastRequest = { method: req.method, url: req.url, headers: req.headers };
  res.writeHead(200, { "content-type": "application/json", "x-upstream": "yes" });
  res.end(JSON.stringify({ method: req.method, url: req.url }));
});

// The JWT issuer: discovery, JWKS, and RS256 tokens signed with its key.
const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const kid = "console-test-key";
const issuer = await listen((req, res) => {
  res.setHeader("content-type", "application/json");
  if (req.url === "/.well-known/openid-configuration") res.end(JSON.stringify({ issuer: issuer.url, jwks_uri: `${issuer.url}/jwks` }));
  else if (req.url === "/jwks") res.end(JSON.stringify({ keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" }] }));
  else {
    res.statusCode = 404;
    res.end("{}");
  }
});
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
function token(claims) {
  const now = Math.floor(Date.now() / 1000);
  const head = `${b64({ alg: "RS256", typ: "JWT", kid })}.${b64({ iss: issuer.url, sub: "user-1", iat: now, exp: now + 600, ...claims })}`;
  return `${head}.${sign("sha256", Buffer.from(head), privateKey).toString("base64url")}`;
}

after(() => {
  backend.server.close();
  issuer.server.close();
});

/** A request to an invoke URL, sent to the node on 127.0.0.1 with the URL's host. */
function call(url, { method = "GET", headers = {} } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: u.port, path: u.pathname + u.search, method, headers: { host: u.host, ...headers } }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.setTimeout(5000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/** Calls `url` until `done(answer)` (the node gets deployments over its stream), at most 15 s. */
async function until(url, options, done) {
  const deadline = Date.now() + 15_000;
  let last;
  while (Date.now() < deadline) {
    last = await call(url, options).catch((e) => ({ status: 0, body: e.message, headers: {} }));
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}

test("HTTP APIs are quick-created and built screen by screen, and their stages answer on the node", async () => {
  await page.goto(`${CONSOLE}/apis/http`);
  await page.waitForURL(/\/signin/);
  await page.getByLabel("Username").fill(USER);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/apis\/http$/);
  const port = new URL(DP).port;
  await page.evaluate(([node, domain]) => localStorage.setItem("apigw.invokeEndpoint", JSON.stringify({ node, domain })), [DP, `execute-api.localhost:${port}`]);
  await page.reload();
  await page.getByText("No HTTP APIs yet").waitFor();
  await shot("http-api-01-empty");

  // ---- quick create ----
  await page.getByRole("button", { name: "Create HTTP API" }).click();
  let dialog = page.getByRole("dialog", { name: "Create HTTP API" });
  await dialog.getByLabel("Name").fill("quick-orders");
  await dialog.getByLabel("Target").fill("ftp://example.com/x");
  expectHttpErrors(true);
  await dialog.getByRole("button", { name: "Create" }).click();
  await dialog.locator(".error-text").waitFor();
  assert.equal(await dialog.getByLabel("Target").getAttribute("aria-invalid"), "true");
  expectHttpErrors(false);
  await shot("http-api-02-quick-refused");
  await dialog.getByLabel("Target").fill(`${backend.url}/quick`);
  await dialog.getByRole("button", { name: "Create" }).click();
  await toast("HTTP API “quick-orders” created");
  await page.waitForURL(/\/apis\/http\/[a-z0-9]+\/stages$/);
  const quickId = page.url().split("/").at(-2);
  const quickCard = page.getByTestId("http-stage-$default");
  await quickCard.getByText("On: every change is deployed").waitFor();
  const quickUrl = await page.getByTestId("http-url-$default").textContent();
  assert.equal(quickUrl, `http://${quickId}.execute-api.localhost:${port}`);
  await shot("http-api-03-quick-stage");
  const quickRoutes = (await ok("GET", `/v2/apis/${quickId}/routes`)).items;
  assert.deepEqual(quickRoutes.map((r) => r.routeKey), ["$default"]);
  const quickIntegrations = (await ok("GET", `/v2/apis/${quickId}/integrations`)).items;
  assert.equal(quickIntegrations.length, 1);
  assert.equal(quickIntegrations[0].integrationType, "HTTP_PROXY");
  assert.equal(quickIntegrations[0].integrationUri, `${backend.url}/quick`);
  assert.equal(quickRoutes[0].target, `integrations/${quickIntegrations[0].integrationId}`);
  const quickStage = await ok("GET", `/v2/apis/${quickId}/stages/$default`);
  assert.equal(quickStage.autoDeploy, true);
  // The Routes tab shows the route and its integration.
  await page.getByRole("link", { name: "Routes" }).click();
  await page.getByTestId("http-routes").getByText(quickIntegrations[0].integrationId, { exact: false }).waitFor();
  // The node answers on the URL without a stage segment, from the backend.
  let answer = await until(`${quickUrl}/anything`, {}, (a) => a.status === 200);
  assert.equal(answer.status, 200, JSON.stringify(answer));
  assert.equal(answer.headers["x-upstream"], "yes");
  assert.equal(lastRequest.url, "/quick");

  // Quick create with a Lambda function ARN and a route key: AWS_PROXY, payload 2.0.
  await page.getByRole("link", { name: "HTTP APIs", exact: true }).first().click();
  await page.getByRole("button", { name: "Create HTTP API" }).click();
  dialog = page.getByRole("dialog", { name: "Create HTTP API" });
  await dialog.getByLabel("Name").fill("quick-lambda");
  await dialog.getByLabel("Target").fill("arn:aws:lambda:us-east-1:000000000000:function:api-lambda-echo");
  await dialog.getByLabel("Route key (optional)").fill("ANY /echo/{proxy+}");
  await dialog.getByRole("button", { name: "Create" }).click();
  await toast("HTTP API “quick-lambda” created");
  await page.waitForURL(/\/apis\/http\/[a-z0-9]+\/stages$/);
  const lambdaId = page.url().split("/").at(-2);
  const lambdaUrl = await page.getByTestId("http-url-$default").textContent();
  assert.equal(lambdaUrl, `http://${lambdaId}.execute-api.localhost:${port}`);
  const lambdaRoutes = (await ok("GET", `/v2/apis/${lambdaId}/routes`)).items;
  assert.deepEqual(lambdaRoutes.map((r) => r.routeKey), ["ANY /echo/{proxy+}"]);
  const lambdaIntegration = (await ok("GET", `/v2/apis/${lambdaId}/integrations`)).items[0];
  assert.equal(lambdaIntegration.integrationType, "AWS_PROXY");
  assert.equal(lambdaIntegration.payloadFormatVersion, "2.0");
  // The function answers the 2.0 event it got (no statusCode: AWS's 2.0 rules make it the body).
  answer = await until(`${lambdaUrl}/echo/hi?x=1`, {}, (a) => a.status === 200);
  assert.equal(answer.status, 200, JSON.stringify(answer));
  const event = JSON.parse(answer.body);
  assert.equal(event.version, "2.0");
  assert.equal(event.routeKey, "ANY /echo/{proxy+}");
  assert.equal(event.rawPath, "/echo/hi");
  assert.equal(event.rawQueryString, "x=1");

  // ---- an API built screen by screen ----
  await page.getByRole("link", { name: "HTTP APIs", exact: true }).first().click();
  await page.getByTestId("http-apis-table").getByRole("link", { name: "quick-orders" }).waitFor();
  await page.getByRole("button", { name: "Create HTTP API" }).click();
  dialog = page.getByRole("dialog", { name: "Create HTTP API" });
  await dialog.getByLabel("Name").fill("orders-console");
  await dialog.getByLabel("Quick create").uncheck();
  await dialog.getByRole("button", { name: "Create" }).click();
  await toast("HTTP API “orders-console” created");
  await page.waitForURL(/\/apis\/http\/[a-z0-9]+\/routes$/);
  const apiId = page.url().split("/").at(-2);
  await page.getByText("No routes yet").waitFor();

  // Integrations: a refused timeout, then HTTP_PROXY with parameter mappings.
  await page.getByRole("link", { name: "Integrations" }).click();
  await page.getByText("No integrations yet").waitFor();
  await page.getByRole("button", { name: "Create integration" }).click();
  dialog = page.getByRole("dialog", { name: "Create integration" });
  await dialog.getByLabel("Endpoint URL").fill(`${backend.url}/orders`);
  await dialog.getByLabel("HTTP method").selectOption("GET");
  await dialog.getByLabel("Timeout (ms)").fill("10");
  await dialog.getByRole("button", { name: "Add request mapping" }).click();
  await dialog.getByLabel("Request mapping 1 change").selectOption("overwrite:header.");
  await dialog.getByLabel("Request mapping 1 name").fill("x-order-id");
  await dialog.getByLabel("Request mapping 1 value").fill("$request.path.id");
  await dialog.getByRole("button", { name: "Add response mapping" }).click();
  await dialog.getByLabel("Response mapping 1 status code").fill("200");
  await dialog.getByLabel("Response mapping 1 name").fill("x-served-by");
  await dialog.getByLabel("Response mapping 1 value").fill("console");
  expectHttpErrors(true);
  await dialog.getByRole("button", { name: "Create" }).click();
  await dialog.locator(".error-text").waitFor();
  assert.equal(await dialog.getByLabel("Timeout (ms)").getAttribute("aria-invalid"), "true");
  expectHttpErrors(false);
  await shot("http-api-04-integration-refused");
  await dialog.getByLabel("Timeout (ms)").fill("5000");
  await dialog.getByRole("button", { name: "Create" }).click();
  await toast("HTTP_PROXY integration created");
  const integrations = (await ok("GET", `/v2/apis/${apiId}/integrations`)).items;
  assert.equal(integrations.length, 1);
  const integration = integrations[0];
  assert.equal(integration.integrationType, "HTTP_PROXY");
  assert.equal(integration.integrationUri, `${backend.url}/orders`);
  assert.equal(integration.integrationMethod, "GET");
  assert.equal(integration.timeoutInMillis, 5000);
  assert.equal(integration.payloadFormatVersion, "1.0");
  assert.deepEqual(integration.requestParameters, { "overwrite:header.x-order-id": "$request.path.id" });
  assert.deepEqual(integration.responseParameters, { 200: { "overwrite:header.x-served-by": "console" } });
  await page.getByTestId("http-integrations").getByText(integration.integrationId).waitFor();
  await shot("http-api-05-integrations");
  // Edit (UpdateIntegration): the timeout; the mappings are kept.
  await page.getByRole("button", { name: `Edit integration ${integration.integrationId}` }).click();
  dialog = page.getByRole("dialog", { name: `Edit integration ${integration.integrationId}` });
  assert.equal(await dialog.getByLabel("Request mapping 1 value").inputValue(), "$request.path.id");
  await dialog.getByLabel("Timeout (ms)").fill("8000");
  await dialog.getByRole("button", { name: "Save" }).click();
  await toast(`Integration ${integration.integrationId} saved`);
  const edited = await ok("GET", `/v2/apis/${apiId}/integrations/${integration.integrationId}`);
  assert.equal(edited.timeoutInMillis, 8000);
  assert.deepEqual(edited.requestParameters, integration.requestParameters);
  assert.deepEqual(edited.responseParameters, integration.responseParameters);

  // Authorizers: JWT (issuer, audience) and a Lambda REQUEST one.
  await page.getByRole("link", { name: "Authorizers" }).click();
  await page.getByText("No authorizers yet").waitFor();
  await page.getByRole("button", { name: "Create authorizer" }).click();
  dialog = page.getByRole("dialog", { name: "Create authorizer" });
  await dialog.getByLabel("Authorizer name").fill("orders-jwt");
  await dialog.getByLabel("Issuer").fill(issuer.url);
  await dialog.getByLabel("Audience 1", { exact: true }).fill("orders-client");
  assert.equal(await dialog.getByLabel("Identity source 1", { exact: true }).inputValue(), "$request.header.Authorization");
  await dialog.getByRole("button", { name: "Create" }).click();
  await toast("Authorizer orders-jwt created");
  await page.getByRole("button", { name: "Create authorizer" }).click();
  dialog = page.getByRole("dialog", { name: "Create authorizer" });
  await dialog.getByLabel("Authorizer type").selectOption("REQUEST");
  await dialog.getByLabel("Authorizer name").fill("orders-lambda");
  await dialog.getByLabel("Lambda function").fill("arn:aws:lambda:us-east-1:000000000000:function:request-authorizer");
  await dialog.getByLabel("Result TTL (seconds)").fill("300");
  await dialog.getByLabel("Identity source 1", { exact: true }).fill("$request.header.x-token");
  await shot("http-api-06-lambda-authorizer");
  await dialog.getByRole("button", { name: "Create" }).click();
  await toast("Authorizer orders-lambda created");
  const authorizers = (await ok("GET", `/v2/apis/${apiId}/authorizers`)).items;
  const jwt = authorizers.find((a) => a.name === "orders-jwt");
  assert.equal(jwt.authorizerType, "JWT");
  assert.deepEqual(jwt.jwtConfiguration, { issuer: issuer.url, audience: ["orders-client"] });
  assert.deepEqual(jwt.identitySource, ["$request.header.Authorization"]);
  const lambda = authorizers.find((a) => a.name === "orders-lambda");
  assert.equal(lambda.authorizerType, "REQUEST");
  assert.equal(lambda.authorizerUri, "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:request-authorizer/invocations");
  assert.equal(lambda.authorizerPayloadFormatVersion, "2.0");
  assert.equal(lambda.enableSimpleResponses, true);
  assert.equal(lambda.authorizerResultTtlInSeconds, 300);
  assert.deepEqual(lambda.identitySource, ["$request.header.x-token"]);
  await page.getByTestId("http-authorizers").getByText(issuer.url).waitFor();
  await shot("http-api-07-authorizers");

  // Routes: GET /orders/{id} → the integration, JWT with a scope; then edited.
  await page.getByRole("link", { name: "Routes" }).click();
  await page.getByRole("button", { name: "Create route" }).click();
  dialog = page.getByRole("dialog", { name: "Create route" });
  await dialog.getByLabel("Method").selectOption("GET");
  await dialog.getByLabel("Path").fill("orders/{id}");
  expectHttpErrors(true);
  await dialog.getByRole("button", { name: "Create" }).click();
  await dialog.locator(".error-text").waitFor();
  assert.equal(await dialog.getByLabel("Path").getAttribute("aria-invalid"), "true");
  expectHttpErrors(false);
  await dialog.getByLabel("Path").fill("/orders/{id}");
  await dialog.getByLabel("Target integration").selectOption(integration.integrationId);
  await dialog.getByLabel("Authorization").selectOption("JWT");
  await dialog.getByLabel("Authorizer", { exact: true }).selectOption(jwt.authorizerId);
  await dialog.getByRole("button", { name: "Add scope" }).click();
  await dialog.getByLabel("Scope 1", { exact: true }).fill("orders:write");
  await shot("http-api-08-create-route");
  await dialog.getByRole("button", { name: "Create" }).click();
  await toast("Route GET /orders/{id} created");
  await page.getByTestId("http-routes").getByText("GET /orders/{id}").waitFor();
  await page.getByRole("button", { name: "Edit route GET /orders/{id}" }).click();
  dialog = page.getByRole("dialog", { name: "Edit route GET /orders/{id}" });
  await dialog.getByLabel("Scope 1", { exact: true }).fill("orders:read");
  await dialog.getByRole("button", { name: "Save" }).click();
  await toast("Route GET /orders/{id} saved");
  const routes = (await ok("GET", `/v2/apis/${apiId}/routes`)).items;
  assert.equal(routes.length, 1);
  assert.equal(routes[0].routeKey, "GET /orders/{id}");
  assert.equal(routes[0].target, `integrations/${integration.integrationId}`);
  assert.equal(routes[0].authorizationType, "JWT");
  assert.equal(routes[0].authorizerId, jwt.authorizerId);
  assert.deepEqual(routes[0].authorizationScopes, ["orders:read"]);
  await page.getByTestId("http-routes").getByText("scopes orders:read").waitFor();
  await shot("http-api-09-routes");

  // CORS.
  await page.getByRole("link", { name: "CORS" }).click();
  await page.getByText("Not configured").waitFor();
  await page.getByLabel("Origin 1", { exact: true }).fill("https://app.example.com");
  await page.getByLabel("GET", { exact: true }).check();
  await page.getByLabel("POST", { exact: true }).check();
  await page.getByRole("button", { name: "Add allowed header" }).click();
  await page.getByLabel("Allowed header 1", { exact: true }).fill("authorization");
  await page.getByLabel("Max age (seconds)").fill("600");
  await page.getByRole("button", { name: "Save CORS configuration" }).click();
  await toast("CORS configuration saved");
  await page.getByText("Configured: the gateway answers preflight").waitFor();
  const cors = (await ok("GET", `/v2/apis/${apiId}`)).corsConfiguration;
  assert.deepEqual(cors.allowOrigins, ["https://app.example.com"]);
  assert.deepEqual(cors.allowMethods, ["GET", "POST"]);
  assert.deepEqual(cors.allowHeaders, ["authorization"]);
  assert.equal(cors.maxAge, 600);
  assert.equal(cors.allowCredentials ?? false, false);
  await shot("http-api-10-cors");

  // Stages: dev with autoDeploy and a variable; its URL has the stage segment.
  await page.getByRole("link", { name: "Stages" }).click();
  await page.getByText("No stages yet").waitFor();
  await page.getByRole("button", { name: "Create stage" }).click();
  dialog = page.getByRole("dialog", { name: "Create stage" });
  assert.equal(await dialog.getByLabel("Stage name").inputValue(), "$default");
  await dialog.getByLabel("Stage name").fill("dev");
  await dialog.getByRole("button", { name: "Add stage variable" }).click();
  await dialog.getByLabel("Variable name 1", { exact: true }).fill("color");
  await dialog.getByLabel("Value 1", { exact: true }).fill("blue");
  await dialog.getByRole("button", { name: "Create" }).click();
  await toast("Stage dev created");
  const card = page.getByTestId("http-stage-dev");
  await card.getByText("On: every change is deployed").waitFor();
  await card.getByText("color=blue").waitFor();
  const url = await page.getByTestId("http-url-dev").textContent();
  assert.equal(url, `http://${apiId}.execute-api.localhost:${port}/dev`);
  let stage = await ok("GET", `/v2/apis/${apiId}/stages/dev`);
  assert.equal(stage.autoDeploy, true);
  assert.deepEqual(stage.stageVariables, { color: "blue" });
  assert.ok(stage.deploymentId, JSON.stringify(stage));
  // Default route throttling (the shared route settings panel, without logging for HTTP).
  await card.getByRole("button", { name: "Route settings" }).click();
  const settings = card.getByRole("region", { name: "Route settings of dev" });
  assert.equal(await settings.getByLabel("Logging level").count(), 0);
  await settings.getByLabel("Throttling burst limit").fill("100");
  await settings.getByLabel("Throttling rate limit (requests/s)").fill("50");
  await settings.getByRole("button", { name: "Save default route settings" }).click();
  await toast("Default route settings of dev saved");
  // Access logs.
  await card.getByRole("button", { name: "Access logs" }).click();
  const logs = card.getByRole("form", { name: "Access logs of dev" });
  await logs.getByLabel("Destination log group ARN").fill("arn:aws:logs:us-east-1:000000000000:log-group:orders-console");
  await logs.getByRole("button", { name: "Use the CLF format" }).click();
  await logs.getByRole("button", { name: "Save access logs" }).click();
  await toast("Access logs of dev saved");
  await card.getByText("arn:aws:logs:us-east-1:000000000000:log-group:orders-console").waitFor();
  stage = await ok("GET", `/v2/apis/${apiId}/stages/dev`);
  assert.equal(stage.defaultRouteSettings.throttlingBurstLimit, 100);
  assert.equal(stage.defaultRouteSettings.throttlingRateLimit, 50);
  assert.equal(stage.defaultRouteSettings.loggingLevel, undefined);
  assert.equal(stage.accessLogSettings.destinationArn, "arn:aws:logs:us-east-1:000000000000:log-group:orders-console");
  assert.match(stage.accessLogSettings.format, /^\$context\.identity\.sourceIp - - \[\$context\.requestTime\]/);
  await shot("http-api-11-stages");

  // Deployments: dev's automatic deployment, served by dev.
  await page.getByRole("link", { name: "Deployments" }).click();
  const deployments = page.getByTestId("http-deployments");
  await deployments.getByText(stage.deploymentId).waitFor();
  await deployments.getByRole("cell", { name: "dev", exact: true }).waitFor();
  await shot("http-api-12-deployments");

  // The node serves dev: the gateway's preflight, then the JWT authorizer and its scope.
  const origin = { origin: "https://app.example.com" };
  answer = await until(`${url}/orders/7`, { method: "OPTIONS", headers: { ...origin, "access-control-request-method": "GET" } }, (a) => a.status === 204);
  assert.equal(answer.status, 204, JSON.stringify(answer));
  assert.equal(answer.headers["access-control-allow-origin"], "https://app.example.com");
  assert.match(answer.headers["access-control-allow-methods"] ?? "", /GET/);
  assert.equal(answer.headers["access-control-max-age"], "600");
  answer = await call(`${url}/orders/7`, { headers: origin });
  assert.equal(answer.status, 401, JSON.stringify(answer));
  assert.deepEqual(JSON.parse(answer.body), { message: "Unauthorized" });
  answer = await call(`${url}/orders/7`, { headers: { ...origin, authorization: `Bearer ${token({ aud: "orders-client", scope: "orders:write" })}` } });
  assert.equal(answer.status, 403, JSON.stringify(answer));
  lastRequest = undefined;
  answer = await call(`${url}/orders/7`, { headers: { ...origin, authorization: `Bearer ${token({ aud: "orders-client", scope: "orders:read" })}` } });
  assert.equal(answer.status, 200, JSON.stringify(answer));
  assert.equal(answer.headers["x-served-by"], "console");
  assert.equal(answer.headers["access-control-allow-origin"], "https://app.example.com");
  assert.equal(lastRequest.url, "/orders");
  assert.equal(lastRequest.headers["x-order-id"], "7");

  // Removing the CORS configuration (DeleteCorsConfiguration).
  await page.getByRole("link", { name: "CORS" }).click();
  await page.getByRole("button", { name: "Remove CORS configuration" }).click();
  await page.getByRole("dialog", { name: "Remove CORS configuration" }).getByRole("button", { name: "Remove", exact: true }).click();
  await toast("CORS configuration removed");
  await page.getByText("Not configured").waitFor();
  assert.equal((await ok("GET", `/v2/apis/${apiId}`)).corsConfiguration, undefined);

  // The WebSocket list shows no HTTP API; the HTTP list deletes one.
  await page.getByRole("link", { name: "WebSocket APIs", exact: true }).first().click();
  await page.getByText("No WebSocket APIs yet").waitFor();
  await page.getByRole("link", { name: "HTTP APIs", exact: true }).first().click();
  const table = page.getByTestId("http-apis-table");
  await table.getByRole("link", { name: "orders-console" }).waitFor();
  await shot("http-api-13-list");
  await page.getByRole("button", { name: "Delete quick-orders" }).click();
  await page.getByRole("dialog", { name: "Delete HTTP API" }).getByRole("button", { name: "Delete API" }).click();
  await toast("HTTP API “quick-orders” deleted");
  await table.getByRole("link", { name: "quick-orders" }).waitFor({ state: "detached" });
  expectHttpErrors(true);
  assert.equal((await fromPage("GET", `/v2/apis/${quickId}`)).status, 404);
  expectHttpErrors(false);

  assert.deepEqual(problems, []);
  assert.deepEqual(violations, []);
});
