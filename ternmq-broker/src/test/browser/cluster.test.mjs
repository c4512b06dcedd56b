// The dashboard of a two-node cluster, opened on node A: the Nodes page lists both members, answered; Clients shows
// the node holding a client connected to node B, and Kick on its page reaches it there (mqtt.js: reason 152); Topics,
// Slow subscribers and Alarms show what is on node B (a filter subscribed there, an offline session queueing there,
// its connections alarm: max_connections is 2 on each node), each row naming its node; Topic metrics counts a publish
// on node B for a filter registered on node A, and a trace started on node A shows node B's client's events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import mqtt from 'mqtt';
import { startBroker, launchBrowser, guard, logIn, screenshot, until } from './harness.mjs';

/** The id of the node the page is not on, as its Nodes page lists it. */
async function otherNodeId(page) {
  await page.getByTestId('nav-nodes').click();
  const other = page.locator('[data-testid=nodes-table] tr[data-self=false]');
  await other.waitFor();
  return other.getAttribute('data-node');
}

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

const MAX_CONNECTIONS = 2;
let a, b, browser;
const clients = [];
before(async () => {
  const ports = [await freePort(), await freePort()];
  const members = ports.map(p => `127.0.0.1:${p}`).join(',');
  const node = i => ['storage.type memory', 'cluster.enabled true', `cluster.bind 127.0.0.1:${ports[i]}`,
    `cluster.members ${members}`, 'cluster.secret browser-cluster-secret-0123456789', `max_connections ${MAX_CONNECTIONS}`];
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

test('Topics, Slow subscribers and Alarms on node A show node B\'s rows, each naming node B; the node choice narrows them', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const checks = guard(page);
  await logIn(page, a, 'ops');
  const nodeB = await otherNodeId(page);
  // on node B: a persistent session that goes offline with a QoS 1 subscription; what A publishes for it queues on B
  const slow = await mqtt.connectAsync(b.mqttUrl, { clientId: 'slow-on-b', protocolVersion: 5, reconnectPeriod: 0, clean: false,
    properties: { sessionExpiryInterval: 600 } });
  await slow.subscribeAsync('cluster/slow/#', { qos: 1 });
  await slow.endAsync();
  const pub = await mqtt.connectAsync(a.mqttUrl, { clientId: 'pub-on-a', protocolVersion: 5, reconnectPeriod: 0 });
  clients.push(pub);
  for (let i = 0; i < 3; i++) await pub.publishAsync('cluster/slow/x', `m${i}`, { qos: 1 });

  await page.getByTestId('nav-topics').click();
  const topic = page.locator('[data-testid=topics-table] tr[data-topic="cluster/slow/#"]');
  await topic.waitFor();
  assert.equal(await topic.getByTestId('topic-nodes').getAttribute('data-value'), `${nodeB}=1`);
  assert.equal(await topic.getByTestId('topic-subscribers').getAttribute('data-value'), '1');
  await screenshot(page, 'topics-cluster');

  await page.getByTestId('nav-slow-subscribers').click();
  const row = page.locator('[data-testid=slow-table] tr[data-client="slow-on-b"]');
  await row.waitFor();
  assert.equal(await row.getByTestId('slow-node').getAttribute('data-value'), nodeB);
  assert.equal(await row.getByTestId('slow-queued').getAttribute('data-value'), '3');
  await screenshot(page, 'slow-subscribers-cluster');
  // node A's own only: the session on B is not listed
  const selfId = await until('the node choice filled', async () => {
    const options = await page.getByTestId('slow-table-node').locator('option').evaluateAll(os => os.map(o => o.value));
    return options.length === 3 ? options.find(v => v && v !== nodeB) : null;
  });
  await page.getByTestId('slow-table-node').selectOption(selfId);
  await until('node A lists no slow subscriber', async () => (await page.getByTestId('slow-table-empty').count()) === 1);

  // node B's connections at max_connections: its alarm, shown on node A
  const devices = [];
  for (let i = 0; i < MAX_CONNECTIONS; i++) {
    devices.push(await mqtt.connectAsync(b.mqttUrl, { clientId: `alarm-on-b-${i}`, protocolVersion: 5, reconnectPeriod: 0 }));
  }
  clients.push(...devices);
  await page.getByTestId('nav-alarms').click();
  const alarm = page.locator(`[data-testid=alarms-table] tr[data-alarm=connections][data-node="${nodeB}"]`);
  await alarm.waitFor();
  assert.equal(await alarm.getByTestId('alarm-node').getAttribute('data-value'), nodeB);
  assert.equal(Number(await alarm.getByTestId('alarm-value').getAttribute('data-value')), 100);
  assert.equal(await page.locator('[data-testid=alarms-table] tr[data-alarm=connections]').count(), 1, 'node A has no connections alarm');
  await screenshot(page, 'alarms-cluster');
  for (const d of devices) await d.endAsync(true).catch(() => {});
  checks.assertClean();
  await context.close();
});

test('Topic metrics and Trace on node A show node B\'s figures and events, each naming node B', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const checks = guard(page);
  await logIn(page, a, 'ops');
  const nodeB = await otherNodeId(page);

  // a filter registered on node A is counted on node B
  await page.getByTestId('nav-topic-metrics').click();
  await page.getByTestId('topic-metric-filter').fill('cluster/metric/+');
  await page.getByTestId('topic-metric-register').click();
  const metric = page.locator('[data-testid=topic-metrics-table] tr[data-filter="cluster/metric/+"]');
  await until('node B counts the filter', async () =>
    (await metric.getByTestId('topic-metric-nodes').getAttribute('data-value')).includes(`${nodeB}=0/0`));

  // a trace started on node A of a client that connects to node B
  await page.getByTestId('nav-trace').click();
  await page.getByTestId('trace-kind').selectOption('clientId');
  await page.getByTestId('trace-value').fill('traced-on-b');
  await page.getByTestId('trace-seconds').fill('120');
  await page.getByTestId('trace-start').click();
  await page.waitForURL(/#\/trace\/[^/]+$/);
  await until('the live view connected', async () => (await page.getByTestId('trace-live-state').getAttribute('data-state')) === 'open');
  const id = decodeURIComponent(page.url().split('#/trace/')[1]);
  // node B keeps the trace before the client connects (its own API lists it)
  await until('node B keeps the trace', async () => {
    const r = await fetch(`${b.url}/api/v1/traces`, { headers: { authorization: `Basic ${Buffer.from('ops:secret').toString('base64')}` } });
    return (await r.json()).traces.some(t => t.id === id);
  });
  const device = await mqtt.connectAsync(b.mqttUrl, { clientId: 'traced-on-b', protocolVersion: 5, reconnectPeriod: 0 });
  clients.push(device);
  await device.publishAsync('cluster/metric/x', 'from B', { qos: 1 });
  const publish = page.locator('[data-testid=trace-event][data-type=publish_in][data-topic="cluster/metric/x"]');
  await publish.waitFor();
  assert.equal(await publish.getByTestId('trace-event-node').getAttribute('data-value'), nodeB);
  const connect = page.locator('[data-testid=trace-event][data-type=connect]');
  await connect.waitFor();
  assert.equal(await connect.getAttribute('data-node'), nodeB);
  const listed = page.locator(`[data-testid=traces-table] tr[data-trace="${id}"]`);
  await until('the traces list counts node B\'s events', async () =>
    (await listed.getByTestId('trace-nodes').getAttribute('data-value')).includes(`${nodeB}=2`));
  await screenshot(page, 'trace-cluster');

  await page.getByTestId('nav-topic-metrics').click();
  await until('node A shows node B\'s count', async () =>
    (await metric.getByTestId('topic-metric-nodes').getAttribute('data-value')).includes(`${nodeB}=1/0`)
      && (await metric.getByTestId('topic-metric-messages-in').getAttribute('data-value')) === '1');
  await screenshot(page, 'topic-metrics-cluster');
  checks.assertClean();
  await context.close();
});
