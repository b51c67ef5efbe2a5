// Browser test of the h2r console (issue 15): zoom-sim + a real `h2rd run`, Debian's chromium driven by
// puppeteer-core. Logs in with the token URL, checks the Overview counts against `h2rd status --json`,
// opens an event and sees its attribute diff, approves a held guard batch from Review and waits until
// zoom-sim shows the users deactivated. Screenshots of each page go to the folder given as argv[4].
// Usage: node console_test.mjs H2RD ZOOM_SIM SCREENSHOT_DIR (ctest passes them; see tests/CMakeLists.txt).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const [h2rd, sim, shots] = process.argv.slice(2);
if (!h2rd || !sim || !shots) { console.error('usage: node console_test.mjs H2RD ZOOM_SIM SCREENSHOT_DIR'); process.exit(2); }
fs.mkdirSync(shots, { recursive: true });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'h2r-browser-'));
const children = [];
const fail = (msg) => { throw new Error(msg); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const h = (...args) => execFileSync(h2rd, ['-c', path.join(work, 'h2rd.yaml'), ...args], { encoding: 'utf8' });
const hjson = (...args) => JSON.parse(h(...args, '--json'));
// Polls `fn` until it returns a truthy value; fails naming `what` after `tries` (a bound for a broken run).
async function until(what, fn, tries = 600) {
  for (let i = 0; i < tries; ++i) { const v = await fn(); if (v) return v; await sleep(100); }
  fail('timed out waiting for ' + what);
}

async function main() {
  // zoom-sim with a client secret in a 0600 file.
  fs.writeFileSync(path.join(work, 'client-secret'), 'browser-test-secret-' + process.pid + '\n', { mode: 0o600 });
  const simProc = spawn(sim, ['--port', '0', '--account-id', 'acc-b', '--client-id', 'cid-b', '--client-secret-file',
    path.join(work, 'client-secret')], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(simProc);
  let simOut = '';
  simProc.stdout.on('data', (d) => { simOut += d; });
  const simPort = await until('zoom-sim', () => (simOut.match(/listening on 127\.0\.0\.1:(\d+)/) || [])[1]);
  const simUrl = 'http://127.0.0.1:' + simPort;

  fs.mkdirSync(path.join(work, 'inbox'));
  fs.mkdirSync(path.join(work, 'state'));
  fs.writeFileSync(path.join(work, 'h2rd.yaml'), 'database: state/h2r.db\ninbox: inbox\nrules: rules.yaml\n' +
    'secret_key_file: state/secret.key\ntimezone: America/New_York\nscheduler: { interval: 1s, workers: 2 }\n' +
    'listen: 127.0.0.1:0\nlog: { level: info, format: text }\n');
  fs.writeFileSync(path.join(work, 'rules.yaml'), `version: 1
targets:
  - connection: zoom-main
roles:
  - name: staff
    when: { field: employment_type, in: [full_time, part_time] }
    zoom: { user_type: Basic }
on_no_role: deprovision
lifecycle:
  guard: { max_deactivations_per_cycle: 1 }
attributes:
  userName: "{email}"
  name.givenName: "{first_name}"
  name.familyName: "{last_name}"
  displayName: "{first_name} {last_name}"
  title: "{job_title}"
  enterprise.department: "{department}"
`);
  execFileSync(h2rd, ['-c', path.join(work, 'h2rd.yaml'), 'connection', 'add', 'zoom-main', '--account-id', 'acc-b',
    '--client-id', 'cid-b', '--client-secret-stdin', '--oauth-url', simUrl + '/oauth/token', '--api-url', simUrl + '/scim2',
    '--rate-limit', '50'], { input: fs.readFileSync(path.join(work, 'client-secret')) });

  const examples = path.join(path.dirname(new URL(import.meta.url).pathname), '../../config/examples');
  const drop = (name, text) => {
    fs.writeFileSync(path.join(work, 'inbox', '.' + name + '.part'), text);
    fs.renameSync(path.join(work, 'inbox', '.' + name + '.part'), path.join(work, 'inbox', name));
  };
  let expected = 0;
  for (const f of fs.readdirSync(examples).sort()) {
    const text = fs.readFileSync(path.join(examples, f), 'utf8');
    expected += f.endsWith('.json') ? JSON.parse(text).length : f.endsWith('.csv') ? text.trim().split('\n').length - 1
      : text.trim().split('\n').length;
    drop(f, text);
  }
  const daemon = spawn(h2rd, ['-c', path.join(work, 'h2rd.yaml'), 'run'], { stdio: ['ignore', 'ignore', fs.openSync(path.join(work, 'daemon.log'), 'w')] });
  children.push(daemon);
  const final = (e) => ['done', 'skipped', 'failed', 'rejected'].includes(e.state);
  await until(expected + ' events final', () => { const ev = hjson('events', 'list'); return ev.length === expected && ev.every(final); });
  const events = hjson('events', 'list');
  if (events.some((e) => e.state !== 'done' && e.state !== 'skipped')) fail('a sample event did not finish: ' + JSON.stringify(events.map((e) => e.state)));

  // Two terminations in one cycle: the guard (1 per cycle) holds both.
  const employees = [...new Set(events.filter((e) => e.type === 'hire' && e.state === 'done').map((e) => e.employee_id))].slice(0, 2);
  drop('04-leavers.ndjson', employees.map((id, i) => JSON.stringify({ event_id: 'term-' + i, type: 'terminate', employee: { employee_id: id } })).join('\n') + '\n');
  await until('2 held events', () => hjson('events', 'list', '--state', 'held').length === 2);

  const { url } = await until('the console URL', () => { const c = hjson('console'); return c.daemon_running && !c.url.includes(':0/') && c; });
  const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    const ready = (name) => page.waitForFunction((n) => document.body.dataset.ready === n, { timeout: 60000 }, name);
    const shot = (name) => page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });

    // Overview: log in with the token URL; the counts are those of `h2rd status --json`.
    await page.goto(url);
    await ready('overview');
    await page.waitForSelector('[data-count="held"] .n');
    if (new URL(page.url()).hash.includes('token')) fail('the token stayed in the address bar');
    const queue = hjson('status').queue;
    for (const [state, n] of Object.entries(queue)) {
      const shown = await page.$eval(`[data-count="${state}"] .n`, (el) => el.textContent);
      if (Number(shown) !== n) fail(`Overview shows ${state}=${shown}, h2rd status --json says ${n}`);
    }
    await shot('overview');

    // Events, and one update's detail with its attribute diff.
    await page.goto(new URL('#/events', url).href);
    await ready('events');
    await page.waitForSelector('#event-list tr[data-id]');
    await shot('events');
    const hasDiff = (e) => ((hjson('events', 'show', String(e.id)).result || {}).actions || [])
      .some((a) => (a.calls || []).some((c) => (c.changes || []).length > 0));
    const update = events.find((e) => e.type === 'update' && hasDiff(e)) || fail('no sample update changed an attribute');
    await page.goto(new URL('#/events/' + update.id, url).href);
    await page.waitForSelector('#event-detail tr.diff-row', { timeout: 60000 });
    const diff = await page.$$eval('tr.diff-row', (rows) => rows.map((r) => r.textContent));
    if (diff.length === 0) fail('no attribute diff shown for event ' + update.id);
    await shot('event-detail');

    // Review: the held batch, approved all at once with the count shown.
    await page.goto(new URL('#/review', url).href);
    await ready('review');
    await page.waitForSelector('#approve-all');
    const label = await page.$eval('#approve-all', (b) => b.textContent);
    if (label !== 'Approve all 2') fail('the Review button says ' + label);
    // The planned SCIM diff of a held termination: its deactivation, asked of the engine when clicked.
    await page.click('tr[data-id] .plan-button');
    await page.waitForSelector('tr.plan-row tr.diff-row', { timeout: 60000 });
    const planned = await page.$$eval('tr.plan-row tr.diff-row', (rows) => rows.map((r) => r.textContent));
    if (!planned.some((t) => t.startsWith('active'))) fail('the planned diff of a termination shows no active change: ' + planned.join(' | '));
    await shot('review');
    await page.click('#approve-all');
    await page.waitForFunction(() => document.querySelector('#message')?.textContent.includes('approve: 2'), { timeout: 60000 });
    await until('the terminations done', () => hjson('events', 'list', '--type', 'terminate').filter((e) => e.state === 'done').length === 2);
    const show = hjson('events', 'show', 'term-0');
    if (!show.history.some((x) => x.actor === 'console:admin')) fail('the approval is not in the history as console:admin');
    const users = await (await fetch(simUrl + '/_sim/users')).json();
    const inactive = users.filter((u) => u.active === false).length;
    if (inactive < 2) fail('zoom-sim has ' + inactive + ' inactive users, expected the 2 terminated');

    for (const [name, hash] of [['files', '#/files'], ['employee', '#/employee/' + employees[0]], ['connections', '#/connections']]) {
      await page.goto(new URL(hash, url).href);
      await ready(name);
      if (name === 'connections') {   // the Test button: a token and one list call against zoom-sim
        await page.click('.test-button[data-name="zoom-main"]');
        await page.waitForFunction(() => document.querySelector('[data-test="zoom-main"]')?.textContent.startsWith('OK'), { timeout: 60000 });
      }
      await shot(name);
    }
    console.log('console browser test: OK, screenshots in ' + shots);
  } finally {
    await browser.close();
  }
}

let code = 0;
try {
  await main();
} catch (e) {
  console.error('console browser test FAILED: ' + e.message);
  try { console.error(fs.readFileSync(path.join(work, 'daemon.log'), 'utf8').split('\n').slice(-20).join('\n')); } catch (x) { /* none */ }
  code = 1;
}
for (const c of children.reverse()) { c.kill('SIGTERM'); await new Promise((r) => (c.exitCode !== null ? r() : c.on('exit', r))); }
fs.rmSync(work, { recursive: true, force: true });
process.exit(code);
