// mqtt.js in a headless Chromium page, over the broker's WebSocket listener: 1,000 QoS 1 messages, in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import mqtt from 'mqtt';
import { startBroker, launchBrowser, guard } from './harness.mjs';

// the browser bundle mqtt.js publishes (its package exports do not name it)
const MQTT_BUNDLE = readFileSync(new URL('./node_modules/mqtt/dist/mqtt.min.js', import.meta.url), 'utf8');

let broker, browser;
before(async () => { broker = await startBroker(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await broker?.stop(); });

test('mqtt.js in the page receives 1,000 QoS 1 messages over ws, in order', async t => {
  const page = await browser.newPage();
  const checks = guard(page);
  // the page comes from a server of the test's own on 127.0.0.1: Chromium lets only a page of a local address
  // open a WebSocket to a loopback one (a page that Playwright made up has no address, so it would not do)
  const server = createServer((req, res) => {
    const js = req.url === '/mqtt.min.js';
    res.writeHead(js || req.url === '/' ? 200 : 404, { 'Content-Type': js ? 'text/javascript' : 'text/html' });
    res.end(js ? MQTT_BUNDLE : '<!doctype html><title>mqtt.js over WebSocket</title><link rel="icon" href="data:,"><script src="/mqtt.min.js"></script>');
  });
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => typeof window.mqtt === 'object'); // mqtt.js' browser bundle
  await page.evaluate(async url => {
    window.received = [];
    const c = window.mqtt.connect(url, { clientId: 'in-page', protocolVersion: 5, reconnectPeriod: 0 });
    await new Promise((resolve, reject) => { c.once('connect', resolve); c.once('error', reject);
      c.once('close', () => reject(new Error('closed before CONNACK'))); });
    c.on('message', (topic, payload, packet) => window.received.push([topic, payload.toString(), packet.qos]));
    await c.subscribeAsync('page/seq', { qos: 1 });
    window.client = c;
  }, broker.wsUrl);

  const publisher = await mqtt.connectAsync(broker.mqttUrl, { clientId: 'page-publisher', reconnectPeriod: 0 });
  // all in flight at once (mqtt.js sends them in this order on its one connection); each acknowledged
  await Promise.all(Array.from({ length: 1000 }, (_, i) => publisher.publishAsync('page/seq', String(i), { qos: 1 })));
  await publisher.endAsync();

  const deadline = Date.now() + 60_000;
  let got = [];
  while (Date.now() < deadline) {
    got = await page.evaluate(() => window.received);
    if (got.length >= 1000) break;
    await new Promise(r => setTimeout(r, 100));
  }
  assert.equal(got.length, 1000, `got ${got.length} of 1000`);
  got.forEach(([topic, payload, qos], i) => {
    assert.equal(topic, 'page/seq');
    assert.equal(payload, String(i), `message ${i} out of order`);
    assert.equal(qos, 1);
  });
  await page.evaluate(() => window.client.endAsync());
  checks.assertClean();
  await page.close();
});
