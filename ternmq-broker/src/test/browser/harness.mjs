// What every browser test needs: a real broker process of its own (MQTT, WebSocket and admin listeners on ports it
// picks itself, read from its log), headless Chromium through playwright-core, and the checks every page must
// pass: no console error, no request off 127.0.0.1, non-blank screenshots.
//
// Run by DashboardBrowserTest (./mvnw verify), which sets:
//   TERNMQ_JAVA, TERNMQ_CLASSPATH  the java binary and the broker's class path
//   TERNMQ_ADMIN_PASSWD            an admin password file with ops:secret and viewer:look (viewer is read-only)
//   TERNMQ_SCREENSHOTS             where the screenshots go (target/e2e-screenshots)
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const USERS = { ops: 'secret', viewer: 'look' };

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests through DashboardBrowserTest (./mvnw verify)`);
  return v;
}

/** Polls until check() returns a truthy value (or stops throwing); fails after `seconds`. */
export async function until(what, check, seconds = 30) {
  const end = Date.now() + seconds * 1000;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = new Error(`${what}: not yet (${JSON.stringify(v)})`);
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`${what}: gave up after ${seconds} s: ${last?.message}`);
    await new Promise(r => setTimeout(r, 100));
  }
}

/**
 * Starts `ternmq -c` with an MQTT, a WebSocket and an admin listener, all on ports the broker picks; `global` lines
 * go before the listeners (broker-wide keys such as max_connections).
 */
export async function startBroker({ global = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ternmq-browser-'));
  const conf = join(dir, 'ternmq.conf');
  writeFileSync(conf, [
    `data_dir ${join(dir, 'data')}`,
    'sys_interval 0', ...global,
    'listener 0 127.0.0.1', 'allow_anonymous true',
    'listener 0 127.0.0.1', 'protocol websockets', 'allow_anonymous true',
    'listener 0 127.0.0.1', 'protocol http_api', `password_file ${env('TERNMQ_ADMIN_PASSWD')}`,
    'admin_readonly_users viewer', '',
  ].join('\n'));
  const proc = spawn(env('TERNMQ_JAVA'), ['-Xmx256m', '-cp', env('TERNMQ_CLASSPATH'), 'io.ternmq.broker.Main', '-c', conf],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', d => { log += d; });
  proc.stderr.on('data', d => { log += d; });
  let exited = null;
  proc.on('exit', code => { exited = code; });
  const ports = await until('broker listening (its log)', () => {
    if (exited !== null) throw new Error(`broker exited with ${exited}:\n${log}`);
    const mqtt = [...log.matchAll(/Listening for MQTT on [^ ]*:(\d+): ([^\n]*)/g)];
    const admin = /Admin listener \(HTTP\) on [^ ]*:(\d+)/.exec(log);
    const ready = /TernMQ started in/.test(log);
    if (!ready || mqtt.length < 2 || !admin) return null;
    const ws = mqtt.find(m => /WebSocket/.test(m[2]));
    const tcp = mqtt.find(m => !/WebSocket/.test(m[2]));
    return { mqtt: Number(tcp[1]), ws: Number(ws[1]), admin: Number(admin[1]) };
  }, 60);
  return {
    ...ports,
    admin: ports.admin,
    url: `http://127.0.0.1:${ports.admin}`,
    mqttUrl: `mqtt://127.0.0.1:${ports.mqtt}`,
    wsUrl: `ws://127.0.0.1:${ports.ws}/mqtt`,
    log: () => log,
    async stop() {
      if (exited === null) {
        const done = new Promise(r => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([done, new Promise(r => setTimeout(r, 15000))]);
        if (exited === null) proc.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with nothing of its own on the network. */
export async function launchBrowser() {
  const args = ['--disable-background-networking', '--disable-component-update', '--no-first-run',
    '--disable-default-apps', '--disable-sync'];
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args });
}

/** Watches a page: console errors, uncaught exceptions, and every request or WebSocket not to 127.0.0.1. */
export function guard(page) {
  const problems = [];
  page.on('console', m => {
    if (m.type() !== 'error') return;
    const url = m.location()?.url ?? '';
    problems.push(`console error: ${m.text()} (${url})`);
  });
  page.on('pageerror', e => problems.push(`uncaught: ${e.message}`));
  const local = u => {
    const url = new URL(u);
    return ['about:', 'data:', 'blob:'].includes(url.protocol) || url.hostname === '127.0.0.1';
  };
  page.on('request', r => { if (!local(r.url())) problems.push(`request off 127.0.0.1: ${r.url()}`); });
  page.on('websocket', ws => { if (!local(ws.url())) problems.push(`WebSocket off 127.0.0.1: ${ws.url()}`); });
  return { problems, assertClean: () => assert.deepEqual(problems, [], problems.join('\n')) };
}

export async function logIn(page, broker, user) {
  await page.goto(`${broker.url}/`);
  await page.getByTestId('login-user').fill(user);
  await page.getByTestId('login-password').fill(USERS[user]);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('page-overview').waitFor();
  await until('overview showing the version', async () =>
    (await page.getByTestId('version').getAttribute('data-value'))?.length > 0);
}

/** A screenshot into TERNMQ_SCREENSHOTS/<name>.png, which must not be blank (one colour, or nearly). */
export async function screenshot(page, name) {
  const dir = env('TERNMQ_SCREENSHOTS');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  const { share, colours } = dominantColour(readFileSync(path));
  assert.ok(share < 0.985 && colours > 8, `${path} looks blank: ${(share * 100).toFixed(1)} % one colour, ${colours} colours`);
  return path;
}

/** Decodes an 8-bit RGB/RGBA PNG (what Chromium writes) and says how much of it is its commonest colour. */
export function dominantColour(png) {
  assert.equal(png.toString('latin1', 1, 4), 'PNG');
  let pos = 8, width = 0, height = 0, channels = 0;
  const idat = [];
  while (pos < png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, 'bit depth 8');
      channels = { 2: 3, 6: 4 }[data[9]];
      assert.ok(channels, `colour type ${data[9]}`);
      assert.equal(data[12], 0, 'not interlaced');
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[y * stride + x - channels] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? out[(y - 1) * stride + x - channels] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * stride + x] = v & 0xff;
    }
  }
  const counts = new Map();
  for (let i = 0; i < out.length; i += channels) {
    const key = (out[i] << 16) | (out[i + 1] << 8) | out[i + 2];
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { share: Math.max(...counts.values()) / (width * height), colours: counts.size };
}
