// h2r console: plain JavaScript, no framework. Every figure comes from /api/v1 (docs/console-api.md).
// Text is always set with textContent (never innerHTML), so nothing from HR files or Zoom can inject markup.
'use strict';

const CSRF_KEY = 'h2r.csrf';
const state = { csrf: null, role: null, name: null, tz: 'UTC', timer: null, page: null };
const $ = (id) => document.getElementById(id);

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'onclick' || k === 'onchange' || k === 'onsubmit') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// A time in the configured zone, UTC on hover.
function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '-');
  const d = new Date(iso);
  let text = iso;
  try {
    text = new Intl.DateTimeFormat('sv-SE', { timeZone: state.tz, year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(d) + (state.tz === 'UTC' ? 'Z' : '');
  } catch (e) { /* an unknown zone: keep UTC */ }
  return h('time', { datetime: iso, title: iso + ' (UTC)' }, text);
}

function stateTag(s) { return h('span', { class: 'state state-' + s, 'data-state': s }, s); }

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
  const res = await fetch('/api/v1' + path, { method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await res.json(); } catch (e) { data = { error: 'not JSON (' + res.status + ')' }; }
  if (res.status === 401) { showLogin(data.error); throw new Error(data.error); }
  return { status: res.status, ok: res.ok, data };
}

function showLogin(why) {
  stopTimer();
  $('main').replaceChildren(h('h1', {}, 'Log in'),
    h('p', {}, why || 'Open the URL that `h2rd console` prints on the server.'),
    h('p', { class: 'muted' }, 'It carries a token in its fragment (#token=…), which this page exchanges for a session.'));
}

async function login() {
  const m = location.hash.match(/^#token=([0-9a-f]{64})$/);
  if (m) {
    history.replaceState(null, '', location.pathname + '#/overview');
    const r = await api('POST', '/session', { token: m[1] }).catch(() => null);
    if (!r || !r.ok) { showLogin(r ? r.data.error : 'the login failed'); return false; }
    // The CSRF token stays with this page's origin (its port included): the server never hands it out
    // again, so a cookie that reached another service on this host is not enough to change anything.
    localStorage.setItem(CSRF_KEY, r.data.csrf);
  }
  const s = await api('GET', '/session').catch(() => null);
  if (!s || !s.ok) return false;
  Object.assign(state, { csrf: localStorage.getItem(CSRF_KEY), role: s.data.role, name: s.data.name, tz: s.data.timezone || 'UTC' });
  $('who').textContent = s.data.name + ' (' + s.data.role + ')';
  $('tz').textContent = state.tz;
  $('logout').hidden = false;
  return true;
}

function stopTimer() { if (state.timer) clearInterval(state.timer); state.timer = null; }
function every(ms, fn) { stopTimer(); state.timer = setInterval(() => fn().catch(() => {}), ms); }
function stamp() { $('updated').textContent = new Date().toLocaleTimeString(); }
function message(text, bad) { const m = $('message'); if (m) { m.textContent = text; m.className = bad ? 'error' : 'muted'; } }

function table(headers, rows) {
  return h('table', {}, h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))), h('tbody', {}, rows));
}

// ---- Overview -----------------------------------------------------------------------------------
async function overview() {
  const body = h('div', { id: 'overview' });
  $('main').replaceChildren(h('h1', {}, 'Overview'), body);
  const draw = async () => {
    const r = await api('GET', '/status');
    if (!r.ok) { body.replaceChildren(h('p', { class: 'error' }, r.data.error)); return; }
    const s = r.data;
    const cards = Object.entries(s.queue).map(([k, n]) =>
      h('a', { href: '#/events?state=' + k, class: 'card', 'data-count': k }, h('div', { class: 'n' }, n), h('div', { class: 'label' }, k)));
    const att = s.attention.length
      ? h('ul', { class: 'attention', id: 'attention' }, s.attention.map((a) => h('li', { 'data-kind': a.kind }, a.message)))
      : h('p', { class: 'muted' }, 'Nothing needs a person.');
    const conns = table(['connection', 'health', 'last success', 'last error', 'paused until'], s.connections.map((c) =>
      h('tr', {}, h('td', {}, c.name), h('td', {}, c.healthy === null ? 'not used yet' : c.healthy ? 'healthy' : 'UNHEALTHY'),
        h('td', {}, time(c.last_success)), h('td', {}, c.last_error || '-'), h('td', {}, time(c.paused_until)))));
    body.replaceChildren(h('div', { class: 'cards' }, cards),
      h('h2', {}, 'Attention (' + s.attention.length + ')'), att,
      h('h2', {}, 'Daemon'), h('dl', { class: 'kv' },
        h('dt', {}, 'state'), h('dd', {}, s.daemon.state), h('dt', {}, 'pid'), h('dd', {}, s.daemon.pid ?? '-'),
        h('dt', {}, 'started'), h('dd', {}, time(s.daemon.started)), h('dt', {}, 'last cycle'), h('dd', {}, time(s.last_cycle)),
        h('dt', {}, 'rules version'), h('dd', {}, s.rules.version ? s.rules.version.slice(0, 12) : '-'),
        h('dt', {}, 'rules reload error'), h('dd', { class: s.rules.error ? 'error' : '' }, s.rules.error || 'none')),
      h('h2', {}, 'Connections'), conns);
    stamp();
  };
  await draw();
  every(3000, draw);
}

// ---- Events -------------------------------------------------------------------------------------
function params() { const q = location.hash.split('?')[1] || ''; return new URLSearchParams(q); }

async function events() {
  const p = params();
  const field = (name, label, input) => h('label', {}, label, input);
  const sel = (name, options) => {
    const s = h('select', { name }, h('option', { value: '' }, 'any'), options.map((o) => h('option', { value: o }, o)));
    s.value = p.get(name) || '';
    return s;
  };
  const inp = (name, placeholder) => { const i = h('input', { name, placeholder }); i.value = p.get(name) || ''; return i; };
  const form = h('form', { class: 'filters', id: 'filters' },
    field('state', 'state', sel('state', ['pending', 'waiting', 'held', 'done', 'skipped', 'superseded', 'failed', 'rejected'])),
    field('type', 'type', sel('type', ['hire', 'update', 'leave', 'return', 'terminate', 'rehire'])),
    field('employee', 'employee', inp('employee', 'E123')), field('file', 'file', inp('file', 'name.json')),
    field('since', 'effective since', inp('since', 'YYYY-MM-DD')), field('until', 'until', inp('until', 'YYYY-MM-DD')),
    h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const el of form.elements) if (el.name && el.value) q.set(el.name, el.value);
    location.hash = '#/events?' + q.toString();
  });
  const list = h('div', { id: 'event-list' });
  const more = h('div', { class: 'toolbar' });
  $('main').replaceChildren(h('h1', {}, 'Events'), form, h('div', { id: 'message' }), list, more);
  let offset = Number(p.get('offset') || 0);
  const draw = async () => {
    const q = new URLSearchParams(p); q.set('limit', '50'); q.set('offset', String(offset));
    const r = await api('GET', '/events?' + q.toString());
    if (!r.ok) { message(r.data.error, true); return; }
    list.replaceChildren(table(['id', 'event', 'type', 'employee', 'state', 'effective', 'attempts', 'reason'],
      r.data.events.map((e) => {
        const tr = h('tr', { class: 'clickable', 'data-id': e.id }, h('td', {}, e.id), h('td', {}, e.event_id), h('td', {}, e.type),
          h('td', {}, h('a', { href: '#/employee/' + encodeURIComponent(e.employee_id) }, e.employee_id)), h('td', {}, stateTag(e.state)),
          h('td', {}, time(e.effective)), h('td', {}, e.attempts), h('td', {}, e.waits || e.reason));
        tr.addEventListener('click', (ev) => { if (ev.target.tagName !== 'A') location.hash = '#/events/' + e.id; });
        return tr;
      })));
    more.replaceChildren(
      offset > 0 ? h('button', { onclick: () => { offset = Math.max(0, offset - 50); draw(); } }, '← newer') : '',
      h('span', { class: 'muted' }, 'events ' + (offset + 1) + '–' + (offset + r.data.events.length)),
      r.data.more ? h('button', { onclick: () => { offset += 50; draw(); } }, 'older →') : '');
    stamp();
  };
  await draw();
  every(5000, draw);
}

function changesOf(result) {
  const rows = [];
  for (const a of (result && result.actions) || [])
    for (const c of a.calls || [])
      for (const ch of c.changes || []) rows.push([a.connection, ch.path, ch.before, ch.after]);
  return rows;
}
const show = (v) => (v === null || v === undefined ? '-' : typeof v === 'string' ? v : JSON.stringify(v));

async function eventDetail(id) {
  const body = h('div', { id: 'event-detail' });
  $('main').replaceChildren(h('p', {}, h('a', { href: '#/events' }, '← events')), h('div', { id: 'message' }), body);
  const draw = async () => {
    const r = await api('GET', '/events/' + id);
    if (!r.ok) { message(r.data.error, true); return; }
    const e = r.data;
    const res = e.result || {};
    const actions = (res.actions || []).map((a) => h('li', {}, a.connection + ': ' + a.action + ' ' + (a.userName || '') +
      (a.user_id ? ' (Zoom user ' + a.user_id + ')' : '') + ' — ' +
      ((a.calls || []).map((c) => c.method + ' ' + (c.summary || '')).join(', ') || 'no call needed')));
    const diff = changesOf(res);
    body.replaceChildren(
      h('h1', {}, 'Event ' + e.id + ' — ' + e.type + ' of ' + e.employee_id + ' ', stateTag(e.state)),
      h('dl', { class: 'kv' },
        h('dt', {}, 'HR event_id'), h('dd', {}, e.event_id),
        h('dt', {}, 'effective'), h('dd', {}, time(e.effective), ' (as written: ' + (e.effective_raw || 'none') + ')'),
        h('dt', {}, 'reason'), h('dd', {}, e.waits || e.reason || '-'),
        h('dt', {}, 'attempts'), h('dd', {}, e.attempts),
        h('dt', {}, 'rules version'), h('dd', {}, e.rules_version || '-'),
        h('dt', {}, 'decision'), h('dd', {}, (res.targets || []).map((t) => (t.role ? 'role ' + t.role : 'no role') + ' in ' + t.connection).join(', ') || res.why || '-'),
        h('dt', {}, 'source file'), h('dd', {}, e.source_file),
        h('dt', {}, 'received'), h('dd', {}, time(e.received))),
      h('h2', {}, 'Actions per connection'), actions.length ? h('ul', {}, actions) : h('p', { class: 'muted' }, 'none recorded'),
      h('h2', {}, 'Attribute changes'),
      diff.length ? table(['connection', 'attribute', 'old', 'new'], diff.map((d) => h('tr', { class: 'diff-row' }, h('td', {}, d[0]),
        h('td', {}, d[1]), h('td', { class: 'diff-old' }, show(d[2])), h('td', { class: 'diff-new' }, show(d[3])))))
        : h('p', { class: 'muted' }, 'no attribute changes recorded'),
      h('h2', {}, 'HR fields'), table(['field', 'value'], Object.entries(e.fields).map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', {}, show(v))))),
      h('h2', {}, 'History'), table(['when', 'change', 'by', 'reason'], e.history.map((x) =>
        h('tr', {}, h('td', {}, time(x.at)), h('td', {}, (x.from || 'arrived') + ' → ' + x.to), h('td', {}, x.actor), h('td', {}, x.reason)))),
      actionBar(e));
    stamp();
  };
  await draw();
  every(5000, draw);
}

function actionBar(e) {
  if (state.role !== 'reviewer') return h('p', { class: 'muted' }, 'A viewer token can look, not act.');
  const act = async (verb, extra) => {
    const r = await api('POST', '/events/' + verb, Object.assign({ ids: [e.id] }, extra || {}));
    message(r.ok ? verb + ': ' + r.data.changed + ' changed' : r.data.error, !r.ok);
    route();
  };
  const bar = h('div', { class: 'toolbar' });
  if (e.state === 'held') bar.append(h('button', { class: 'primary', onclick: () => act('approve') }, 'Approve'));
  if (e.state === 'failed') bar.append(h('button', { onclick: () => act('retry') }, 'Retry'));
  if (['held', 'pending', 'waiting'].includes(e.state))
    bar.append(h('button', { class: 'danger', onclick: () => act('reject', { reason: 'rejected in the console' }) }, 'Reject'));
  return bar;
}

// ---- Review -------------------------------------------------------------------------------------
async function review() {
  stopTimer();
  const r = await api('GET', '/events?state=held&limit=500');
  const main = $('main');
  if (!r.ok) { main.replaceChildren(h('p', { class: 'error' }, r.data.error)); return; }
  const held = r.data.events;
  const boxes = [];
  const details = await Promise.all(held.slice(0, 100).map((e) => api('GET', '/events/' + e.id).then((x) => x.data)));
  const rows = held.map((e, i) => {
    const box = h('input', { type: 'checkbox', value: e.id, 'aria-label': 'select event ' + e.id });
    boxes.push(box);
    const d = details[i];
    const fields = d ? Object.entries(d.fields).map(([k, v]) => k + ': ' + show(v)).join('; ') : '';
    const tr = h('tr', { 'data-id': e.id }, h('td', {}, box), h('td', {}, h('a', { href: '#/events/' + e.id }, e.id)), h('td', {}, e.type),
      h('td', {}, e.employee_id), h('td', {}, time(e.effective)), h('td', {}, e.reason), h('td', { class: 'muted' }, fields),
      h('td', {}, h('button', { class: 'plan-button', onclick: (ev) => togglePlan(tr, e.id, ev.target) }, 'Planned changes')));
    return tr;
  });
  const reviewer = state.role === 'reviewer';
  const act = async (verb, body) => {
    const res = await api('POST', '/events/' + verb, body);
    await review();
    message(res.ok ? verb + ': ' + res.data.changed + ' event(s) changed' : res.data.error, !res.ok);
  };
  const selected = () => boxes.filter((b) => b.checked).map((b) => Number(b.value));
  main.replaceChildren(h('h1', {}, 'Review — ' + held.length + ' held'), h('div', { id: 'message' }),
    reviewer ? h('div', { class: 'toolbar' },
      h('button', { id: 'approve-all', class: 'primary', disabled: held.length === 0,
        onclick: () => act('approve', { all: true, expect_count: held.length }) }, 'Approve all ' + held.length),
      h('button', { id: 'approve-selected', onclick: () => { const ids = selected(); if (ids.length) act('approve', { ids }); } }, 'Approve selected'),
      h('button', { id: 'reject-selected', class: 'danger', onclick: () => { const ids = selected(); if (ids.length) act('reject', { ids, reason: 'rejected in the console' }); } }, 'Reject selected'))
      : h('p', { class: 'muted' }, 'A viewer token can look, not approve.'),
    held.length ? table(['', 'id', 'type', 'employee', 'effective', 'why held', 'what HR sent', 'if approved now'], rows)
      : h('p', { class: 'muted' }, 'Nothing is held.'));
  stamp();
}

// The SCIM calls and attribute changes a held event would make now (GET /events/{id}/plan: the engine's
// dry run, only lookups reach Zoom), in a row under the event's; a second click hides it.
async function togglePlan(tr, id, button) {
  const next = tr.nextElementSibling;
  if (next && next.classList.contains('plan-row')) { next.remove(); return; }
  button.disabled = true;
  const r = await api('GET', '/events/' + id + '/plan');
  button.disabled = false;
  const cell = h('td', { colspan: tr.children.length });
  const row = h('tr', { class: 'plan-row', 'data-plan': id }, cell);
  if (!r.ok) cell.append(h('p', { class: 'error' }, r.data.error));
  else {
    const p = r.data;
    const items = [];
    for (const a of p.actions || []) {
      if (a.error) { items.push(h('p', { class: 'error' }, a.connection + ': cannot plan: ' + a.error)); continue; }
      if (!(a.calls || []).length) items.push(h('p', { class: 'muted' }, a.connection + ': no call — ' + a.userName + ' is ' + a.action));
      for (const c of a.calls || []) {
        items.push(h('p', { class: 'plan-call' }, a.connection + ': ' + c.method + ' ' + c.path + ' (' + c.summary + ' ' + a.userName + ')'));
        if ((c.changes || []).length)
          items.push(table(['attribute', 'old', 'new'], c.changes.map((ch) => h('tr', { class: 'diff-row' },
            h('td', { title: ch.path }, ch.short_path || ch.path), h('td', { class: 'diff-old' }, show(ch.before)),
            h('td', { class: 'diff-new' }, show(ch.after))))));
      }
    }
    if (!items.length) items.push(h('p', { class: 'muted' }, 'nothing to do: ' + (p.note || '')));
    if (p.blocked_by) items.unshift(h('p', { class: 'muted' }, 'runs after ' + p.blocked_by + ' of the same employee, also held'));
    cell.append(...items);
  }
  tr.after(row);
}

// ---- Files, Employee, Connections ---------------------------------------------------------------
async function files() {
  stopTimer();
  const r = await api('GET', '/files');
  if (!r.ok) { $('main').replaceChildren(h('p', { class: 'error' }, r.data.error)); return; }
  $('main').replaceChildren(h('h1', {}, 'Files'), table(['file', 'folder', 'modified', 'bytes', 'events by state', 'rejection report'],
    r.data.files.map((f) => h('tr', {}, h('td', {}, h('a', { href: '#/events?file=' + encodeURIComponent(f.name) }, f.name)),
      h('td', {}, f.accepted ? 'processed' : 'REJECTED'), h('td', {}, time(f.modified)), h('td', {}, f.bytes),
      h('td', {}, Object.entries(f.events).map(([k, n]) => k + '=' + n).join(' ') || '-'),
      h('td', {}, f.report ? h('pre', {}, f.report) : '-')))));
  stamp();
}

async function employee(id) {
  stopTimer();
  const form = h('form', { class: 'filters' }, h('label', {}, 'employee id', h('input', { name: 'id', value: id || '' })), h('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); location.hash = '#/employee/' + encodeURIComponent(form.elements.id.value); });
  $('main').replaceChildren(h('h1', {}, 'Employee'), form, h('div', { id: 'message' }));
  if (!id) return;
  const r = await api('GET', '/employees/' + encodeURIComponent(id));
  if (!r.ok) { message(r.data.error, true); return; }
  const e = r.data.employee;
  $('main').append(
    h('h2', {}, 'Last known record' + (e ? ' (' + e.status + ')' : '')),
    e ? table(['field', 'value'], Object.entries(e.record).map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', {}, v)))) : h('p', { class: 'muted' }, 'none yet'),
    h('h2', {}, 'Zoom users'), table(['connection', 'userName', 'Zoom user id', 'active', 'updated'], r.data.links.map((l) =>
      h('tr', {}, h('td', {}, l.connection), h('td', {}, l.user_name), h('td', {}, l.zoom_user_id), h('td', {}, l.active ? 'yes' : 'no'), h('td', {}, time(l.updated))))),
    h('h2', {}, 'Timeline'), table(['id', 'type', 'state', 'effective', 'reason'], r.data.events.map((x) =>
      h('tr', {}, h('td', {}, h('a', { href: '#/events/' + x.id }, x.id)), h('td', {}, x.type), h('td', {}, stateTag(x.state)), h('td', {}, time(x.effective)), h('td', {}, x.reason)))));
  stamp();
}

async function connections() {
  const tests = {};   // name → the last test's answer, kept across redraws
  const reviewer = state.role === 'reviewer';
  const testCell = (c) => {
    const t = tests[c.name];
    const answer = !t ? '' : t.running ? h('span', { class: 'muted' }, 'testing…')
      : h('span', { class: t.ok ? 'test-ok' : 'error', 'data-test': c.name },
        t.ok ? 'OK — token fetched, ' + t.user_count + ' users' : (t.error ? (t.error.code ? t.error.code + ': ' : '') + t.error.message : t.message));
    if (!reviewer) return h('td', {}, answer || h('span', { class: 'muted' }, 'reviewers can test'));
    return h('td', {}, h('button', { class: 'test-button', 'data-name': c.name, disabled: t && t.running, onclick: async () => {
      tests[c.name] = { running: true };
      await draw();
      const r = await api('POST', '/connections/' + encodeURIComponent(c.name) + '/test', {});
      tests[c.name] = r.status === 200 ? r.data : { ok: false, message: r.data.error };
      await draw();
    } }, 'Test'), ' ', answer);
  };
  const draw = async () => {
    const r = await api('GET', '/connections');
    if (!r.ok) { $('main').replaceChildren(h('p', { class: 'error' }, r.data.error)); return; }
    $('main').replaceChildren(h('h1', {}, 'Connections'), table(['name', 'account', 'API', 'rate limit', 'health', 'last success', 'last error', 'paused until', 'test'],
      r.data.connections.map((c) => h('tr', { 'data-name': c.name }, h('td', {}, c.name), h('td', {}, c.account_id), h('td', {}, c.api_url), h('td', {}, c.rate_limit + '/s'),
        h('td', {}, c.healthy === null ? 'not used yet' : c.healthy ? 'healthy' : 'UNHEALTHY'), h('td', {}, time(c.last_success)),
        h('td', {}, c.last_error ? [c.last_error, ' ', time(c.last_error_at)] : '-'), h('td', {}, c.paused_until ? [time(c.paused_until), ' ', c.pause_reason || ''] : '-'),
        testCell(c)))),
      h('p', { class: 'muted' }, 'Test: fetch a token and list one user, as h2rd connection test NAME does.'));
    stamp();
  };
  await draw();
  every(5000, draw);
}

// ---- routing ------------------------------------------------------------------------------------
async function route() {
  const path = location.hash.replace(/^#\/?/, '').split('?')[0];
  const [page, arg] = [path.split('/')[0] || 'overview', decodeURIComponent(path.split('/').slice(1).join('/'))];
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page);
  stopTimer();
  document.body.dataset.page = page;
  try {
    if (page === 'events' && arg) await eventDetail(arg);
    else if (page === 'events') await events();
    else if (page === 'review') await review();
    else if (page === 'files') await files();
    else if (page === 'employee') await employee(arg);
    else if (page === 'connections') await connections();
    else await overview();
  } catch (e) { /* shown already (login) */ }
  document.body.dataset.ready = page;
}

window.addEventListener('hashchange', () => { if (!location.hash.startsWith('#token=')) route(); });
window.addEventListener('DOMContentLoaded', async () => {
  $('logout').addEventListener('click', async () => { await api('DELETE', '/session').catch(() => {}); state.csrf = null; localStorage.removeItem(CSRF_KEY); showLogin('Logged out.'); });
  if (await login()) route();
  else if (!location.hash.startsWith('#token=')) showLogin();
});
