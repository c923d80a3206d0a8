// Browser test of the console's Policies page and the Users page's policy attachments
// (node's test runner + playwright-core + Debian Chromium), against the control plane
// tests/run.sh starts (CONSOLE_TESTS=policies). The journey: the built-ins are listed and
// cannot be deleted; a policy with an invalid document is refused with the server's
// message under the JSON editor, then created once fixed; on the Users page it is attached
// to a user and detached again; then deleted. It cleans up what it can (the policy; the
// user stays, as users cannot be deleted). axe-core checks each screen; no page error.
// Screenshots land in web-console/test-results/ (prefix "policies").
import { test } from "node:test";
import assert from "node:assert/strict";
import { CONSOLE, USER, PASSWORD, page, problems, violations, expectHttpErrors, shot, fromPage } from "./harness.mjs";

const NAME = "console-deploy-only";
const MEMBER = "policy-tester";

async function toast(text) {
  await page.getByTestId("toast").filter({ hasText: text }).first().waitFor();
}

test("policies: list the built-ins, create with validation, attach to and detach from a user, delete", async () => {
  await page.goto(`${CONSOLE}/settings/policies`);
  await page.waitForURL(/\/signin/);
  await page.getByLabel("Username").fill(USER);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/settings\/policies$/);

  // The built-ins, without a Delete button.
  const table = page.getByRole("table", { name: "Policies", exact: true });
  for (const builtin of ["AdministratorAccess", "ReadOnlyAccess"]) {
    const row = table.getByRole("row").filter({ hasText: builtin });
    await row.getByText("Built-in").waitFor();
    assert.equal(await row.getByRole("button", { name: `Delete ${builtin}` }).count(), 0);
  }
  await shot("policies-01-list");

  // An invalid document: the server's message is shown under the editor.
  await page.getByRole("button", { name: "Create policy" }).click();
  const form = page.getByRole("form", { name: "Create policy" });
  await form.getByLabel("Name").fill(NAME);
  const editor = form.getByLabel("Policy document");
  await editor.fill(JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Permit", Action: "apigateway:*", Resource: "*" }] }));
  expectHttpErrors(true);
  await form.getByRole("button", { name: "Create policy" }).click();
  await form.getByRole("alert").filter({ hasText: "'Effect' must be" }).first().waitFor();
  expectHttpErrors(false);
  await shot("policies-02-invalid");

  // Fixed: created and listed.
  const doc = {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: "apigateway:*", Resource: "arn:aws:apigateway:*::/restapis/*" },
      { Effect: "Deny", Action: "apigateway:DELETE", Resource: "*" },
    ],
  };
  await editor.fill(JSON.stringify(doc, null, 2));
  await form.getByRole("button", { name: "Create policy" }).click();
  await toast(`Policy ${NAME} created`);
  await table.getByRole("row").filter({ hasText: NAME }).getByText("Custom").waitFor();
  const listed = await fromPage("GET", "/console/api/policies");
  assert.deepEqual(listed.body.item.find((p) => p.name === NAME)?.document, doc);

  // Attach it to a new user on the Users page, then detach it.
  const created = await fromPage("POST", "/console/api/users", { username: MEMBER, password: "policy-tester-pass-1" });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await page.getByRole("link", { name: "Users", exact: true }).click();
  const cell = page.getByTestId(`policies-${MEMBER}`);
  await cell.filter({ hasText: "ReadOnlyAccess" }).waitFor();
  await page.getByRole("button", { name: `Policies of ${MEMBER}` }).click();
  await page.getByRole("button", { name: `Attach ${NAME}` }).click();
  await toast(`${NAME} attached to ${MEMBER}`);
  await page.getByRole("button", { name: `Detach ${NAME}` }).waitFor();
  await shot("policies-03-user-policies");
  await page.getByRole("button", { name: "Done" }).click();
  await cell.filter({ hasText: `${NAME}, ReadOnlyAccess` }).waitFor();
  const users = await fromPage("GET", "/console/api/users");
  assert.deepEqual(users.body.item.find((u) => u.username === MEMBER)?.policies, [NAME, "ReadOnlyAccess"]);
  await page.getByRole("button", { name: `Policies of ${MEMBER}` }).click();
  await page.getByRole("button", { name: `Detach ${NAME}` }).click();
  await toast(`${NAME} detached from ${MEMBER}`);
  await page.getByRole("button", { name: "Done" }).click();
  await cell.filter({ hasText: /^ReadOnlyAccess$/ }).waitFor();

  // Delete it.
  await page.getByRole("link", { name: "Policies", exact: true }).click();
  await table.getByRole("button", { name: `Delete ${NAME}` }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await toast(`Policy ${NAME} deleted`);
  await table.getByRole("row").filter({ hasText: NAME }).waitFor({ state: "detached" });
  const after = await fromPage("GET", "/console/api/policies");
  assert.deepEqual(after.body.item.map((p) => p.name), ["AdministratorAccess", "ReadOnlyAccess"]);

  assert.deepEqual(problems, []);
  assert.deepEqual(violations, []);
});
