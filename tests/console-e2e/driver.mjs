// Drives the Brook web console in headless Chromium for the xunit browser tests (tests/Brook.WebConsole.Tests).
// Usage: node driver.mjs BASE_URL SCREENSHOT_DIR
// Reads one JSON command a line on stdin: {"id": 1, "action": "createTopic", "args": {...}}; answers one JSON line on
// stdout: {"id": 1, "ok": true, "result": ...} or {"id": 1, "ok": false, "error": "...", "screenshot": "file"}.
// The C# test decides what happens between steps (real Kafka clients) and asserts on the results.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

const [baseUrl, screenshotDir] = process.argv.slice(2);
if (!baseUrl || !screenshotDir) {
  console.error('usage: node driver.mjs BASE_URL SCREENSHOT_DIR');
  process.exit(2);
}
fs.mkdirSync(screenshotDir, { recursive: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-console-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 860 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const page = context.pages()[0] || (await context.newPage());
page.setDefaultTimeout(20_000);
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => {
  // The security page shows a note for 501 answers (a cluster without ACL or SCRAM APIs).
  if (m.type() === 'error' && !m.text().includes('501')) problems.push(`console error: ${m.text()}`);
});
page.on('request', (r) => {
  if (!r.url().startsWith(baseUrl) && !r.url().startsWith('data:')) problems.push(`request outside the console: ${r.url()}`);
});

const tid = (id) => page.locator(`[data-testid="${id}"]`);
const formatNumber = (n) => new Intl.NumberFormat('en-US').format(n);

async function open(hash, ready) {
  const url = `${baseUrl}/${hash}`;
  // Going to the URL the page is on changes nothing; reload so the page shows what the test just changed.
  if (page.url() === url) await page.reload();
  else await page.goto(url);
  if (ready) await page.locator(ready).first().waitFor();
}

async function screenshot(name) {
  // Let charts and polled numbers settle on their latest sample; from the top, so the sticky bar stays at the top.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(300);
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

async function until(what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last.done) return last.value;
    await page.waitForTimeout(250);
  }
  throw new Error(`timed out waiting until ${what}; last seen: ${JSON.stringify(last && last.value)}`);
}

const actions = {
  async screenshot({ name }) {
    return screenshot(name);
  },

  async overview() {
    await open('#/', '[data-testid="stat-topics"]');
    await tid('rate-messages-in').waitFor();
    const text = async (id) => (await tid(id).textContent()).trim();
    return { topics: await text('stat-topics'), partitions: await text('stat-partitions'), messages: await text('stat-messages'),
      messagesIn: await text('rate-messages-in'), brokers: await page.locator('[data-testid="brokers"] tbody tr').count() };
  },

  async waitForRates({ minMessagesIn, minMessagesOut }) {
    await open('#/', '[data-testid="rate-messages-in"]');
    return until('rates show traffic', async () => {
      const parse = async (id) => Number((await tid(id).textContent()).replace(/[^0-9.]/g, ''));
      const value = { messagesIn: await parse('rate-messages-in'), messagesOut: await parse('rate-messages-out') };
      return { done: value.messagesIn >= minMessagesIn && value.messagesOut >= minMessagesOut, value };
    });
  },

  async createTopic({ name, partitions, cleanupPolicy }) {
    await open('#/topics', '[data-testid="topics"]');
    await tid('open-create-topic').click();
    await tid('topic-name').fill(name);
    await tid('topic-partitions').fill(String(partitions));
    if (cleanupPolicy) await tid('topic-cleanup').selectOption(cleanupPolicy);
    await tid('create-topic').click();
    const row = page.locator(`[data-topic="${name}"]`);
    await row.waitFor();
    return { partitions: (await row.locator('[data-col="partitions"]').textContent()).trim(), cleanup: (await row.locator('[data-col="cleanup"]').textContent()).trim() };
  },

  async deleteTopic({ name }) {
    await open('#/topics', `[data-topic="${name}"]`);
    await tid(`delete-topic-${name}`).click();
    await tid('confirm').click();
    await page.locator(`[data-topic="${name}"]`).waitFor({ state: 'detached' });
    return true;
  },

  async produce({ topic, key, value, headers = [] }) {
    await open(`#/topics/${encodeURIComponent(topic)}/produce`, '[data-testid="produce-form"]');
    await tid('produce-key').fill(key);
    await tid('produce-value').fill(value);
    for (const header of headers) {
      await tid('add-header').click();
      await tid('header-key').last().fill(header.key);
      await tid('header-value').last().fill(header.value);
    }
    const before = (await tid('topic-messages').textContent()).trim();
    await tid('produce-send').click();
    const produced = await tid('produced').textContent();
    const match = /partition (\d+) at offset (\d+)/.exec(produced);
    if (!match) throw new Error(`unexpected confirmation: ${produced}`);
    const messages = await until('the topic\'s message count is refreshed', async () => {
      const value = (await tid('topic-messages').textContent()).trim();
      return { done: value !== before, value };
    });
    return { partition: Number(match[1]), offset: Number(match[2]), messagesBefore: before, messages };
  },

  async findMessage({ topic, search, view = 'auto' }) {
    await open(`#/topics/${encodeURIComponent(topic)}/messages`, '[data-testid="browse-form"]');
    await tid('browse-from').selectOption('oldest');
    await tid('browse-search').fill(search);
    await tid('browse-view').selectOption(view);
    await tid('browse-load').click();
    await until('the search result is shown', async () => {
      const summary = (await tid('browse-summary').count()) ? await tid('browse-summary').textContent() : '';
      return { done: summary.includes('read') && (await tid('message-row').count()) >= 1, value: summary };
    });
    const rows = await tid('message-row').count();
    await tid('message-row').first().click();
    const headers = {};
    const headerRows = page.locator('[data-testid="message-headers"] tr');
    for (let i = 0; i < (await headerRows.count()); i++) {
      headers[(await headerRows.nth(i).locator('th').textContent()).trim()] = (await headerRows.nth(i).locator('td').textContent()).trim();
    }
    const key = (await tid('message-key').first().textContent()).trim();
    const value = (await tid('message-value').first().textContent()).trim();
    await tid('browse-view').selectOption('hex');
    await tid('message-row').first().click();
    const hex = (await tid('message-value').first().textContent()).trim();
    await tid('browse-view').selectOption(view);
    await tid('message-row').first().click();
    return { rows, key, value, headers, hex, summary: (await tid('browse-summary').textContent()).trim() };
  },

  async editConfig({ topic, name, value }) {
    await open(`#/topics/${encodeURIComponent(topic)}/configs`, `[data-config="${name}"]`);
    await tid(`edit-${name}`).click();
    await tid(`value-${name}`).fill(value);
    await tid(`save-${name}`).click();
    const row = page.locator(`[data-config="${name}"]`);
    await until(`${name} shows ${value} as a topic override`, async () => {
      const text = await row.textContent();
      return { done: text.includes(value) && text.includes('topic override'), value: text };
    });
    return (await row.textContent()).trim();
  },

  async openTopic({ topic, tab = 'partitions' }) {
    await open(`#/topics/${encodeURIComponent(topic)}/${tab}`, '.tab-body > *');
    return (await page.locator('.tab-body').textContent()).trim().slice(0, 2000);
  },

  async groupsList({ group, lag }) {
    await open('#/groups', '[data-testid="groups"]');
    const row = page.locator(`[data-group="${group}"]`);
    return until(`group ${group} is listed with lag ${lag}`, async () => {
      if ((await row.count()) === 0) return { done: false, value: 'not listed' };
      const value = { state: (await row.locator('[data-col="state"]').textContent()).trim(), lag: (await row.locator('[data-col="lag"]').textContent()).trim() };
      return { done: lag === undefined || value.lag === formatNumber(lag), value };
    });
  },

  async waitGroupLag({ group, lag }) {
    if (!page.url().endsWith(`#/groups/${encodeURIComponent(group)}`)) await open(`#/groups/${encodeURIComponent(group)}`, '[data-testid="group-lag"]');
    return until(`group ${group} shows a total lag of ${lag}`, async () => {
      const value = (await tid('group-lag').textContent()).trim();
      return { done: value === formatNumber(lag), value };
    });
  },

  async groupPage({ group }) {
    if (!page.url().endsWith(`#/groups/${encodeURIComponent(group)}`)) await open(`#/groups/${encodeURIComponent(group)}`, '[data-testid="group-lag"]');
    const rows = page.locator('[data-testid="group-lag-table"] tbody tr[data-tp]');
    const partitions = [];
    for (let i = 0; i < (await rows.count()); i++) {
      partitions.push({ tp: await rows.nth(i).getAttribute('data-tp'), lag: (await rows.nth(i).locator('[data-col="lag"]').textContent()).trim() });
    }
    return {
      state: (await tid('group-state').textContent()).trim(),
      members: (await tid('group-members').textContent()).trim(),
      chartLines: await page.locator('[data-testid="lag-chart"] polyline').count(),
      chartPoints: await page.locator('[data-testid="lag-chart"] circle').count(),
      partitions,
    };
  },

  async resetOffsets({ group, mode, value }) {
    if (!page.url().endsWith(`#/groups/${encodeURIComponent(group)}`)) await open(`#/groups/${encodeURIComponent(group)}`, '[data-testid="reset-form"]');
    await tid('reset-form').waitFor();
    await tid('reset-mode').selectOption(mode);
    if (value !== undefined) await tid('reset-value').fill(String(value));
    await tid('reset-preview-button').click();
    await tid('reset-dry-run').waitFor();
    const rows = page.locator('[data-testid="reset-plan"] tbody tr[data-tp]');
    const plan = [];
    for (let i = 0; i < (await rows.count()); i++) {
      const cells = await rows.nth(i).locator('td').allTextContents();
      plan.push({ tp: await rows.nth(i).getAttribute('data-tp'), current: cells[2].trim(), next: cells[3].trim(), lagAfter: cells[5].trim() });
    }
    await screenshot('group-reset-preview');
    await tid('reset-apply').click();
    await tid('confirm').click();
    await page.locator('[data-testid="reset-done"], [data-testid="reset-preview"] [data-testid="error"]').first().waitFor();
    if (await tid('reset-preview').locator('[data-testid="error"]').count()) throw new Error((await tid('reset-preview').textContent()).trim());
    return plan;
  },

  async security() {
    const started = Date.now();
    await open('#/security', '[data-testid="acls-section"] .alert, [data-testid="acls"]');
    await page.locator('[data-testid="users-section"] .alert, [data-testid="users"]').first().waitFor();
    return {
      notes: (await tid('security-unavailable').allTextContents()).map((t) => t.trim()),
      errors: (await tid('error').allTextContents()).map((t) => t.trim()),
      acls: await page.locator('[data-testid="acls"] tbody tr[data-acl]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-acl'))),
      users: await page.locator('[data-testid="users"] tbody tr[data-user]').evaluateAll((rows) =>
        rows.map((r) => `${r.getAttribute('data-user')} ${r.querySelector('[data-col="mechanism"]').textContent.trim()} ${r.querySelector('[data-col="iterations"]').textContent.trim()}`)),
      millis: Date.now() - started,
    };
  },

  async createAcl({ principal, permission, operation, resourceType, resourceName, patternType, host = '*' }) {
    await open('#/security', '[data-testid="acls"]');
    await tid('acl-principal').fill(principal);
    await tid('acl-permission').selectOption(permission);
    await tid('acl-operation').selectOption(operation);
    await tid('acl-resource-type').selectOption(resourceType);
    await tid('acl-resource-name').fill(resourceName);
    await tid('acl-pattern').selectOption(patternType);
    await tid('acl-host').fill(host);
    await tid('add-acl').click();
    const key = `${permission} ${principal} ${operation} ${resourceType} ${resourceName} ${patternType} ${host}`;
    await page.locator(`[data-testid="acls"] tr[data-acl="${key}"]`).waitFor();
    return key;
  },

  async deleteAcl({ key }) {
    await open('#/security', `[data-testid="acls"] tr[data-acl="${key}"]`);
    await page.locator(`[data-testid="acls"] tr[data-acl="${key}"] [data-testid="delete-acl"]`).click();
    await tid('confirm').click();
    await page.locator(`[data-testid="acls"] tr[data-acl="${key}"]`).waitFor({ state: 'detached' });
    return true;
  },

  async saveUser({ user, password, mechanism, iterations }) {
    await open('#/security', '[data-testid="users"]');
    await tid('user-name').fill(user);
    await tid('user-password').fill(password);
    await tid('user-mechanism').selectOption(mechanism);
    await tid('user-iterations').fill(String(iterations));
    await tid('save-user').click();
    const row = page.locator(`[data-testid="users"] tr[data-user="${user}"][data-mechanism="${mechanism}"]`);
    return until(`${user} is listed with ${mechanism} and ${iterations} iterations`, async () => {
      if ((await row.count()) === 0) return { done: false, value: 'not listed' };
      const value = { mechanism: (await row.locator('[data-col="mechanism"]').textContent()).trim(), iterations: (await row.locator('[data-col="iterations"]').textContent()).trim() };
      return { done: value.iterations === String(iterations), value };
    });
  },

  async deleteUser({ user, mechanism }) {
    await open('#/security', `[data-testid="users"] tr[data-user="${user}"][data-mechanism="${mechanism}"]`);
    await page.locator(`[data-testid="users"] tr[data-user="${user}"][data-mechanism="${mechanism}"] [data-testid="delete-user"]`).click();
    await tid('confirm').click();
    await page.locator(`[data-testid="users"] tr[data-user="${user}"][data-mechanism="${mechanism}"]`).waitFor({ state: 'detached' });
    return true;
  },

  async problems() {
    return problems.splice(0);
  },
};

const write = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
write({ ready: true });
const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const { id, action, args } = JSON.parse(line);
  try {
    if (!actions[action]) throw new Error(`unknown action ${action}`);
    write({ id, ok: true, result: await actions[action](args || {}) });
  } catch (e) {
    let shot = null;
    try {
      shot = await screenshot(`failure-${action}-${id}`);
    } catch {
      // The page may be gone; the error says enough.
    }
    write({ id, ok: false, error: String(e && e.stack ? e.stack : e), screenshot: shot });
  }
}
await context.close();
fs.rmSync(profile, { recursive: true, force: true });
