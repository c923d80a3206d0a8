// Browser test of the console's Audit log page (node's test runner + playwright-core +
// Debian Chromium), against the control plane tests/run.sh starts (CONSOLE_TESTS=audit).
// The journey: sign in (itself an event), make known changes from the page with the
// session (create two APIs, one failing call), then the Audit log: the table lists them
// newest first with user, operation, resource, source IP and result; the operation and
// user filters narrow it; a time range in the future empties it; paging walks it; a row
// opens its CloudTrail record. axe-core checks each screen; no page error is allowed.
// Screenshots land in web-console/test-results/ (prefix "audit").
import { test } from "node:test";
import assert from "node:assert/strict";
import { CONSOLE, USER, PASSWORD, page, problems, violations, expectHttpErrors, shot, fromPage } from "./harness.mjs";

const rows = () => page.getByTestId("audit-table").locator("tbody tr[data-event]");

test("the audit log lists the console's changes, filters, pages and shows an event's record", async () => {
  await page.goto(`${CONSOLE}/apis`);
  await page.waitForURL(/\/signin/);
  await page.getByLabel("Username").fill(USER);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/apis$/);

  const a = await fromPage("POST", "/restapis", { name: "audit-one" });
  assert.equal(a.status, 201, JSON.stringify(a.body));
  const b = await fromPage("POST", "/restapis", { name: "audit-two" });
  assert.equal(b.status, 201);
  expectHttpErrors(true);
  const bad = await fromPage("DELETE", "/restapis/nosuchapi");
  expectHttpErrors(false);
  assert.equal(bad.status, 404);

  await page.getByRole("link", { name: "Audit log" }).click();
  await page.waitForURL(/\/audit$/);
  await page.getByRole("heading", { name: "Audit log" }).waitFor();
  await rows().first().waitFor();
  const names = await rows().evaluateAll((trs) => trs.map((t) => t.getAttribute("data-event")));
  // Newest first: the failed delete, the two creates, the sign-in.
  assert.deepEqual(names.slice(0, 4), ["DeleteRestApi", "CreateRestApi", "CreateRestApi", "ConsoleLogin"], names.join(","));
  const first = rows().first();
  const cells = await first.locator("td").allTextContents();
  assert.equal(cells[1], USER, "user");
  assert.equal(cells[2], "DeleteRestApi", "operation");
  assert.equal(cells[3], "/restapis/nosuchapi", "resource");
  assert.equal(cells[4], "127.0.0.1", "source IP");
  assert.equal(cells[5], "NotFoundException", "result");
  assert.equal((await rows().nth(1).locator("td").allTextContents())[5], "Success");
  await shot("audit-01-list");

  // The operation filter.
  await page.getByLabel("Filter by").selectOption("EventName");
  await page.getByLabel("Value").fill("CreateRestApi");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForFunction(() => [...document.querySelectorAll("tbody tr[data-event]")].every((t) => t.getAttribute("data-event") === "CreateRestApi"));
  const resources = await rows().evaluateAll((trs) => trs.map((t) => t.children[3].textContent));
  assert.deepEqual(resources.slice(0, 2), [`/restapis/${b.body.id}`, `/restapis/${a.body.id}`]);

  // The user filter.
  await page.getByLabel("Filter by").selectOption("Username");
  await page.getByLabel("Value").fill("nobody-here");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.getByText("No events match.").waitFor();
  await page.getByLabel("Value").fill(USER);
  await page.getByRole("button", { name: "Apply" }).click();
  await rows().first().waitFor();
  const users = await rows().evaluateAll((trs) => trs.map((t) => t.children[1].textContent));
  assert.ok(users.length >= 4 && users.every((u) => u === USER), users.join(","));

  // A time range in the future: nothing.
  await page.getByLabel("Value").fill("");
  await page.getByLabel("From").fill("2099-01-01T00:00");
  await page.getByLabel("To").fill("2099-01-02T00:00");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.getByText("No events match.").waitFor();
  // A range that ends before it starts: CloudTrail's refusal, shown.
  await page.getByLabel("To").fill("2098-01-01T00:00");
  expectHttpErrors(true);
  await page.getByRole("button", { name: "Apply" }).click();
  await page.getByText("StartTime must be before EndTime.").waitFor();
  expectHttpErrors(false);
  await page.getByLabel("From").fill("");
  await page.getByLabel("To").fill("");
  await page.getByRole("button", { name: "Apply" }).click();
  await rows().first().waitFor();

  // Paging: 30 more changes make two pages of 25.
  for (let i = 0; i < 30; i++) {
    const r = await fromPage("POST", "/apikeys", { name: `audit-key-${i}`, value: `audit-secret-value-${i}-0123456789`, enabled: true });
    assert.equal(r.status, 201);
  }
  await page.getByRole("button", { name: "Refresh" }).click();
  await page.waitForFunction(() => document.querySelectorAll("tbody tr[data-event]").length === 25);
  await page.getByRole("button", { name: "Older" }).click();
  await page.getByText("Page 2").waitFor();
  // Page 2 holds the 26th newest event on: the 5 oldest keys, then the failed delete.
  await page.waitForFunction(() => document.querySelectorAll("tbody tr[data-event]")[5]?.getAttribute("data-event") === "DeleteRestApi");
  const page2 = await rows().evaluateAll((trs) => trs.slice(0, 6).map((t) => t.getAttribute("data-event")));
  assert.deepEqual(page2, [...Array(5).fill("CreateApiKey"), "DeleteRestApi"]);
  await shot("audit-02-page-2");
  await page.getByRole("button", { name: "Newer" }).click();
  await page.getByText("Page 1").waitFor();

  // An event's record: the API key's value is hidden.
  await rows().first().getByRole("button").click();
  const json = page.getByTestId("event-json");
  await json.waitFor();
  const record = JSON.parse(await json.textContent());
  assert.equal(record.eventName, "CreateApiKey");
  assert.equal(record.requestParameters.value, "HIDDEN_DUE_TO_SECURITY_REASONS");
  assert.equal(record.userIdentity.userName, USER);
  assert.equal(record.eventSource, "apigateway.amazonaws.com");
  assert.ok(!(await json.textContent()).includes("audit-secret-value"), "no key value shown");
  await shot("audit-03-event");
  await page.getByRole("button", { name: "Close" }).click();

  assert.deepEqual(problems, []);
  assert.deepEqual(violations, []);
});
