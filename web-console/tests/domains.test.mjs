// Browser test of the Custom domain names and Client certificates screens (issue 18; node's
// test runner + playwright-core + Debian Chromium), against the control plane and node
// tests/run.sh starts (CONSOLE_TESTS=domains). The journey: sign in; an API with a MOCK
// GET /ping deployed to prod; self-signed certificates made here with the openssl CLI; on
// "Custom domain names" the create dialog refuses a key of another certificate at the key
// field (the dialog shows the pasted certificate's CN and expiry), then creates the domain
// (body loaded from a file, key pasted); the domain is listed
// and its page shows status, regional domain name and certificate name; a mutual TLS
// domain's unreadable truststore is refused at its field, a readable one kept, and
// it is tagged; a base path with a
// bad segment is refused at its field, then `v1/orders` is mapped to the API's prod stage and
// the node answers GET /v1/orders/ping for that Host; an HTTP API's stage is mapped to
// `shop` on the same domain (a malformed key refused at its field) and the node serves it;
// the certificate is rotated (new name
// shown); a client certificate is generated (its PEM shown), set on the stage and read back
// through GetStage, and its deletion is refused while the stage names it. axe-core checks each screen; no page error is allowed. Screenshots land
// in web-console/test-results/ (prefix "domains").
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONSOLE, DP, USER, PASSWORD, page, problems, violations, expectHttpErrors, shot, fromPage } from "./harness.mjs";

const dir = mkdtempSync(join(tmpdir(), "apigw-domains-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A self-signed EC P-256 certificate for `host`: the paths of its PEM files and their text. */
function selfSigned(name, host) {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", key, "-out", cert, "-days", "30", "-subj", `/CN=${host}`, "-addext", `subjectAltName=DNS:${host}`,
  ], { stdio: "ignore" });
  return { cert, key, certPem: readFileSync(cert, "utf8"), keyPem: readFileSync(key, "utf8") };
}

async function toast(text) {
  await page.getByTestId("toast").filter({ hasText: text }).first().waitFor();
}

async function ok(method, path, body) {
  const r = await fromPage(method, path, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Polls the node until `path` with Host `host` answers 200 with `want` in the body. */
async function untilNode(host, path, want) {
  const deadline = Date.now() + 15_000;
  let last;
  while (Date.now() < deadline) {
    // fetch() does not let a caller set Host; node's http module does.
    last = await new Promise((resolve) => {
      const u = new URL(DP);
      import("node:http").then(({ request }) => {
        const req = request({ host: u.hostname, port: u.port, path, headers: { host } }, (res) => {
          let b = "";
          res.on("data", (c) => (b += c));
          res.on("end", () => resolve(`${res.statusCode} ${b}`));
        });
        req.on("error", (e) => resolve(`error ${e.message}`));
        req.end();
      });
    });
    if (last.startsWith("200 ") && last.includes(want)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${host}${path} never answered ${want}; last: ${last}`);
}

test("a custom domain is created, mapped, served and rotated; a client certificate is generated and set on a stage", async () => {
  const host = "shop.console-e2e.test";
  const first = selfSigned("first", host);
  const second = selfSigned("second", host);
  const other = selfSigned("other", "other.console-e2e.test");

  await page.goto(`${CONSOLE}/custom-domains`);
  await page.waitForURL(/\/signin/);
  await page.getByLabel("Username").fill(USER);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/custom-domains$/);

  // The API: GET /ping (MOCK) on prod.
  const api = await ok("POST", "/restapis", { name: "domains-console" });
  const resources = await ok("GET", `/restapis/${api.id}/resources`);
  const root = resources.item.find((r) => r.path === "/").id;
  const ping = await ok("POST", `/restapis/${api.id}/resources/${root}`, { pathPart: "ping" });
  const m = `/restapis/${api.id}/resources/${ping.id}/methods/GET`;
  await ok("PUT", m, { authorizationType: "NONE" });
  await ok("PUT", `${m}/responses/200`, {});
  await ok("PUT", `${m}/integration`, { type: "MOCK", requestTemplates: { "application/json": '{"statusCode": 200}' } });
  await ok("PUT", `${m}/integration/responses/200`, { selectionPattern: "", responseTemplates: { "application/json": '{"pong": "$context.domainName"}' } });
  await ok("POST", `/restapis/${api.id}/deployments`, { stageName: "prod" });

  // The empty list, then the create dialog: a key of another certificate is refused at its field.
  await page.getByText("No custom domain names yet").waitFor();
  await shot("domains-01-empty");
  await page.getByRole("button", { name: "Create domain name" }).click();
  const create = page.getByRole("form", { name: "Create domain name" });
  await create.getByLabel("Domain name", { exact: true }).fill(host);
  await create.getByLabel("Endpoint type").selectOption("REGIONAL");
  await create.getByLabel("Certificate name", { exact: true }).fill("shop-2026");
  await create.getByLabel("Load certificate body from a file").setInputFiles(first.cert);
  await create.getByLabel("Certificate private key", { exact: true }).fill(other.keyPem);
  assert.equal(await create.getByLabel("Certificate body", { exact: true }).inputValue(), first.certPem);
  // The dialog reads the pasted certificate: its CN and expiry (30 days from now).
  await create.getByText(`CN=${host}, valid until`).waitFor();
  expectHttpErrors(true);
  await create.getByRole("button", { name: "Create domain name" }).click();
  const keyField = create.getByLabel("Certificate private key", { exact: true });
  await create.locator(".field", { has: page.getByLabel("Certificate private key", { exact: true }) }).getByText("does not match the public key").waitFor();
  assert.equal(await keyField.getAttribute("aria-invalid"), "true");
  assert.equal(await create.getByLabel("Certificate body", { exact: true }).getAttribute("aria-invalid"), null);
  await shot("domains-02-bad-key");
  expectHttpErrors(false);
  await keyField.fill(first.keyPem);
  await create.getByRole("button", { name: "Create domain name" }).click();
  await toast(`Domain name ${host} created`);

  // The domain's page: status, regional domain name, certificate name; the key never shown.
  await page.waitForURL(new RegExp(`/custom-domains/${host.replace(/\./g, "\\.")}$`));
  const props = page.getByTestId("domain-props");
  await props.getByText("AVAILABLE").waitFor();
  const d = await ok("GET", `/domainnames/${host}`);
  assert.equal(await page.getByTestId("domain-target").textContent(), d.regionalDomainName);
  assert.equal(await page.getByTestId("domain-certificate-name").textContent(), "shop-2026");
  assert.ok(!(await page.content()).includes("PRIVATE KEY-----\n"), "the private key is not on the page");
  await page.getByText("No API mappings").waitFor();
  await shot("domains-03-domain");

  // Listed.
  await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "Custom domain names" }).click();
  const row = page.getByTestId("domains-table").getByRole("row", { name: new RegExp(host.replace(/\./g, "\\.")) });
  await row.getByText("REGIONAL").waitFor();
  await row.getByText("shop-2026").waitFor();
  await shot("domains-04-list");

  // A base path mapping: a bad base path refused at its field, then v1/orders → prod.
  await row.getByRole("link", { name: host }).click();
  await page.getByRole("button", { name: "Add mapping" }).click();
  const map = page.getByRole("form", { name: "Add API mapping" });
  await map.getByLabel("API", { exact: true }).selectOption(api.id);
  await map.getByLabel("Stage").locator("option", { hasText: "prod" }).waitFor({ state: "attached" });
  await map.getByLabel("Stage").selectOption("prod");
  await map.getByLabel("Base path").fill("v1//orders");
  expectHttpErrors(true);
  await map.getByRole("button", { name: "Add mapping" }).click();
  const baseField = map.getByLabel("Base path");
  await map.locator(".field", { has: page.getByLabel("Base path") }).getByText("Invalid base path").waitFor();
  assert.equal(await baseField.getAttribute("aria-invalid"), "true");
  expectHttpErrors(false);
  await baseField.fill("v1/orders");
  await map.getByRole("button", { name: "Add mapping" }).click();
  await toast(`Mapping v1/orders added to ${host}`);
  const mrow = page.getByTestId("mappings-table").getByRole("row", { name: /v1\/orders/ });
  await mrow.getByRole("link", { name: "prod" }).waitFor();
  await shot("domains-05-mapping");
  await untilNode(host, "/v1/orders/ping", `"pong": "${host}"`);

  // An HTTP API mapping on the same domain (apigatewayv2 CreateApiMapping): a malformed key
  // refused at its field, then `shop` → a quick-created HTTP API's $default stage (an
  // HTTP_PROXY to the control plane's /healthz), served by the node.
  const httpApi = await ok("POST", "/v2/apis", { name: "domains-http", protocolType: "HTTP", target: `${CONSOLE}/healthz` });
  await page.reload();
  await page.getByText("No HTTP API mappings").waitFor();
  await page.getByRole("button", { name: "Add HTTP API mapping" }).click();
  const hmap = page.getByRole("form", { name: "Add HTTP API mapping" });
  await hmap.getByLabel("HTTP API", { exact: true }).selectOption(httpApi.apiId);
  await hmap.getByLabel("Stage").locator("option", { hasText: "$default" }).waitFor({ state: "attached" });
  const keyInput = hmap.getByLabel("API mapping key");
  await keyInput.fill("/shop");
  expectHttpErrors(true);
  await hmap.getByRole("button", { name: "Add mapping" }).click();
  await hmap.locator(".field", { has: page.getByLabel("API mapping key") }).getByText("Invalid API mapping key").waitFor();
  assert.equal(await keyInput.getAttribute("aria-invalid"), "true");
  expectHttpErrors(false);
  await keyInput.fill("shop");
  await hmap.getByRole("button", { name: "Add mapping" }).click();
  await toast("HTTP API mapping shop added");
  await page.getByTestId("http-mappings-table").getByRole("row", { name: /shop/ }).getByRole("link", { name: "domains-http" }).waitFor();
  await shot("domains-05b-http-mapping");
  await untilNode(host, "/shop/anything", "ok");

  // Rotation: the new certificate and name in one UpdateDomainName.
  await page.getByRole("button", { name: "Rotate certificate" }).click();
  const rotate = page.getByRole("form", { name: "Rotate certificate" });
  await rotate.getByLabel("Certificate name", { exact: true }).fill("shop-2027");
  await rotate.getByLabel("Certificate body", { exact: true }).fill(second.certPem);
  await rotate.getByText(`CN=${host}, valid until`).waitFor();
  await rotate.getByLabel("Load certificate private key from a file").setInputFiles(second.key);
  await rotate.getByLabel("Certificate private key", { exact: true }).waitFor();
  assert.equal(await rotate.getByLabel("Certificate private key", { exact: true }).inputValue(), second.keyPem);
  await shot("domains-06-rotate");
  await rotate.getByRole("button", { name: "Rotate certificate" }).click();
  await toast(`Certificate of ${host} rotated`);
  await page.getByTestId("domain-certificate-name").getByText("shop-2027").waitFor();
  const rotated = await ok("GET", `/domainnames/${host}`);
  assert.notEqual(rotated.regionalCertificateArn, d.regionalCertificateArn);

  // Mutual TLS: a truststore the control plane cannot read is refused at its field; a PEM
  // bundle it can read is kept, and the domain's page shows its URI.
  const mtlsHost = "other.console-e2e.test";
  await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "Custom domain names" }).click();
  await page.getByRole("button", { name: "Create domain name" }).click();
  const mtls = page.getByRole("form", { name: "Create domain name" });
  await mtls.getByLabel("Domain name", { exact: true }).fill(mtlsHost);
  await mtls.getByLabel("Certificate body", { exact: true }).fill(other.certPem);
  await mtls.getByLabel("Certificate private key", { exact: true }).fill(other.keyPem);
  await mtls.getByLabel("Mutual TLS (clients present a certificate)").check();
  await mtls.getByLabel("Truststore URI").fill(`file://${dir}/missing.pem`);
  expectHttpErrors(true);
  await mtls.getByRole("button", { name: "Create domain name" }).click();
  await mtls.locator(".field", { has: page.getByLabel("Truststore URI") }).getByText("could not be read").waitFor();
  assert.equal(await mtls.getByLabel("Truststore URI").getAttribute("aria-invalid"), "true");
  expectHttpErrors(false);
  await mtls.getByLabel("Truststore URI").fill(`file://${first.cert}`);
  await mtls.getByRole("button", { name: "Create domain name" }).click();
  await toast(`Domain name ${mtlsHost} created`);
  await page.getByTestId("domain-props").getByText(`file://${first.cert}`).waitFor();
  // Its tags (TagResource on the domain's ARN).
  const tags = page.getByRole("form", { name: "Domain name tags" });
  await tags.getByRole("button", { name: "Add tag" }).click();
  await tags.getByLabel("Tag key 1", { exact: true }).fill("team");
  await tags.getByLabel("Tag value 1", { exact: true }).fill("edge");
  await tags.getByRole("button", { name: "Save tags" }).click();
  await toast("Tags saved");
  assert.deepEqual((await ok("GET", `/domainnames/${mtlsHost}`)).tags, { team: "edge" });
  await shot("domains-07-mtls");

  // Client certificates: generate, its PEM shown, listed.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Domains" }).click();
  await page.getByRole("navigation", { name: "Domains and certificates" }).getByRole("link", { name: "Client certificates" }).click();
  await page.getByText("No client certificates yet").waitFor();
  await page.getByRole("button", { name: "Generate client certificate" }).click();
  const gen = page.getByRole("form", { name: "Generate client certificate" });
  await gen.getByLabel("Description").fill("backend mTLS");
  await gen.getByRole("button", { name: "Generate" }).click();
  await toast("generated");
  const pem = await page.getByTestId("client-cert-pem").textContent();
  assert.match(pem, /^-----BEGIN CERTIFICATE-----/);
  await shot("domains-08-client-cert-pem");
  await page.getByRole("button", { name: "Done" }).click();
  const certs = await ok("GET", "/clientcertificates");
  assert.equal(certs.item.length, 1);
  const cc = certs.item[0];
  assert.equal(cc.pemEncodedCertificate, pem);
  await page.getByTestId("client-certs-table").getByRole("row", { name: /backend mTLS/ }).getByText(cc.clientCertificateId).waitFor();
  await shot("domains-09-client-certs");
  await page.getByRole("button", { name: `View PEM of client certificate ${cc.clientCertificateId}` }).click();
  assert.equal(await page.getByTestId("client-cert-pem").textContent(), cc.pemEncodedCertificate);
  await page.getByRole("button", { name: "Done" }).click();

  // The stage's client certificate.
  await page.goto(`${CONSOLE}/apis/${api.id}/stages/prod`);
  const panel = page.getByRole("form", { name: "Client certificate" });
  await panel.getByLabel("Client certificate").locator("option", { hasText: cc.clientCertificateId }).waitFor({ state: "attached" });
  await panel.getByLabel("Client certificate").selectOption(cc.clientCertificateId);
  await panel.getByRole("button", { name: "Save client certificate" }).click();
  await toast(`Client certificate ${cc.clientCertificateId} set`);
  const stage = await ok("GET", `/restapis/${api.id}/stages/prod`);
  assert.equal(stage.clientCertificateId, cc.clientCertificateId);

  // A client certificate a stage names cannot be deleted: the dialog says which stage.
  await page.goto(`${CONSOLE}/client-certificates`);
  await page.getByRole("button", { name: `Delete client certificate ${cc.clientCertificateId}` }).click();
  expectHttpErrors(true);
  await page.getByRole("dialog").getByRole("button", { name: "Delete client certificate" }).click();
  await page.getByRole("dialog").getByText(`${api.id}/prod`).waitFor();
  expectHttpErrors(false);
  await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();

  // Deleting the mapping and the domain.
  await page.goto(`${CONSOLE}/custom-domains/${host}`);
  await page.getByRole("button", { name: "Delete mapping v1/orders" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete mapping" }).click();
  await toast("Mapping v1/orders deleted");
  await page.getByText("No API mappings").waitFor();
  await page.getByRole("button", { name: "Delete domain name" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete domain name" }).click();
  await page.waitForURL(/\/custom-domains$/);
  await page.getByTestId("domains-table").getByRole("link", { name: mtlsHost }).waitFor();
  assert.equal(await page.getByTestId("domains-table").getByRole("link", { name: host }).count(), 0);
  // The HTTP API goes too: later test files share this control plane (http-api.test.mjs
  // starts from an empty list of HTTP APIs).
  await ok("DELETE", `/v2/apis/${httpApi.apiId}`);

  assert.deepEqual(problems, []);
  assert.deepEqual(violations, []);
});
