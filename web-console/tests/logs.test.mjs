// Browser test of the console's Logs page (node's test runner + playwright-core + Debian
// Chromium), against the control plane tests/run.sh starts (CONSOLE_TESTS=logs). The log
// store gets known lines the way a shipment stores them (rows written with psql into the
// run's database: two log groups, two nodes, statuses, source IPs, API key ids, paths),
// then the Logs page: the last hour newest first; the group list from DescribeLogGroups;
// each filter (status, source IP, request id, API key id, path prefix) narrows it; a time
// range in the future empties it and a reversed one is refused; paging walks 60 lines in
// pages of 50; a row opens the whole line. axe-core checks each screen; no page error is
// allowed. Screenshots land in web-console/test-results/ (prefix "logs").
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { CONSOLE, USER, PASSWORD, page, problems, violations, expectHttpErrors, shot } from "./harness.mjs";

const DATABASE_URL = process.env.TEST_DATABASE_URL;

const psql = (sql) => {
  assert.ok(DATABASE_URL, "TEST_DATABASE_URL names the run's database (tests/run.sh sets it)");
  return execFileSync("psql", [DATABASE_URL, "-v", "ON_ERROR_STOP=1", "-qtA"], { input: sql }).toString().trim();
};
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

const ACCESS = "console-logs/access-prod";
const EXEC = "API-Gateway-Execution-Logs_cons01/prod";
const NOW = Date.now();

// 60 access lines over the last 10 minutes (newest: i = 59), and 3 execution lines.
function seed() {
  const lines = [];
  for (let i = 0; i < 60; i++) {
    const ts = NOW - 600_000 + i * 5_000;
    const status = i % 10 === 9 ? 502 : 200;
    const ip = i % 2 ? "10.0.0.8" : "192.168.7.1";
    const key = i % 3 === 0 ? "keyabc123" : "";
    const path = i % 4 === 0 ? `/orders/${i}` : "/pets";
    const rid = `req-${String(i).padStart(2, "0")}`;
    const msg = JSON.stringify({ requestId: rid, ip, status: String(status), path });
    lines.push([ts, ACCESS, i % 2 ? "node-1" : "node-2", 0, msg, rid, status, ip, key, path]);
  }
  ["Method request path: {}", "Endpoint request URI: http://backend/pets", "Method completed with status: 502"].forEach((m, n) =>
    lines.push([NOW - 595_000 + n, EXEC, "node-1", 1, `(req-09) ${m}`, "req-09", 0, "", "", ""]),
  );
  const values = lines
    .map(([ts, g, s, k, m, rid, st, ip, key, p]) => `(${ts}, ${q(g)}, ${q(s)}, ${NOW}, ${k}, ${q(m)}, 'cons01', 'prod', ${q(rid)}, ${st}, ${q(ip)}, ${q(key)}, ${q(p)})`)
    .join(",\n");
  psql(`
    INSERT INTO log_groups (name, created_ms) VALUES (${q(ACCESS)}, ${NOW}), (${q(EXEC)}, ${NOW});
    INSERT INTO log_streams (log_group, name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms)
      VALUES (${q(ACCESS)}, 'node-1', ${NOW}, ${NOW - 600_000}, ${NOW}, ${NOW}), (${q(ACCESS)}, 'node-2', ${NOW}, ${NOW - 600_000}, ${NOW}, ${NOW}),
             (${q(EXEC)}, 'node-1', ${NOW}, ${NOW - 600_000}, ${NOW}, ${NOW});
    INSERT INTO log_events (ts_ms, log_group, log_stream, ingestion_ms, kind, message, api_id, stage, request_id, status, source_ip, api_key_id, path)
      VALUES ${values};`);
}

before(async () => {
  seed();
});

const rows = () => page.getByTestId("logs-table").locator("tbody tr[data-request-id]");
const ids = () => rows().evaluateAll((trs) => trs.map((t) => t.getAttribute("data-request-id")));
const search = async () => {
  await page.getByRole("button", { name: "Search" }).click();
};
const clearFields = async () => {
  for (const label of ["Status", "Source IP", "Request id", "API key id", "Path"]) await page.getByLabel(label).fill("");
};

test("the Logs page searches the store by time, group, status, source IP, request id, key and path", async () => {
  await page.goto(`${CONSOLE}/apis`);
  await page.waitForURL(/\/signin/);
  await page.getByLabel("Username").fill(USER);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/apis$/);

  await page.getByRole("link", { name: "Logs" }).click();
  await page.waitForURL(/\/logs$/);
  await page.getByRole("heading", { name: "Logs" }).waitFor();
  await rows().first().waitFor();
  // The last hour, newest first, 50 a page: the 60 access lines and 3 execution lines.
  let got = await ids();
  assert.equal(got.length, 50);
  assert.equal(got[0], "req-59");
  const cells = await rows().first().locator("td").allTextContents();
  assert.equal(cells[1], ACCESS, "log group");
  assert.equal(cells[2], "node-1", "node");
  assert.equal(cells[3], "502", "status");
  assert.equal(cells[4], "10.0.0.8", "source IP");
  assert.equal(cells[5], "/pets", "path");
  // The log groups come from DescribeLogGroups.
  const options = await page.getByLabel("Log group").locator("option").allTextContents();
  assert.deepEqual(options, ["All log groups", EXEC, ACCESS]);
  await shot("logs-01-list");

  // Paging.
  await page.getByRole("button", { name: "Older" }).click();
  await page.getByText("Page 2").waitFor();
  await page.waitForFunction(() => document.querySelectorAll("tbody tr[data-request-id]").length === 13);
  await page.getByRole("button", { name: "Newer" }).click();
  await page.getByText("Page 1").waitFor();

  // Each filter.
  await page.getByLabel("Status").fill("502");
  await search();
  await page.waitForFunction(() => document.querySelectorAll("tbody tr[data-request-id]").length === 6);
  assert.deepEqual(await ids(), ["req-59", "req-49", "req-39", "req-29", "req-19", "req-09"]);
  await clearFields();
  await page.getByLabel("Log group").selectOption(EXEC);
  await search();
  await page.waitForFunction(() => document.querySelectorAll("tbody tr[data-request-id]").length === 3);
  await page.getByLabel("Log group").selectOption("");
  await page.getByLabel("Request id").fill("req-09");
  await search();
  await page.waitForFunction(() => document.querySelectorAll("tbody tr[data-request-id]").length === 4);
  await clearFields();
  await page.getByLabel("Source IP").fill("192.168.7.1");
  await page.getByLabel("API key id").fill("keyabc123");
  await search();
  // Even i, multiple of 3: 0, 6, ..., 54.
  await page.waitForFunction(() => document.querySelectorAll("tbody tr[data-request-id]").length === 10);
  got = await ids();
  assert.equal(got[0], "req-54");
  await clearFields();
  await page.getByLabel("Path").fill("/orders*");
  await search();
  await page.waitForFunction(() => document.querySelectorAll("tbody tr[data-request-id]").length === 15);
  await shot("logs-02-filtered");

  // A time range in the future: nothing; one that ends before it starts: refused.
  await clearFields();
  await page.getByLabel("From").fill("2099-01-01T00:00");
  await page.getByLabel("To").fill("2099-01-02T00:00");
  await search();
  await page.getByText("No lines match.").waitFor();
  await page.getByLabel("To").fill("2098-01-01T00:00");
  expectHttpErrors(true);
  await search();
  await page.getByText("The start of the range is after its end.").waitFor();
  expectHttpErrors(false);
  await page.getByLabel("From").fill("");
  await page.getByLabel("To").fill("");
  await search();
  await rows().first().waitFor();

  // A row opens the whole line.
  await page.locator('tr[data-request-id="req-59"]').getByRole("button").click();
  const line = page.getByTestId("log-line");
  await line.waitFor();
  const parsed = JSON.parse(await line.textContent());
  assert.equal(parsed.requestId, "req-59");
  await shot("logs-03-line");
  await page.getByRole("button", { name: "Close" }).click();

  assert.deepEqual(problems, []);
  assert.deepEqual(violations, []);
});
