// The operations pages with real data, against a broker of their own whose max_connections is low (5): Alarms
// raising the connections alarm, Topic metrics counting a publish, Topics and Slow subscribers (paged), a trace
// showing an mqtt.js client's PUBLISH live (from the Trace page and from the client page's button), a read-only
// user's view of them, and logout ending the login on the broker. mqtt.js clients (MQTT 5, over TCP) play the
// devices; each test ends its own, so that the next stays under max_connections.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { startBroker, launchBrowser, guard, logIn, screenshot, until } from './harness.mjs';

const MAX_CONNECTIONS = 5;
let broker, browser;
before(async () => {
  broker = await startBroker({ global: [`max_connections ${MAX_CONNECTIONS}`] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await broker?.stop();
});

async function devices(t, ...ids) {
  const cs = [];
  for (const clientId of ids) {
    cs.push(await mqtt.connectAsync(broker.mqttUrl, { clientId, protocolVersion: 5, reconnectPeriod: 0, clean: true }));
  }
  t.after(() => Promise.all(cs.map(c => c.endAsync(true).catch(() => {}))));
  return cs;
}

async function session(t, user = 'ops') {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const checks = guard(page);
  await logIn(page, broker, user);
  t.after(() => context.close());
  return { context, page, checks };
}

const attr = (locator, name) => locator.getAttribute(name);

test('Alarms shows the connections alarm while connected clients pass 90 % of max_connections', async t => {
  const { page, checks } = await session(t);
  await page.getByTestId('nav-alarms').click();
  // other alarms (heap, with the broker's small -Xmx) may come and go: this test looks at the connections alarm only
  const row = page.locator('[data-testid=alarms-table] tr[data-alarm=connections]');
  await page.locator('[data-testid=alarms-table], [data-testid=alarms-table-empty]').first().waitFor();
  assert.equal(await row.count(), 0);
  const cs = await devices(t, ...Array.from({ length: MAX_CONNECTIONS }, (_, i) => `alarm-${i}`));
  await row.waitFor({ timeout: 15000 });
  assert.equal(Number(await attr(row.getByTestId('alarm-value'), 'data-value')), 100);
  assert.match(await row.textContent(), /5 clients connected of max_connections 5/);
  await screenshot(page, 'alarms-raised');
  await Promise.all(cs.map(c => c.endAsync()));
  await row.waitFor({ state: 'detached', timeout: 15000 });
  checks.assertClean();
});

test('Topic metrics: a filter registered in the page counts a publish in and out; Stop counting removes it', async t => {
  const { page, checks } = await session(t);
  const [sub, pub] = await devices(t, 'metrics-sub', 'metrics-pub');
  await sub.subscribeAsync('ops/metrics/#', { qos: 1 });
  const got = new Promise(resolve => sub.once('message', resolve));
  await page.getByTestId('nav-topic-metrics').click();
  await page.getByTestId('topic-metrics-table-empty').waitFor();
  await page.getByTestId('topic-metric-filter').fill('ops/metrics/+');
  await page.getByTestId('topic-metric-register').click();
  const row = page.locator('[data-testid=topic-metrics-table] tr[data-filter="ops/metrics/+"]');
  await row.waitFor();
  assert.equal(await attr(row.getByTestId('topic-metric-messages-in'), 'data-value'), '0');
  await pub.publishAsync('ops/metrics/a', 'hello', { qos: 1 });
  await got;
  const value = id => attr(row.getByTestId(id), 'data-value');
  await until('the page showing 1 message (5 bytes) in and out', async () =>
    await value('topic-metric-messages-in') === '1' && await value('topic-metric-bytes-in') === '5'
      && await value('topic-metric-messages-out') === '1' && await value('topic-metric-bytes-out') === '5', 15);
  assert.equal(await attr(page.getByTestId('topic-metrics-count'), 'data-value'), '1');
  await screenshot(page, 'topic-metrics-counting');
  // registering it again: the broker's 409 is shown
  await page.getByTestId('topic-metric-filter').fill('ops/metrics/+');
  await page.getByTestId('topic-metric-register').click();
  await until('the conflict shown', async () => /already registered/.test(await page.getByTestId('topic-metrics-table-error').textContent()));
  // Chromium logs every failed request on the console: this one is expected, and the only one
  const conflict = await until('the 409 on the console', () => 1 + checks.problems.findIndex(p =>
    /status of 409 \(Conflict\).*\/api\/v1\/topic-metrics\)$/.test(p))) - 1;
  checks.problems.splice(conflict, 1);
  await row.getByTestId('topic-metric-remove').click();
  await page.getByTestId('topic-metrics-table-empty').waitFor();
  checks.assertClean();
});

test('Topics pages through retained topics and filters; Slow subscribers lists an offline session with queued messages', async t => {
  const { page, checks } = await session(t);
  const [pub] = await devices(t, 'topics-pub');
  for (let i = 0; i < 105; i++) await pub.publishAsync(`ops/page/${String(i).padStart(3, '0')}`, `v${i}`, { qos: 1, retain: true });
  // a persistent session that goes offline with a QoS 1 subscription: what is published for it queues
  const slow = await mqtt.connectAsync(broker.mqttUrl, { clientId: 'slow-sub', protocolVersion: 5, reconnectPeriod: 0, clean: false,
    properties: { sessionExpiryInterval: 600 } });
  await slow.subscribeAsync('ops/slow/#', { qos: 1 });
  await slow.endAsync();
  for (let i = 0; i < 3; i++) await pub.publishAsync('ops/slow/x', `m${i}`, { qos: 1 });

  await page.getByTestId('nav-topics').click();
  await page.getByTestId('topics-table-like').fill('ops/');
  await page.getByTestId('topics-table-search-submit').click();
  const rows = page.locator('[data-testid=topics-table] tbody tr');
  await until('the first page: 100 topics', async () => (await rows.count()) === 100);
  assert.equal(await attr(rows.first(), 'data-topic'), 'ops/page/000');
  assert.equal(await attr(rows.first().getByTestId('topic-retained'), 'data-value'), '2');
  await screenshot(page, 'topics-listed');
  await page.getByTestId('topics-table-next').click();
  await until('the second page: the 5 topics left and the filter', async () =>
    (await attr(page.getByTestId('topics-table-page'), 'data-value')) === '2' && (await rows.count()) === 6);
  const filter = page.locator('[data-testid=topics-table] tr[data-topic="ops/slow/#"]');
  assert.equal(await attr(filter.getByTestId('topic-subscribers'), 'data-value'), '1');
  assert.equal(await page.getByTestId('topics-table-next').isDisabled(), true);
  await page.getByTestId('topics-table-first').click();
  await until('back on page 1', async () => (await attr(page.getByTestId('topics-table-page'), 'data-value')) === '1');
  // a retained topic links to its message on Retained
  await rows.first().getByTestId('topic-retained').click();
  await page.locator('[data-testid=retained-table] tr[data-topic="ops/page/000"]').waitFor();
  assert.equal(await page.getByTestId('retained-filter').inputValue(), 'ops/page/000');

  await page.getByTestId('nav-slow-subscribers').click();
  const row = page.locator('[data-testid=slow-table] tr[data-client="slow-sub"]');
  await row.waitFor();
  assert.equal(await attr(row, 'data-reasons'), 'queued');
  assert.equal(await attr(row.getByTestId('slow-queued'), 'data-value'), '3');
  await screenshot(page, 'slow-subscribers-queued');
  checks.assertClean();
});

test('a trace shows the PUBLISH: started in the Trace page for an mqtt.js client, followed live, downloaded, stopped', async t => {
  const { context, page, checks } = await session(t);
  await page.getByTestId('nav-trace').click();
  await page.getByTestId('traces-empty').waitFor();
  await page.getByTestId('trace-kind').selectOption('clientId');
  await page.getByTestId('trace-value').fill('traced-device');
  await page.getByTestId('trace-seconds').fill('120');
  await page.getByTestId('trace-payloads').check();
  await page.getByTestId('trace-start').click();
  await page.waitForURL(/#\/trace\/[^/]+$/);
  const id = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
  await until('the live view connected', async () => (await attr(page.getByTestId('trace-live-state'), 'data-state')) === 'open');

  const [dev] = await devices(t, 'traced-device');
  await dev.publishAsync('ops/traced', 'hello trace', { qos: 1 });
  const publish = page.locator('[data-testid=trace-event][data-type=publish_in][data-topic="ops/traced"]');
  await publish.waitFor({ timeout: 15000 });
  assert.equal(await attr(publish, 'data-client'), 'traced-device');
  assert.match(await publish.textContent(), /QoS 1, 11 B · hello trace/);
  await page.locator('[data-testid=trace-event][data-type=connect]').waitFor();
  const listed = page.locator(`[data-testid=traces-table] tr[data-trace="${id}"]`);
  await listed.waitFor();
  assert.equal(await attr(listed, 'data-running'), 'true');
  await screenshot(page, 'trace-live');

  // the download link is the trace's GET: what it recorded, the PUBLISH among it
  const href = await attr(listed.getByTestId('trace-download'), 'href');
  assert.equal(href, `/api/v1/traces/${encodeURIComponent(id)}`);
  const download = await context.request.get(broker.url + href);
  assert.equal(download.status(), 200);
  assert.match(download.headers()['content-disposition'], /attachment/);
  const recorded = await download.json();
  assert.equal(recorded.clientId, 'traced-device');
  assert.ok(recorded.events.some(e => e.type === 'publish_in' && e.topic === 'ops/traced' && e.payload === 'hello trace'),
    JSON.stringify(recorded.events));

  await listed.getByTestId('trace-stop').click();
  await page.waitForURL(/#\/trace$/);
  await page.getByTestId('traces-empty').waitFor();
  assert.equal((await context.request.get(broker.url + href)).status(), 404);
  checks.assertClean();
});

test("the client page's Trace button starts a trace of that client and shows its PUBLISH live", async t => {
  const { page, checks } = await session(t);
  const [dev] = await devices(t, 'button-traced');
  await page.goto(`${broker.url}/#/clients/button-traced`);
  await page.getByTestId('client-detail').waitFor();
  await page.getByTestId('client-trace').click();
  await page.waitForURL(/#\/trace\/[^/]+$/);
  await until('the live view connected', async () => (await attr(page.getByTestId('trace-live-state'), 'data-state')) === 'open');
  await dev.publishAsync('ops/button', 'x', { qos: 0 });
  const publish = page.locator('[data-testid=trace-event][data-type=publish_in][data-topic="ops/button"]');
  await publish.waitFor({ timeout: 15000 });
  assert.equal(await attr(publish, 'data-client'), 'button-traced');
  // payloads were not asked for: none shown
  assert.doesNotMatch(await publish.textContent(), /· x$/);
  await page.getByTestId('trace-stop').click();
  await page.getByTestId('traces-empty').waitFor();
  checks.assertClean();
});

test('read-only: the operations pages show no write controls', async t => {
  const [dev] = await devices(t, 'ro-ops-device');
  const { page, checks } = await session(t, 'viewer');
  await page.goto(`${broker.url}/#/clients/ro-ops-device`);
  await page.getByTestId('client-detail').waitFor();
  assert.equal(await page.getByTestId('client-trace').count(), 0);
  await page.getByTestId('nav-topic-metrics').click();
  await page.getByTestId('topic-metrics-count').waitFor();
  await until('loaded', async () => (await page.getByTestId('topic-metrics-count').textContent()) !== '');
  assert.equal(await page.getByTestId('topic-metric-form').count(), 0);
  await page.getByTestId('nav-trace').click();
  await page.locator('[data-testid=traces-empty], [data-testid=traces-table]').first().waitFor();
  assert.equal(await page.getByTestId('trace-form').count(), 0);
  assert.equal(await page.getByTestId('trace-stop').count(), 0);
  await dev.endAsync();
  checks.assertClean();
});

test('Log out ends the login on the broker: the login form shows, and the old cookie gets 401', async t => {
  const { context, page, checks } = await session(t);
  const cookie = (await context.cookies()).find(c => c.name === 'ternmq_session');
  assert.ok(cookie, 'the login set its cookie');
  const logout = page.waitForResponse(r => r.url().endsWith('/api/v1/logout'));
  await page.getByTestId('logout').click();
  const answer = await logout;
  assert.equal(answer.status(), 200);
  assert.equal(answer.request().headers()['x-ternmq-csrf']?.length > 0, true);
  await page.getByTestId('login-form').waitFor();
  assert.equal((await context.cookies()).some(c => c.name === 'ternmq_session'), false, 'the answer cleared the cookie');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('ternmq.login')), null);
  assert.equal(await page.getByTestId('nav').isHidden(), true);
  // the browser dropped the cookie; a copy of it is worthless too
  assert.equal((await context.request.get(`${broker.url}/api/v1/status`)).status(), 401);
  const replay = await fetch(`${broker.url}/api/v1/status`, { headers: { Cookie: `ternmq_session=${cookie.value}` } });
  assert.equal(replay.status, 401);
  await screenshot(page, 'logged-out');
  checks.assertClean();
});
