// The dashboard in headless Chromium against a real broker: log in, every page, Overview's counts, a kick, a
// retained publish and delete that a subscriber sees, and a read-only user. mqtt.js clients (MQTT 5, over TCP) play
// the devices; each test uses client ids and topics of its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { startBroker, launchBrowser, guard, logIn, screenshot, until, dominantColour } from './harness.mjs';

let broker, browser;
const clients = [];
before(async () => { broker = await startBroker(); browser = await launchBrowser(); });
after(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => {});
  await browser?.close();
  await broker?.stop();
});

async function device(clientId, options = {}) {
  const c = await mqtt.connectAsync(broker.mqttUrl, { clientId, protocolVersion: 5, reconnectPeriod: 0, ...options });
  clients.push(c);
  return c;
}

async function session(user = 'ops') {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const checks = guard(page);
  await logIn(page, broker, user);
  return { context, page, checks };
}

test('headless Chromium logs in; every page renders (screenshots, none blank)', async () => {
  const { context, page, checks } = await session();
  await device('screenshot-device').then(c => c.subscribeAsync('shots/#', { qos: 1 }));
  await page.goto(`${broker.url}/#/login`);
  // the login page itself, in a context without a login
  const fresh = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const loginPage = await fresh.newPage();
  const loginChecks = guard(loginPage);
  await loginPage.goto(`${broker.url}/`);
  await loginPage.getByTestId('page-login').waitFor();
  await screenshot(loginPage, 'login');
  loginChecks.assertClean();
  await fresh.close();

  await page.goto(`${broker.url}/#/overview`);
  await until('overview plots drawn with samples', async () =>
    Number(await page.getByTestId('chart-publish').getAttribute('data-points')) >= 2);
  assert.equal(await page.locator('.uplot').count(), 6);
  await screenshot(page, 'overview');
  // the plots follow the window's width (two columns of them at 1280 px, one at 800 px: each gets wider)
  const width = () => page.locator('.uplot').first().evaluate(e => e.getBoundingClientRect().width);
  const wide = await width();
  await page.setViewportSize({ width: 800, height: 900 });
  await until('plots resized with the window', async () => Math.abs((await width()) - wide) > 50);
  await page.setViewportSize({ width: 1280, height: 900 });
  for (const name of ['nodes', 'clients', 'subscriptions', 'topics', 'retained', 'metrics', 'alarms', 'slow-subscribers',
    'topic-metrics', 'trace', 'systree']) {
    await page.getByTestId(`nav-${name}`).click();
    const root = page.getByTestId(`page-${name}`);
    await root.waitFor();
    // loaded: a table, a list, or the page's "none" line
    await root.locator('table, dl.kv, [data-testid$=-empty]').first().waitFor();
    await screenshot(page, name);
  }
  // a single node lists itself, answered, with the client connected to it
  await page.getByTestId('nav-nodes').click();
  const self = page.locator('[data-testid=nodes-table] tr[data-self=true][data-answered=true]');
  await self.waitFor();
  assert.equal(await page.locator('[data-testid=nodes-table] tr[data-node]').count(), 1);
  await until('the node counts the connected client', async () =>
    Number(await self.getByTestId('node-connections').getAttribute('data-value')) >= 1);
  await page.goto(`${broker.url}/#/clients/screenshot-device`);
  await page.getByTestId('client-subscriptions').waitFor();
  await screenshot(page, 'client-detail');
  checks.assertClean();
  await context.close();
});

test("Overview's clients count rises by N for N mqtt.js clients", async () => {
  const { context, page, checks } = await session();
  const value = async () => Number(await page.getByTestId('clients-connected').getAttribute('data-value'));
  const before = await until('a count', async () => { const v = await value(); return Number.isFinite(v) ? { v } : null; });
  const N = 7;
  for (let i = 0; i < N; i++) await device(`count-${i}`);
  await until(`clients-connected = ${before.v + N}`, async () => (await value()) === before.v + N);
  assert.ok(Number(await page.getByTestId('clients-peak').getAttribute('data-value')) >= before.v + N);
  checks.assertClean();
  await context.close();
});

test('Kick on a client page reaches mqtt.js as DISCONNECT reason 152', async () => {
  const { context, page, checks } = await session();
  // a session that outlives its connection: the page then shows it offline
  const victim = await device('kick-me', { clean: false, properties: { sessionExpiryInterval: 300 } });
  const disconnect = new Promise(resolve => victim.once('disconnect', packet => resolve(packet)));
  await page.goto(`${broker.url}/#/clients`);
  await page.getByTestId('clients-like').fill('kick-me');
  await page.getByTestId('clients-search-submit').click();
  await page.locator('[data-testid=client-link][data-client="kick-me"]').click();
  await page.getByTestId('client-detail').waitFor();
  assert.equal(await page.getByTestId('client-detail').getAttribute('data-connected'), 'true');
  await page.getByTestId('kick').click();
  const packet = await Promise.race([disconnect, new Promise((_, rej) => setTimeout(() => rej(new Error('no DISCONNECT')), 15000))]);
  assert.equal(packet.reasonCode, 152);
  await until('detail showing the client offline', async () =>
    (await page.getByTestId('client-detail').getAttribute('data-connected')) === 'false');
  checks.assertClean();
  await context.close();
});

test('a retained publish (MQTT 5 properties) and its delete from the Retained page reach a subscriber', async () => {
  const { context, page, checks } = await session();
  const sub = await device('retained-watcher');
  const messages = [];
  sub.on('message', (topic, payload, packet) => messages.push({ topic, payload: payload.toString(), packet }));
  await sub.subscribeAsync('dash/retained/#', { qos: 1 });
  await page.goto(`${broker.url}/#/retained`);
  await page.getByTestId('publish-topic').fill('dash/retained/a');
  await page.getByTestId('publish-payload').fill('{"t":21.5}');
  await page.getByTestId('publish-qos').selectOption('1');
  await page.getByTestId('publish-contentType').fill('application/json');
  await page.getByTestId('publish-messageExpiryInterval').fill('600');
  await page.getByTestId('publish-userProperties').fill('by=dashboard');
  await page.getByTestId('publish-submit').click();
  await until('the subscriber got the publish', () => messages.length === 1);
  const [m] = messages;
  assert.equal(m.topic, 'dash/retained/a');
  assert.equal(m.payload, '{"t":21.5}');
  assert.equal(m.packet.qos, 1);
  assert.equal(m.packet.properties.contentType, 'application/json');
  assert.deepEqual({ ...m.packet.properties.userProperties }, { by: 'dashboard' });
  const row = page.locator('[data-testid=retained-table] tr[data-topic="dash/retained/a"]');
  await row.waitFor();
  await row.getByTestId('retained-open').click();
  await page.getByTestId('preview-json').click();
  assert.equal(await page.getByTestId('retained-preview').textContent(), '{\n  "t": 21.5\n}');
  await page.getByTestId('preview-hex').click();
  assert.match(await page.getByTestId('retained-preview').textContent(), /^000000  7b 22 74 22/);
  await screenshot(page, 'retained-preview');
  // a new subscriber gets it retained
  const late = await device('retained-late');
  const lateGot = new Promise(resolve => late.once('message', (topic, payload, packet) => resolve(packet)));
  await late.subscribeAsync('dash/retained/a', { qos: 1 });
  assert.equal((await lateGot).retain, true);

  await row.getByTestId('retained-delete').click();
  await until('the subscriber saw the delete (an empty retained message)', () => messages.length === 2);
  assert.equal(messages[1].topic, 'dash/retained/a');
  assert.equal(messages[1].payload, '');
  await until('the row gone', async () => (await row.count()) === 0);
  // a retained message would come right after SUBACK, before anything published after it: a marker says none did
  const after = await device('retained-after');
  const first = new Promise(resolve => after.once('message', (topic, payload) => resolve(payload.toString())));
  await after.subscribeAsync('dash/retained/a', { qos: 1 });
  await after.publishAsync('dash/retained/a', 'marker', { qos: 1 });
  assert.equal(await first, 'marker', 'the retained message is gone');
  checks.assertClean();
  await context.close();
});

test('read-only user: no write controls on any page; writes with its login get 403', async () => {
  const ro = await device('ro-device');
  await ro.subscribeAsync('ro/#', { qos: 1 });
  await ro.publishAsync('ro/kept', 'x', { qos: 1, retain: true });
  const { context, page, checks } = await session('viewer');
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

test('the checks are real: a console error, a request off 127.0.0.1 and a blank screenshot are caught', async () => {
  const page = await browser.newPage();
  const checks = guard(page);
  await page.route('http://example.invalid/**', route => route.abort()); // never leaves the machine
  await page.goto('about:blank');
  await page.evaluate(() => {
    console.error('planted error');
    fetch('http://example.invalid/x').catch(() => {});
  });
  await until('both seen', () => checks.problems.length >= 2);
  assert.ok(checks.problems.some(p => p.startsWith('console error: planted error')), checks.problems.join('\n'));
  assert.ok(checks.problems.some(p => p === 'request off 127.0.0.1: http://example.invalid/x'), checks.problems.join('\n'));
  assert.throws(() => checks.assertClean());
  const blank = dominantColour(await page.screenshot());
  assert.ok(blank.share > 0.985 && blank.colours <= 8, `about:blank: ${JSON.stringify(blank)}`);
  await page.close();
});
