// Browser test of the h2r console (issue 15): zoom-sim + a real `h2rd run`, Debian's chromium driven by
// puppeteer-core. Logs in with the token URL, checks the Overview counts against `h2rd status --json`,
// opens an event and sees its attribute diff, opens an event with the keyboard alone; then the review
// tasks of issue 27, each in at most 4 actions: approves only a guard batch (zoom-sim shows the users
// deactivated), retries every failure of one reason, rejects a 40-row bad export with a typed reason. Screenshots of each page go to the folder given as argv[4].
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
  - name: analyst
    when: { field: job_title, equals: Analyst }
    zoom: { user_type: Licensed }
  - name: staff
    when: { field: employment_type, in: [full_time, part_time] }
    zoom: { user_type: Basic }
on_no_role: deprovision
lifecycle:
  guard: { max_deactivations_per_cycle: 1 }
  supervised: [leave]
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

  // A day's mess, all at once (issue 27):
  //  - two terminations in one file: the guard (1 per cycle) holds both;
  //  - two long-term leaves: supervised (lifecycle.supervised), held beside them, not part of that batch;
  //  - a bad export of 40 hires effective in 60 days: waiting;
  //  - five hires that fail, for two reasons: a job title above Zoom's 128 characters (3), a last name
  //    above 64 (2); and one ordinary hire (E7000), for provisioning on demand later.
  const employees = [...new Set(events.filter((e) => e.type === 'hire' && e.state === 'done').map((e) => e.employee_id))];
  if (employees.length < 4) fail('the samples hire fewer than 4 employees');
  const line = (o) => JSON.stringify(o);
  drop('04-leavers.ndjson', employees.slice(0, 2).map((id, i) => line({ event_id: 'term-' + i, type: 'terminate', employee: { employee_id: id } })).join('\n') + '\n');
  drop('05-leaves.ndjson', employees.slice(2, 4).map((id, i) => line({ event_id: 'leave-' + i, type: 'leave', leave_type: 'long_term', employee: { employee_id: id } })).join('\n') + '\n');
  const later = new Date(Date.now() + 60 * 86400e3).toISOString().slice(0, 10);
  const person = (id, extra) => Object.assign({ employee_id: id, first_name: 'Pat', last_name: 'Okafor' + id, email: id.toLowerCase() + '@example.com',
    employment_type: 'full_time', job_title: 'Analyst' }, extra);
  drop('06-bad-export.ndjson', Array.from({ length: 40 }, (_, i) => line({ event_id: 'bad-' + i, type: 'hire', effective_date: later,
    employee: person('E9' + String(i).padStart(3, '0')) })).join('\n') + '\n');
  drop('07-odd-hires.ndjson', [0, 1, 2].map((i) => line({ event_id: 'long-title-' + i, type: 'hire', employee: person('E81' + i, { job_title: 'T'.repeat(200) }) }))
    .concat([0, 1].map((i) => line({ event_id: 'long-name-' + i, type: 'hire', employee: person('E82' + i, { last_name: 'N'.repeat(100) }) })))
    .concat([line({ event_id: 'spare-hire', type: 'hire', employee: person('E7000', { last_name: 'Spare' }) })]).join('\n') + '\n');
  await until('4 held, 5 failed, 40 waiting', () => {
    const by = {};
    for (const e of hjson('events', 'list', '--limit', '1000')) by[e.state] = (by[e.state] || 0) + 1;
    return by.held === 4 && by.failed === 5 && by.waiting === 40;
  });

  const { url } = await until('the console URL', () => { const c = hjson('console'); return c.daemon_running && !c.url.includes(':0/') && c; });
  const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    const pageErrors = [];
    page.on('pageerror', (e) => { pageErrors.push(e.message); console.error('page error: ' + e.message); });
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
    // The chart of the day: the samples' endings in this hour, drawn as SVG with a text name.
    await page.waitForSelector('#chart-events', { timeout: 60000 });
    const chartName = await page.$eval('#chart-events', (svg) => svg.getAttribute('aria-label'));
    const doneNow = hjson('events', 'list', '--state', 'done').length;
    if (!chartName.includes(doneNow + ' done')) fail('the chart says "' + chartName + '", the store has ' + doneNow + ' done');
    if (!(await page.$('#chart-events rect.bar-done'))) fail('the chart draws no done bar');
    await page.waitForSelector('#chart-calls rect.bar-answered');
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

    // Keyboard only: Tab from the top of the Events page to the first event's link, Enter opens it.
    await page.goto(new URL('#/events', url).href);
    await ready('events');
    await page.waitForSelector('#event-list a.event-link');
    let tabs = 0;
    while (!(await page.evaluate(() => document.activeElement?.classList.contains('event-link')))) {
      if (++tabs > 60) fail('60 Tab presses did not reach an event link');
      await page.keyboard.press('Tab');
    }
    const focused = await page.evaluate(() => document.activeElement.textContent);
    await page.keyboard.press('Enter');
    await page.waitForFunction((id) => document.querySelector('#event-detail h1')?.textContent.startsWith('Event ' + id + ' '),
      { timeout: 60000 }, focused);

    // Actions are counted as a person would count them: clicks and typing a reason.
    const clickIn = async (selector) => { await page.waitForSelector(selector + ':not([disabled])', { timeout: 60000 }); await page.click(selector); };
    const said = (text) => page.waitForFunction((t) => document.querySelector('#message')?.textContent.includes(t), { timeout: 60000 }, text);

    // Review: the guard's batch (the two terminations) approved alone, in 3 actions: select all,
    // Approve 2, confirm; the supervised leaves beside it stay held.
    await page.goto(new URL('#/review', url).href);
    await ready('review');
    const guard = 'section[data-group^="held:guard:"]';
    await page.waitForSelector(guard);
    const groups = await page.$$eval('section[data-group^="held:"]', (ss) => ss.map((x) => x.dataset.group + '=' + x.querySelectorAll('tbody tr').length));
    if (groups.length !== 2 || !groups.some((g) => g.startsWith('held:supervised=2'))) fail('Review groups: ' + groups.join(', '));
    const rowText = await page.$eval(guard + ' tbody tr', (tr) => tr.textContent);
    if (!rowText.includes('deactivates') || !rowText.includes('04-leavers.ndjson')) fail('a guard row lacks its badge or file: ' + rowText);
    // The planned SCIM diff of a held termination: its deactivation, asked of the engine when clicked.
    await page.click(guard + ' .plan-button');
    await page.waitForSelector('tr.plan-row tr.diff-row', { timeout: 60000 });
    const planned = await page.$$eval('tr.plan-row tr.diff-row', (rows) => rows.map((r) => r.textContent));
    if (!planned.some((t) => t.startsWith('active'))) fail('the planned diff of a termination shows no active change: ' + planned.join(' | '));
    await shot('review');
    await page.click(guard + ' input.select-all');
    await clickIn(guard + ' button[data-verb="approve"]');
    const question = await page.$eval('#confirm', (d) => d.textContent);
    if (!question.includes('Approve 2 events?') || !question.includes('deactivates')) fail('the confirmation says: ' + question);
    await page.click('#confirm-ok');
    await said('Approve: 2 events changed');
    await until('the terminations done', () => hjson('events', 'list', '--type', 'terminate').filter((e) => e.state === 'done').length === 2);
    const show = hjson('events', 'show', 'term-0');
    if (!show.history.some((x) => x.actor === 'console:admin')) fail('the approval is not in the history as console:admin');
    if (hjson('events', 'list', '--type', 'leave', '--state', 'held').length !== 2) fail('approving the guard batch approved the supervised leaves');
    const users = await (await fetch(simUrl + '/_sim/users')).json();
    const inactive = users.filter((u) => u.active === false).length;
    if (inactive < 2) fail('zoom-sim has ' + inactive + ' inactive users, expected the 2 terminated');

    // Review: retry every failure of one reason (the long titles), in 3 actions; the other reason's
    // failures are not touched.
    await page.goto(new URL('#/review', url).href);
    await ready('review');
    await page.waitForSelector('section[data-group^="failed:"]');
    const titleGroup = await page.$$eval('section[data-group^="failed:"]', (ss) => {
      const g = ss.find((x) => x.querySelector('.reason')?.textContent.includes('attribute title'));
      return g ? g.dataset.group : null;
    }) || fail('no failed group for the long titles');
    const sel = `section[data-group="${titleGroup.replace(/"/g, '\\"')}"]`;
    await page.click(sel + ' input.select-all');
    await clickIn(sel + ' button[data-verb="retry"]');
    await page.click('#confirm-ok');
    await said('Retry: 3 events changed');
    const retriedBy = (id) => hjson('events', 'show', id).history.some((x) => x.from === 'failed' && x.actor === 'console:admin');
    for (const id of ['long-title-0', 'long-title-1', 'long-title-2']) if (!retriedBy(id)) fail(id + ' was not retried by console:admin');
    for (const id of ['long-name-0', 'long-name-1']) if (retriedBy(id)) fail(id + ' was retried with the other reason');

    // Files: the bad export's 40 waiting hires rejected with a typed reason, in 3 actions: the file's
    // "Reject 40 open", the reason, confirm.
    await page.goto(new URL('#/files', url).href);
    await ready('files');
    const bad = 'tr[data-file="06-bad-export.ndjson"] button.reject-open';
    await page.waitForSelector(bad);
    if ((await page.$eval(bad, (b) => b.textContent)) !== 'Reject 40 open') fail('the Files button does not count 40');
    await page.click(bad);
    await page.waitForSelector('#confirm-reason');
    if (!(await page.$eval('#confirm-ok', (b) => b.disabled))) fail('Reject is enabled before a reason is typed');
    await page.type('#confirm-reason', 'wrong export from the HR system');
    await page.click('#confirm-ok');
    await said('Reject: 40 events of 06-bad-export.ndjson changed');
    const rejected = hjson('events', 'list', '--file', '06-bad-export.ndjson', '--limit', '1000');
    if (rejected.length !== 40 || rejected.some((e) => e.state !== 'rejected')) fail('the bad export is not all rejected');
    if (!hjson('events', 'show', 'bad-7').history.some((x) => x.to === 'rejected' && x.reason === 'wrong export from the HR system'))
      fail('the typed reason is not in the history');

    // Employees: find one by last name, typed without its diacritics (2 actions: type, Enter), open
    // them, and see the update's change inline in their timeline, named as rules.yaml names it.
    await page.goto(new URL('#/employees', url).href);
    await ready('employees');
    await page.type('#employee-search', 'alund');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#employee-count')?.textContent.startsWith('1 employee match'), { timeout: 60000 });
    await page.click('tr[data-employee="E1001"] a');
    await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Zoë Ålund (E1001)', { timeout: 60000 });
    if ((await page.title()) !== 'Employee E1001 — h2r console') fail('the Employee page is titled ' + (await page.title()));
    // Her Zoom user as Zoom has it now, read live.
    await page.waitForSelector('#zoom-now tr[data-connection="zoom-main"]', { timeout: 60000 });
    const live = await page.$eval('#zoom-now tr[data-connection="zoom-main"]', (tr) => tr.textContent);
    if (!live.includes('Staff Engineer')) fail('the live Zoom state shows ' + live);
    const timeline = await page.$$eval('ul.changes li', (ls) => ls.map((l) => l.textContent));
    if (!timeline.some((t) => t.startsWith('title: ') && t.endsWith('→ Staff Engineer'))) fail('no inline title change: ' + timeline.join(' | '));
    await shot('employee');

    // Provision on demand: someone changed a title in Zoom by hand; the Employee page's Preview shows
    // the role that matches and the PUT that restores it, and "Provision now" (confirmed) does it.
    // E7000 was hired with the odd hires, and left alone since. An analyst: Licensed, so pushing them
    // whole on demand takes nothing away and the guard (spent by the leavers above) does not hold it.
    const spare = 'E7000';
    await until('the spare hire done', () => hjson('events', 'show', 'spare-hire').state === 'done');
    const linked = hjson('events', 'show', hjson('events', 'list', '--employee', spare)[0].event_id).zoom_users[0];
    const patched = await fetch(simUrl + '/_sim/users/' + linked.zoom_user_id, { method: 'PATCH',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ title: 'Changed in Zoom' }) });
    if (!patched.ok) fail('zoom-sim refused the out-of-band change: ' + patched.status);
    await page.goto(new URL('#/employee/' + spare, url).href);
    await ready('employee');
    await page.waitForFunction((id) => document.querySelector('main h1')?.textContent.endsWith('(' + id + ')'), { timeout: 60000 }, spare);
    await page.click('#preview-button');
    await page.waitForSelector('#provision-result li.role-match', { timeout: 60000 });
    const previewText = await page.$eval('#provision-result', (d) => d.textContent);
    if (!previewText.includes('role analyst matches') || !previewText.includes('PUT')) fail('the preview says: ' + previewText);
    await shot('provision');
    await page.click('#provision-now');
    await page.click('#confirm-ok');
    await said('Provision: queued as event ');
    const titleNow = async () => ((await (await fetch(simUrl + '/_sim/users')).json()).find((x) => x.id === linked.zoom_user_id) || {}).title;
    await until('the title restored in Zoom', async () => (await titleNow()) !== 'Changed in Zoom');
    const queuedBy = hjson('events', 'list', '--employee', spare).find((e) => e.event_id.startsWith('on-demand-'));
    if (!queuedBy || queuedBy.state !== 'done') fail('the on-demand event is not done: ' + JSON.stringify(queuedBy));

    // Drift: the same title changed by hand again; the Drift page finds it and "Fix" queues an
    // on-demand event that puts it right (3 actions: Look for drift, Fix, confirm).
    await fetch(simUrl + '/_sim/users/' + linked.zoom_user_id, { method: 'PATCH',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ title: 'Changed again' }) });
    await page.goto(new URL('#/drift', url).href);
    await ready('drift');
    await page.click('#drift-check');
    const driftRow = `tr[data-drift="attributes"][data-employee="${spare}"]`;
    await page.waitForSelector(driftRow, { timeout: 60000 });
    await shot('drift');
    await page.click(driftRow + ' button.fix-one');
    await page.click('#confirm-ok');
    await said('Fix: queued 1 on-demand event');
    await until('the title restored again', async () => (await titleNow()) !== 'Changed again');

    for (const [name, hash] of [['files', '#/files'], ['connections', '#/connections']]) {
      await page.goto(new URL(hash, url).href);
      await ready(name);
      if (name === 'connections') {   // the Test button: a token and one list call against zoom-sim
        await page.click('.test-button[data-name="zoom-main"]');
        await page.waitForFunction(() => document.querySelector('[data-test="zoom-main"]')?.textContent.startsWith('OK'), { timeout: 60000 });
      }
      await shot(name);
    }
    // Every page at desktop and phone size: axe-core finds no serious or critical violation, and on
    // the phone no page scrolls sideways (wide tables scroll in their own box).
    const axeSource = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules/axe-core/axe.min.js'), 'utf8');
    const pages = [['overview', '#/overview'], ['events', '#/events'], ['events', '#/events/' + update.id], ['review', '#/review'],
      ['files', '#/files'], ['employees', '#/employees'], ['employee', '#/employee/E1001'], ['drift', '#/drift'], ['connections', '#/connections']];
    for (const [width, height] of [[1280, 800], [390, 844]]) {
      await page.setViewport({ width, height });
      for (const [name, hash] of pages) {
        await page.goto(new URL('#/files', url).href);   // a hash change away and back: a fresh draw
        await ready('files');
        await page.goto(new URL(hash, url).href);
        await ready(name);
        await page.waitForSelector('main h1');
        // Two frames: the page marks its overflowing table boxes focusable after layout (markScrollers).
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        if (!(await page.evaluate(() => typeof axe !== 'undefined'))) await page.evaluate(axeSource);
        const found = await page.evaluate(async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')));
        if (found.length) fail(`axe at ${width}px on ${hash}: ` + found.join('; '));
        const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        if (width < 600 && wide > 0) fail(`${hash} scrolls sideways by ${wide}px at ${width}px`);
        if (width < 600 && name === 'review') await shot('review-phone');
      }
    }
    console.log('console browser test: OK, screenshots in ' + shots);
  } catch (e) {
    // What the page showed when it failed, beside the other screenshots.
    for (const p of await browser.pages()) await p.screenshot({ path: path.join(shots, 'failure.png'), fullPage: true }).catch(() => {});
    throw e;
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
