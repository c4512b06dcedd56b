// A read-only admin user (admin_readonly_users): the dashboard shows no write controls, and writes made with its
// login anyway get 403.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { startBroker, launchBrowser, guard, logIn, screenshot } from './harness.mjs';

let broker, browser, device;
before(async () => {
  broker = await startBroker();
  browser = await launchBrowser();
  device = await mqtt.connectAsync(broker.mqttUrl, { clientId: 'ro-device', protocolVersion: 5, reconnectPeriod: 0 });
  await device.subscribeAsync('ro/#', { qos: 1 });
  await device.publishAsync('ro/kept', 'x', { qos: 1, retain: true });
});
after(async () => {
  await device?.endAsync(true);
  await browser?.close();
  await broker?.stop();
});

test('read-only user: no write controls on any page; writes with its login get 403', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const checks = guard(page);
  await logIn(page, broker, 'viewer');
  assert.equal(await page.getByTestId('user').getAttribute('data-readonly'), 'true');

  await page.goto(`${broker.url}/#/clients/ro-device`);
  await page.getByTestId('client-subscriptions').waitFor();
  assert.equal(await page.getByTestId('client-detail').getAttribute('data-connected'), 'true');
  for (const id of ['kick', 'kick-form', 'subscribe-form', 'unsubscribe']) {
    assert.equal(await page.getByTestId(id).count(), 0, `${id} shown to a read-only user`);
  }
  await screenshot(page, 'readonly-client');
  await page.goto(`${broker.url}/#/retained`);
  await page.locator('[data-testid=retained-table] tr[data-topic="ro/kept"]').waitFor();
  for (const id of ['retained-delete', 'publish-form']) {
    assert.equal(await page.getByTestId(id).count(), 0, `${id} shown to a read-only user`);
  }
  await screenshot(page, 'readonly-retained');
  // the page has no way to write; the login could still be used by hand: the broker refuses
  const csrf = await page.evaluate(() => JSON.parse(sessionStorage.getItem('ternmq.login')).csrf);
  const write = (method, path, data) => context.request.fetch(`${broker.url}/api/v1/${path}`,
    { method, headers: { 'X-TernMQ-CSRF': csrf, 'Content-Type': 'application/json' }, data });
  for (const [method, path, data] of [
    ['POST', 'publish', { topic: 'ro/x', payload: 'no' }],
    ['DELETE', 'clients/ro-device'],
    ['POST', 'clients/ro-device/subscriptions', { filter: 'x', qos: 0 }],
    ['DELETE', 'retained/ro%2Fkept'],
  ]) {
    const r = await write(method, path, data);
    assert.equal(r.status(), 403, `${method} ${path}`);
    assert.match((await r.json()).message, /read-only/);
  }
  // reading works with the same login
  assert.equal((await context.request.get(`${broker.url}/api/v1/status`)).status(), 200);
  checks.assertClean();
  await context.close();
});
