// The dashboard of a two-node cluster, opened on node A: the Nodes page lists both members, answered; Clients shows
// the node holding a client connected to node B, and Kick on its page reaches it there (mqtt.js: reason 152).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import mqtt from 'mqtt';
import { startBroker, launchBrowser, guard, logIn, screenshot, until } from './harness.mjs';

/** A port free now, for a node's membership (each node must know the other's before either starts). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

let a, b, browser;
const clients = [];
before(async () => {
  const ports = [await freePort(), await freePort()];
  const members = ports.map(p => `127.0.0.1:${p}`).join(',');
  const node = i => ['storage.type memory', 'cluster.enabled true', `cluster.bind 127.0.0.1:${ports[i]}`,
    `cluster.members ${members}`, 'cluster.secret browser-cluster-secret-0123456789'];
  [a, b] = await Promise.all([startBroker({ global: node(0) }), startBroker({ global: node(1) })]);
  browser = await launchBrowser();
});
after(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => {});
  await browser?.close();
  await Promise.all([a?.stop(), b?.stop()]);
});

test('two nodes: Nodes lists both; Clients shows the node holding a client; Kick reaches it on the other node', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const checks = guard(page);
  const device = await mqtt.connectAsync(b.mqttUrl, { clientId: 'on-node-b', protocolVersion: 5, reconnectPeriod: 0 });
  clients.push(device);
  const disconnect = new Promise(resolve => device.once('disconnect', packet => resolve(packet)));
  await logIn(page, a, 'ops');

  await page.getByTestId('nav-nodes').click();
  const table = page.getByTestId('nodes-table');
  await until('both nodes listed, both answered', async () =>
    (await table.locator('tr[data-answered=true]').count()) === 2);
  assert.equal(await table.locator('tr[data-node]').count(), 2);
  assert.equal(await table.locator('tr[data-self=true]').count(), 1);
  const other = table.locator('tr[data-self=false]');
  const otherId = await other.getAttribute('data-node');
  await until('node B counts its client', async () =>
    Number(await other.getByTestId('node-connections').getAttribute('data-value')) >= 1);
  await screenshot(page, 'nodes-cluster');

  await page.getByTestId('nav-clients').click();
  const row = page.locator('[data-testid=clients-table] tr[data-client="on-node-b"]');
  await row.waitFor();
  assert.equal(await row.getByTestId('client-node').getAttribute('data-value'), otherId);
  await screenshot(page, 'clients-cluster');

  await row.getByTestId('client-link').click();
  await page.getByTestId('client-detail').waitFor();
  assert.equal(await page.getByTestId('client-field-node').getAttribute('data-value'), otherId);
  await page.getByTestId('kick').click();
  const packet = await Promise.race([disconnect,
    new Promise((_, rej) => setTimeout(() => rej(new Error('no DISCONNECT')), 15000))]);
  assert.equal(packet.reasonCode, 152);
  checks.assertClean();
  await context.close();
});
