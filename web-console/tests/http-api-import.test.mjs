// Browser test of HTTP API OpenAPI import / reimport / export (issue 20's console part; node's
// test runner + playwright-core + Debian Chromium), against the control plane tests/run.sh
// starts (CONSOLE_TESTS=http-api-import). Each step is checked through the management API,
// not only on the page:
// - Import (HTTP APIs list): a pasted OpenAPI 3.0 YAML document with two routes, an
//   x-amazon-apigateway-cors extension and a REST-only extension (a warning). With "fail on
//   warnings" ImportApi refuses it and the server's message is shown; without, the API is
//   imported, the warning is listed, and "Open the API" shows both routes.
// - Reimport (the API's page): a changed JSON document uploaded as a file replaces the routes
//   (one kept, one gone, one new) and the CORS configuration.
// - Export: no stage, YAML, with extensions: the file is downloaded (its name and content
//   checked) and shown, and it names the reimported routes; JSON without extensions leaves
//   the integrations out.
// - The API is deleted at the end (the files share one control plane).
// axe-core checks each screen; no page error is allowed. Screenshots: prefix "http-import".
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { CONSOLE, USER, PASSWORD, page, problems, violations, expectHttpErrors, shot, fromPage } from "./harness.mjs";

async function toast(text) {
  await page.getByTestId("toast").filter({ hasText: text }).first().waitFor();
}

async function ok(method, path, body) {
  const r = await fromPage(method, path, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const FIRST = `openapi: "3.0.1"
info:
  title: imported-pets
  version: "1.0"
x-amazon-apigateway-cors:
  allowOrigins:
    - https://app.example.com
  allowMethods:
    - GET
x-amazon-apigateway-request-validators:
  all:
    validateRequestBody: true
paths:
  /pets:
    get:
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: GET
        uri: http://127.0.0.1:9/pets
        payloadFormatVersion: "1.0"
  /pets/{id}:
    get:
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: GET
        uri: http://127.0.0.1:9/pets/{id}
        payloadFormatVersion: "1.0"
`;

const integration = (method, uri) => ({ type: "http_proxy", httpMethod: method, uri, payloadFormatVersion: "1.0" });
const SECOND = JSON.stringify(
  {
    openapi: "3.0.1",
    info: { title: "imported-pets", version: "2.0" },
    "x-amazon-apigateway-cors": { allowOrigins: ["https://shop.example.com"], allowMethods: ["GET", "POST"] },
    paths: {
      "/pets": {
        get: { "x-amazon-apigateway-integration": integration("GET", "http://127.0.0.1:9/pets") },
        post: { "x-amazon-apigateway-integration": integration("POST", "http://127.0.0.1:9/pets") },
      },
      "/owners": { get: { "x-amazon-apigateway-integration": integration("GET", "http://127.0.0.1:9/owners") } },
    },
  },
  null,
  2,
);

const routeKeys = async (apiId) =>
  (await ok("GET", `/v2/apis/${apiId}/routes`)).items.map((r) => r.routeKey).sort();

test("HTTP APIs are imported, reimported and exported as OpenAPI 3.0", async () => {
  await page.goto(`${CONSOLE}/apis/http`);
  await page.waitForURL(/\/signin/);
  await page.getByLabel("Username").fill(USER);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/apis\/http$/);

  // ---- import: refused with failOnWarnings, then imported with its warning ----
  await page.getByRole("button", { name: "Import", exact: true }).click();
  let dialog = page.getByRole("dialog", { name: "Import HTTP API" });
  await dialog.getByLabel("OpenAPI 3.0 document (JSON or YAML)").fill(FIRST);
  await dialog.getByLabel(/Fail on warnings/).check();
  await shot("http-import-01-form");
  expectHttpErrors(true);
  await dialog.getByRole("button", { name: "Import", exact: true }).click();
  const refusal = dialog.getByRole("alert").filter({ hasText: "Warnings found during import" });
  await refusal.waitFor();
  assert.match(await refusal.textContent(), /x-amazon-apigateway-request-validators/);
  expectHttpErrors(false);
  await shot("http-import-02-refused");
  const before = (await ok("GET", "/v2/apis")).items.filter((a) => a.name === "imported-pets");
  assert.equal(before.length, 0, "a refused import leaves nothing behind");

  await dialog.getByLabel(/Fail on warnings/).uncheck();
  await dialog.getByRole("button", { name: "Import", exact: true }).click();
  await toast("HTTP API “imported-pets” imported");
  const warnings = dialog.getByTestId("import-warnings");
  await warnings.getByText("x-amazon-apigateway-request-validators: not supported for HTTP APIs; ignored").waitFor();
  await shot("http-import-03-warnings");
  await warnings.getByRole("button", { name: "Open the API" }).click();
  await page.waitForURL(/\/apis\/http\/[a-z0-9]+\/routes$/);
  const apiId = page.url().split("/").at(-2);
  const routes = page.getByTestId("http-routes");
  await routes.getByText("GET /pets", { exact: true }).waitFor();
  await routes.getByText("GET /pets/{id}", { exact: true }).waitFor();
  await page.getByText("CORS configured").waitFor();
  await shot("http-import-04-routes");
  assert.deepEqual(await routeKeys(apiId), ["GET /pets", "GET /pets/{id}"]);
  const imported = await ok("GET", `/v2/apis/${apiId}`);
  assert.equal(imported.protocolType, "HTTP");
  assert.deepEqual(imported.corsConfiguration.allowOrigins, ["https://app.example.com"]);

  // ---- reimport: a changed JSON document, uploaded as a file ----
  await page.getByRole("button", { name: "Reimport" }).click();
  dialog = page.getByRole("dialog", { name: "Reimport imported-pets" });
  await dialog.getByLabel("Load a file").setInputFiles({ name: "pets-v2.json", mimeType: "application/json", buffer: Buffer.from(SECOND) });
  // The file is read asynchronously into the document field.
  const field = dialog.getByLabel("OpenAPI 3.0 document (JSON or YAML)");
  for (let i = 0; i < 100 && (await field.inputValue()) !== SECOND; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await field.inputValue(), SECOND);
  await shot("http-import-05-reimport");
  await dialog.getByRole("button", { name: "Reimport", exact: true }).click();
  await toast("HTTP API “imported-pets” reimported");
  await dialog.waitFor({ state: "detached" });
  await routes.getByText("POST /pets", { exact: true }).waitFor();
  await routes.getByText("GET /owners", { exact: true }).waitFor();
  await routes.getByText("GET /pets/{id}", { exact: true }).waitFor({ state: "detached" });
  assert.deepEqual(await routeKeys(apiId), ["GET /owners", "GET /pets", "POST /pets"]);
  const reimported = await ok("GET", `/v2/apis/${apiId}`);
  assert.deepEqual(reimported.corsConfiguration.allowOrigins, ["https://shop.example.com"]);
  assert.equal(reimported.version, "2.0");

  // ---- export: YAML of the latest configuration, downloaded and shown ----
  await page.getByRole("button", { name: "Export" }).click();
  dialog = page.getByRole("dialog", { name: "Export imported-pets" });
  await dialog.getByLabel("Stage").selectOption("");
  await dialog.getByLabel("Format (outputType)").selectOption("YAML");
  assert.equal(await dialog.getByLabel(/Include the x-amazon-apigateway extensions/).isChecked(), true);
  const [download] = await Promise.all([page.waitForEvent("download"), dialog.getByRole("button", { name: "Export", exact: true }).click()]);
  assert.equal(download.suggestedFilename(), "imported-pets-latest-oas30.yaml");
  const file = await readFile(await download.path(), "utf8");
  const shown = dialog.getByTestId("export-document");
  await shown.waitFor();
  assert.equal(await shown.textContent(), file);
  assert.match(file, /^openapi: 3\.0\.1$/m);
  assert.match(file, /^ {2}\/pets:$/m);
  assert.match(file, /^ {2}\/owners:$/m);
  assert.match(file, /^ {4}post:$/m);
  assert.match(file, /x-amazon-apigateway-integration:/);
  assert.match(file, /x-amazon-apigateway-cors:/);
  assert.doesNotMatch(file, /\/pets\/\{id\}/);
  await shot("http-import-06-export-yaml");

  // JSON without the extensions: the same routes, no integrations.
  await dialog.getByLabel("Format (outputType)").selectOption("JSON");
  await dialog.getByLabel(/Include the x-amazon-apigateway extensions/).uncheck();
  const [json] = await Promise.all([page.waitForEvent("download"), dialog.getByRole("button", { name: "Export", exact: true }).click()]);
  assert.equal(json.suggestedFilename(), "imported-pets-latest-oas30.json");
  const doc = JSON.parse(await readFile(await json.path(), "utf8"));
  assert.deepEqual(Object.keys(doc.paths).sort(), ["/owners", "/pets"]);
  assert.deepEqual(Object.keys(doc.paths["/pets"]).sort(), ["get", "post"]);
  assert.equal(JSON.stringify(doc).includes("x-amazon-apigateway-integration"), false);
  await shot("http-import-07-export-json");
  await dialog.getByRole("button", { name: "Cancel" }).click();

  // ---- clean up: the files share one control plane ----
  await page.getByRole("button", { name: "Delete API" }).click();
  await page.getByRole("dialog", { name: "Delete HTTP API" }).getByRole("button", { name: "Delete API" }).click();
  await toast("HTTP API “imported-pets” deleted");
  await page.waitForURL(/\/apis\/http$/);
  expectHttpErrors(true);
  assert.equal((await fromPage("GET", `/v2/apis/${apiId}`)).status, 404);
  expectHttpErrors(false);

  assert.deepEqual(problems, []);
  assert.deepEqual(violations, []);
});
