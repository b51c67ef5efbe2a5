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

// replaceChildren with h()'s rules: arrays flattened, null and undefined left out.
function fill(el, ...children) { el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined)); }

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

// An event's effective date: as a date when HR gave only a date (it means that day in the configured
// zone), else the instant.
function effective(e) {
  if (e.effective_raw && /^\d{4}-\d{2}-\d{2}$/.test(e.effective_raw)) return h('time', { datetime: e.effective_raw, title: e.effective + ' (UTC)' }, e.effective_raw);
  return time(e.effective);
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

// For the engine's questions (plan, preview, Zoom now, drift), which run one at a time: a 429 is
// asked again after its Retry-After, up to 5 times.
async function engineApi(method, path, body) {
  for (let i = 0; ; ++i) {
    const r = await api(method, path, body);
    if (r.status !== 429 || i >= 5) return r;
    await new Promise((done) => setTimeout(done, 1000));
  }
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
// A page redraws itself every `ms`; the element that had the focus (found again by its data-key) gets
// it back, so a keyboard user is not thrown to the top of the page.
function every(ms, fn) {
  stopTimer();
  state.timer = setInterval(async () => {
    const key = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : undefined;
    await fn().catch(() => {});
    if (key && document.activeElement === document.body) {
      const again = document.querySelector('[data-key="' + CSS.escape(key) + '"]');
      if (again) again.focus();
    }
  }, ms);
}
// A wall-clock time of day in the configured zone (never the browser's): one zone on every page.
function clockTime(d) {
  try { return new Intl.DateTimeFormat('sv-SE', { timeZone: state.tz, hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(d); }
  catch (e) { return d.toISOString().slice(11, 19) + 'Z'; }
}
function stamp() { $('updated').textContent = clockTime(new Date()); }
function message(text, bad) { const m = $('message'); if (m) { m.textContent = text; m.className = bad ? 'error' : 'muted'; } }
// Each page's #message is a live region (role=status): a screen reader says an action's result.
const messageBox = () => h('div', { id: 'message', role: 'status', 'aria-live': 'polite' });

// A table in a box of its own that scrolls sideways when it is wider than the screen (a phone), so the
// page itself never does.
function table(headers, rows) {
  return h('div', { class: 'scroll' },
    h('table', {}, h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))), h('tbody', {}, rows)));
}

// ---- Overview -----------------------------------------------------------------------------------
// Where each ATTENTION item is dealt with in the console, and what its link says.
function attentionLink(a) {
  const n = a.count;
  switch (a.kind) {
    case 'failed_events': return ['#/review', 'Review ' + plural(n, 'failed event')];
    case 'held_events': return ['#/review', 'Review ' + plural(n, 'held event')];
    case 'guard_held': return ['#/review', 'Review the guard\'s hold of ' + (a.file || '').split('/').pop()];
    case 'conflict': return a.event ? ['#/events/' + a.event, 'Open event ' + a.event] : ['#/events?state=held', 'Open the held events'];
    case 'rejected_files': return ['#/files', 'See the rejected files'];
    case 'connection_unhealthy': case 'connection_paused': return ['#/connections', 'Open connection ' + a.connection];
    default: return null;
  }
}

// A connection's health, coloured; its last error only while it is current (after the last success).
function health(c) {
  if (c.healthy === null || c.healthy === undefined) return h('span', { class: 'health health-unused' }, 'not used yet');
  return h('span', { class: 'health ' + (c.healthy ? 'health-ok' : 'health-bad') }, c.healthy ? '● healthy' : '▲ UNHEALTHY');
}
const currentError = (c) => c.last_error && (!c.last_success || !c.last_error_at || c.last_error_at > c.last_success) ? c.last_error : null;

// ---- The chart of the day: SVG drawn here, no library (a few rectangles and lines) -------------------
const SVG_NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
// Series: [key in the hour's data, label]; colours in app.css (.bar-KEY, .sw-KEY: no inline styles under the CSP).
const OUTCOMES = [['done', 'done'], ['skipped', 'skipped'], ['superseded', 'superseded'], ['failed', 'failed'], ['rejected', 'rejected']];
const CALLS = [['answered', 'answered'], ['throttled', 'answered 429']];
const hourLabel = (iso) => { try { return new Intl.DateTimeFormat('sv-SE', { timeZone: state.tz, hour: '2-digit' }).format(new Date(iso)); } catch (e) { return iso.slice(11, 13); } };

// Bars per hour (stacked `series`, each [key, colour]) over the last 24 hours, with a legend and a
// text summary for screen readers (the SVG is one image with that summary as its name).
function hourChart(id, title, hours, series, unit) {
  const W = 720, H = 160, left = 36, bottom = 22, top = 8;
  const value = (x, k) => x[k] || 0;
  const max = Math.max(1, ...hours.map((x) => series.reduce((n, [k]) => n + value(x, k), 0)));
  const bw = (W - left) / hours.length;
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  const totals = series.map(([k]) => [k, hours.reduce((n, x) => n + value(x, k), 0)]);
  const summary = title + ', last 24 hours: ' + totals.map(([k, n], i) => n + ' ' + series[i][1]).join(', ') + '.';
  const bars = hours.map((x, i) => {
    let base = 0;
    const parts = series.map(([k, label]) => {
      const v = value(x, k);
      if (!v) return null;
      const r = s('rect', { x: left + i * bw + 1, y: y(base + v), width: Math.max(1, bw - 2), height: y(base) - y(base + v), class: 'bar-' + k },
        s('title', {}, hourLabel(x.start) + ':00 — ' + v + ' ' + label));
      base += v;
      return r;
    });
    return [parts, i % 3 === 0 ? s('text', { x: left + i * bw + bw / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis' }, hourLabel(x.start)) : null];
  });
  const svgEl = s('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': summary, class: 'chart', id },
    s('line', { x1: left, x2: W, y1: y(0), y2: y(0), class: 'axis-line' }),
    s('text', { x: left - 4, y: y(max) + 4, 'text-anchor': 'end', class: 'axis' }, max),
    s('text', { x: left - 4, y: y(0), 'text-anchor': 'end', class: 'axis' }, 0), bars);
  return h('figure', { class: 'chart-box' }, h('figcaption', {}, title + ' per hour' + (unit ? ' (' + unit + ')' : '')), svgEl,
    h('ul', { class: 'legend' }, totals.map(([k, n], i) => h('li', {}, h('span', { class: 'swatch sw-' + k }), series[i][1] + ' ' + n))));
}

async function overview() {
  const banners = h('div', { id: 'banners' });
  const body = h('div', { id: 'overview' });
  fill($('main'), h('h1', {}, 'Overview'), banners, body);
  let lastGood = null;   // when the daemon last answered
  let chart = null, chartAt = 0;   // the chart of the day, asked for every 30 s
  const draw = async () => {
    let r;
    try { r = await api('GET', '/status'); } catch (e) { if (!(e instanceof TypeError)) throw e; r = null; }   // TypeError: no answer
    if (!r || r.status >= 500 || !r.data || !r.data.queue) {
      // The page stays as it was, marked: what it shows is from the last answer.
      fill(banners, h('div', { class: 'banner banner-bad', role: 'alert', 'data-banner': 'unreachable' },
        'The console cannot reach h2rd' + (lastGood ? ' since ' + clockTime(lastGood) : '') + ': what this page shows is from then.'));
      body.classList.add('stale');
      return;
    }
    if (!r.ok) { fill(body, h('p', { class: 'error' }, r.data.error)); return; }
    lastGood = new Date();
    body.classList.remove('stale');
    const s = r.data;
    const guard = s.attention.filter((a) => a.kind === 'guard_held');
    const rejectedFiles = (s.attention.find((a) => a.kind === 'rejected_files') || {}).count || 0;
    fill(banners,
      s.daemon.state !== 'running' ? h('div', { class: 'banner banner-bad', role: 'alert', 'data-banner': 'daemon' },
        'The daemon is ' + s.daemon.state + ': no event is provisioned until it runs again.') : null,
      guard.map((g) => h('div', { class: 'banner banner-warn', role: 'alert', 'data-banner': 'guard' },
        'The guard is holding ' + plural(g.count, 'change') + ' of ' + g.file.split('/').pop() + ': more deactivations than lifecycle.guard.max allows. ',
        h('a', { href: '#/review' }, 'Review them'))));
    const cards = Object.entries(s.queue).map(([k, n]) =>
      h('a', { href: '#/events?state=' + k, class: 'card', 'data-count': k, 'data-key': 'count:' + k }, h('div', { class: 'n' }, n), h('div', { class: 'label' }, k + ' events')));
    cards.push(h('a', { href: '#/files', class: 'card', 'data-count': 'rejected_files', 'data-key': 'count:rejected_files' },
      h('div', { class: 'n' }, rejectedFiles), h('div', { class: 'label' }, 'rejected files')));
    const att = s.attention.length
      ? h('ul', { class: 'attention', id: 'attention' }, s.attention.map((a) => {
        const link = attentionLink(a);
        return h('li', { 'data-kind': a.kind }, link ? [h('a', { href: link[0], 'data-key': 'attention:' + a.kind + (a.file || a.connection || a.event || '') }, link[1]), ': '] : null, a.message);
      }))
      : h('p', { class: 'muted' }, 'Nothing needs a person.');
    const conns = table(['connection', 'health', 'last success', 'current error', 'paused until'], s.connections.map((c) =>
      h('tr', { 'data-name': c.name }, h('td', {}, c.name), h('td', {}, health(c)),
        h('td', {}, time(c.last_success)), h('td', { class: currentError(c) ? 'error' : 'muted' }, currentError(c) || 'none'), h('td', {}, time(c.paused_until)))));
    if (Date.now() - chartAt > 30000) {
      const a = await api('GET', '/activity');
      if (a.ok) {
        chartAt = Date.now();
        chart = h('div', { class: 'charts' }, hourChart('chart-events', 'Events ended', a.data.hours, OUTCOMES),
          a.data.calls_known ? hourChart('chart-calls', 'Zoom calls', a.data.hours.map((x) => ({ start: x.start,
            answered: (x.calls || 0) - (x.throttled || 0), throttled: x.throttled || 0 })), CALLS, 'this daemon, since it started') : null);
      }
    }
    fill(body, h('div', { class: 'cards' }, cards),
      h('h2', {}, 'The last 24 hours'), chart,
      h('h2', {}, 'Attention (' + s.attention.length + ')'), att,
      h('h2', {}, 'Daemon'), h('dl', { class: 'kv' },
        h('dt', {}, 'state'), h('dd', { class: s.daemon.state === 'running' ? 'health-ok' : 'error' }, s.daemon.state), h('dt', {}, 'pid'), h('dd', {}, s.daemon.pid ?? '-'),
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
  $('main').replaceChildren(h('h1', {}, 'Events'), form, messageBox(), list, more);
  let offset = Number(p.get('offset') || 0);
  const draw = async () => {
    const q = new URLSearchParams(p); q.set('limit', '50'); q.set('offset', String(offset));
    const r = await api('GET', '/events?' + q.toString());
    if (!r.ok) { message(r.data.error, true); return; }
    list.replaceChildren(table(['id', 'event', 'type', 'employee', 'state', 'effective', 'attempts', 'reason'],
      r.data.events.map((e) => {
        const tr = h('tr', { class: 'clickable', 'data-id': e.id }, h('td', {}, h('a', { href: '#/events/' + e.id, class: 'event-link', 'data-key': 'event:' + e.id }, e.id)),
          h('td', {}, e.event_id), h('td', {}, e.type),
          h('td', {}, h('a', { href: '#/employee/' + encodeURIComponent(e.employee_id) }, e.name || e.employee_id),
            e.name ? h('div', { class: 'muted' }, e.employee_id) : null), h('td', {}, stateTag(e.state)),
          h('td', {}, effective(e)), h('td', {}, e.attempts), h('td', {}, e.waits || e.reason));
        tr.addEventListener('click', (ev) => { if (ev.target.tagName !== 'A') location.hash = '#/events/' + e.id; });
        return tr;
      })));
    more.replaceChildren(
      offset > 0 ? h('button', { 'data-key': 'newer', onclick: () => { offset = Math.max(0, offset - 50); draw(); } }, '← newer') : '',
      h('span', { class: 'muted' }, 'events ' + (offset + 1) + '–' + (offset + r.data.events.length)),
      r.data.more ? h('button', { 'data-key': 'older', onclick: () => { offset += 50; draw(); } }, 'older →') : '');
    stamp();
  };
  await draw();
  every(5000, draw);
}

const show = (v) => (v === null || v === undefined ? '-' : typeof v === 'string' ? v : JSON.stringify(v));

async function eventDetail(id) {
  const body = h('div', { id: 'event-detail' });
  $('main').replaceChildren(h('p', {}, h('a', { href: '#/events' }, '← events')), messageBox(), body);
  const draw = async () => {
    const r = await api('GET', '/events/' + id);
    if (!r.ok) { message(r.data.error, true); return; }
    const e = r.data;
    const res = e.result || {};
    const actions = (res.actions || []).map((a) => h('li', {}, a.connection + ': ' + a.action + ' ' + (a.userName || '') +
      (a.user_id ? ' (Zoom user ' + a.user_id + ')' : '') + ' — ' +
      ((a.calls || []).map((c) => c.method + ' ' + (c.summary || '')).join(', ') || 'no call needed')));
    const diff = e.changes || [];
    body.replaceChildren(
      h('h1', {}, 'Event ' + e.id + ' — ' + e.type + ' of ' + e.employee_id + ' ', stateTag(e.state)),
      h('dl', { class: 'kv' },
        h('dt', {}, 'HR event_id'), h('dd', {}, e.event_id),
        h('dt', {}, 'effective'), h('dd', {}, effective(e), e.effective_raw ? '' : ' (no date given: on arrival)'),
        h('dt', {}, 'reason'), h('dd', {}, e.waits || e.reason || '-'),
        h('dt', {}, 'attempts'), h('dd', {}, e.attempts),
        h('dt', {}, 'rules version'), h('dd', {}, e.rules_version || '-'),
        h('dt', {}, 'decision'), h('dd', {}, (res.targets || []).map((t) => (t.role ? 'role ' + t.role : 'no role') + ' in ' + t.connection).join(', ') || res.why || '-'),
        h('dt', {}, 'source file'), h('dd', {}, e.source_file),
        h('dt', {}, 'received'), h('dd', {}, time(e.received))),
      h('h2', {}, 'Actions per connection'), actions.length ? h('ul', {}, actions) : h('p', { class: 'muted' }, 'none recorded'),
      h('h2', {}, 'Attribute changes'),
      diff.length ? table(['connection', 'attribute', 'old', 'new'], diff.map((d) => h('tr', { class: 'diff-row' }, h('td', {}, d.connection),
        h('td', { title: d.path }, d.short_path), h('td', { class: 'diff-old' }, show(d.before)), h('td', { class: 'diff-new' }, show(d.after)))))
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
  const act = async (verb) => {
    let extra = {};
    if (verb === 'reject') {
      const answer = await confirmDialog({ title: 'Reject event ' + e.id + '?', text: 'The ' + e.type + ' of ' + (e.name || e.employee_id) +
        ' will never run.', reason: true, confirmLabel: 'Reject', danger: true });
      if (!answer) return;
      extra = { reason: answer.reason };
    }
    const r = await api('POST', '/events/' + verb, Object.assign({ ids: [e.id] }, extra));
    await route();   // redraws the page (a new #message), then says what happened
    message(r.ok ? verb + ': ' + r.data.changed + ' changed' : r.data.error, !r.ok);
  };
  const bar = h('div', { class: 'toolbar' });
  if (e.state === 'held') bar.append(h('button', { class: 'primary', onclick: () => act('approve') }, 'Approve'));
  if (e.state === 'failed') bar.append(h('button', { onclick: () => act('retry') }, 'Retry'));
  if (['held', 'pending', 'waiting'].includes(e.state))
    bar.append(h('button', { class: 'danger', onclick: () => act('reject') }, 'Reject…'));
  return bar;
}

// ---- Review -------------------------------------------------------------------------------------
// A confirmation naming what is about to change, as a modal <dialog>; with `reason`, a required line
// that goes into each event's history. Resolves to { reason } on confirm, null on cancel.
function confirmDialog({ title, text, reason, confirmLabel, danger }) {
  return new Promise((resolve) => {
    const back = document.activeElement;
    const input = reason ? h('input', { id: 'confirm-reason', name: 'reason', required: true, maxlength: '500', autocomplete: 'off' }) : null;
    const ok = h('button', { id: 'confirm-ok', type: 'submit', class: danger ? 'danger-solid' : 'primary', disabled: !!reason }, confirmLabel);
    const cancel = h('button', { id: 'confirm-cancel', type: 'button' }, 'Cancel');
    if (input) input.addEventListener('input', () => { ok.disabled = input.value.trim() === ''; });
    const form = h('form', { method: 'dialog' }, h('h2', { id: 'confirm-title' }, title), h('p', {}, text),
      input ? h('label', { class: 'stack' }, 'Reason (kept in each event\'s history)', input) : null,
      h('div', { class: 'toolbar' }, ok, cancel));
    const dialog = h('dialog', { id: 'confirm', 'aria-labelledby': 'confirm-title' }, form);
    let answer = null;
    form.addEventListener('submit', (ev) => {
      if (input && input.value.trim() === '') { ev.preventDefault(); return; }
      answer = { reason: input ? input.value.trim() : undefined };
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => { dialog.remove(); if (back && back.focus) back.focus(); resolve(answer); });
    document.body.append(dialog);
    dialog.showModal();
    (input || ok).focus();
  });
}

// Why a held event waits, as a group heading.
const holdTitle = { guard: 'Held by the guard', supervised: 'Supervised: waiting for approval', conflict: 'Conflicts: the Zoom user is another employee\'s', approval: 'Held for approval' };
// Failures grouped by their reason with the numbers left out ("after 5 attempts", ids, statuses).
const reasonKey = (r) => (r || '').replace(/\d+/g, '#').slice(0, 200);

function plural(n, one, many) { return n + ' ' + (n === 1 ? one : (many || one + 's')); }

// One group of rows with its own select-all and buttons; `verbs` are those a reviewer may use on it.
function reviewGroup({ key, heading, note, rows, verbs, kind }) {
  const reviewer = state.role === 'reviewer';
  const boxes = [];
  const all = h('input', { type: 'checkbox', class: 'select-all', 'aria-label': 'select all ' + rows.length + ' in ' + heading });
  const buttons = [];
  const selected = () => boxes.filter((b) => b.checked).map((b) => Number(b.value));
  const refresh = () => {
    const n = selected().length;
    all.checked = n === rows.length && n > 0;
    all.indeterminate = n > 0 && n < rows.length;
    for (const b of buttons) { b.disabled = n === 0; b.textContent = b.dataset.label + ' ' + n; }
  };
  all.addEventListener('change', () => { for (const b of boxes) b.checked = all.checked; refresh(); });
  const cells = rows.map((e) => {
    const box = h('input', { type: 'checkbox', value: e.id, 'aria-label': 'select event ' + e.id + (e.name ? ' of ' + e.name : '') });
    box.addEventListener('change', refresh);
    boxes.push(box);
    const tr = h('tr', { 'data-id': e.id },
      reviewer ? h('td', {}, box) : null,
      h('td', {}, h('a', { href: '#/events/' + e.id }, e.id)),
      h('td', {}, h('a', { href: '#/employee/' + encodeURIComponent(e.employee_id) }, e.name || e.employee_id),
        e.name ? h('div', { class: 'muted' }, e.employee_id) : null,
        e.hold === 'conflict' ? h('div', { class: 'reason' }, e.reason) : null),   // each conflict is its own decision
      h('td', {}, e.title || ''),
      h('td', {}, e.type, e.leave_type ? h('div', { class: 'muted' }, e.leave_type.replace('_', ' ') + ' leave') : null),
      h('td', {}, e.effect ? h('span', { class: 'badge badge-' + e.effect.replace(' ', '-') }, e.effect) : ''),
      h('td', {}, effective(e)),
      h('td', { class: 'file' }, e.source_file.split('/').pop()),
      kind === 'held' ? h('td', {}, h('button', { type: 'button', class: 'plan-button', onclick: (ev) => togglePlan(tr, e.id, ev.target) }, 'Planned changes')) : null);
    return tr;
  });
  const act = async (verb) => {
    const ids = selected();
    const label = { approve: 'Approve', reject: 'Reject', retry: 'Retry' }[verb];
    const effects = [...new Set(rows.filter((e) => ids.includes(e.id) && e.effect).map((e) => e.effect))];
    const answer = await confirmDialog({
      title: label + ' ' + plural(ids.length, 'event') + '?',
      text: heading + ': ' + plural(ids.length, 'event') + (effects.length ? ' (' + effects.join(', ') + ' Zoom users)' : '') +
        (verb === 'approve' ? ' will run at the daemon\'s next cycle.' : verb === 'retry' ? ' will run again at the daemon\'s next cycle.'
          : ' will never run.') + ' If any of them changed since this page was drawn, nothing changes.',
      reason: verb === 'reject', confirmLabel: label + ' ' + ids.length, danger: verb === 'reject' });
    if (!answer) return;
    const res = await api('POST', '/events/' + verb, verb === 'reject' ? { ids, reason: answer.reason } : { ids });
    await review();
    message(res.ok ? label + ': ' + plural(res.data.changed, 'event') + ' changed' + (res.data.errors.length ? ', ' + res.data.errors.length + ' not' : '')
      : res.data.error + (res.data.refusals ? ' — ' + res.data.refusals.slice(0, 3).join('; ') : ''), !res.ok);
  };
  for (const verb of reviewer ? verbs : []) {
    const label = { approve: 'Approve', reject: 'Reject', retry: 'Retry' }[verb];
    buttons.push(h('button', { type: 'button', class: verb === 'approve' || verb === 'retry' ? 'primary' : 'danger',
      'data-verb': verb, 'data-label': label, disabled: true, onclick: () => act(verb) }, label + ' 0'));
  }
  const headers = [reviewer ? '' : null, 'id', 'name', 'title', 'type', 'takes away', 'effective', 'file', kind === 'held' ? 'if approved now' : null]
    .filter((x) => x !== null);
  return h('section', { class: 'group', 'data-group': key },
    h('h3', {}, heading + ' (' + rows.length + ')'), note ? h('p', { class: 'muted reason' }, note) : null,
    reviewer ? h('div', { class: 'toolbar' }, h('label', {}, all, ' select all ' + rows.length), buttons) : null,
    table(headers, cells));
}

// The held events grouped by why they are held (a guard hold by its file), and the failed ones by
// reason; each group acts on its own selection, by id, so a row that changed meanwhile refuses the
// whole action. The page checks every 5 s whether the lists changed and says so without redrawing
// (a redraw would drop the selection and the focus).
async function review() {
  stopTimer();
  const [held, failed] = await Promise.all([api('GET', '/events?state=held&limit=500'), api('GET', '/events?state=failed&limit=500')]);
  const main = $('main');
  if (!held.ok || !failed.ok) { main.replaceChildren(h('p', { class: 'error' }, (held.ok ? failed : held).data.error)); return; }
  const groups = new Map();
  for (const e of held.data.events) {
    const kind = e.hold || 'approval';
    const key = 'held:' + kind + (kind === 'guard' ? ':' + e.source_file : '');
    if (!groups.has(key)) groups.set(key, { key, kind: 'held', verbs: ['approve', 'reject'], rows: [], note: e.reason,
      heading: holdTitle[kind] + (kind === 'guard' ? ' — ' + e.source_file.split('/').pop() : '') });
    groups.get(key).rows.push(e);
  }
  const failures = new Map();
  for (const e of failed.data.events) {
    const key = 'failed:' + reasonKey(e.reason);
    if (!failures.has(key)) failures.set(key, { key, kind: 'failed', verbs: ['retry'], rows: [], note: e.reason, heading: 'Failed' });
    failures.get(key).rows.push(e);
  }
  let n = 0;
  for (const g of failures.values()) g.heading = 'Failed, reason ' + ++n;
  const ids = (r) => r.data.events.map((e) => e.id).join(',');
  const seen = ids(held) + '/' + ids(failed);
  const notice = h('div', { id: 'changed', class: 'notice', hidden: true }, 'The held or failed events changed since this page was drawn. ',
    h('button', { type: 'button', onclick: () => review() }, 'Show the new list'));
  fill(main, h('h1', {}, 'Review — ' + held.data.events.length + ' held, ' + failed.data.events.length + ' failed'),
    messageBox(), notice,
    state.role === 'reviewer' ? null : h('p', { class: 'muted' }, 'A viewer token can look, not approve.'),
    h('h2', {}, 'Held'), groups.size ? [...groups.values()].map(reviewGroup) : h('p', { class: 'muted' }, 'Nothing is held.'),
    h('h2', {}, 'Failed'), failures.size ? [...failures.values()].map(reviewGroup) : h('p', { class: 'muted' }, 'Nothing failed.'));
  stamp();
  every(5000, async () => {
    const [a, b] = await Promise.all([api('GET', '/events?state=held&limit=500'), api('GET', '/events?state=failed&limit=500')]);
    if (a.ok && b.ok && ids(a) + '/' + ids(b) !== seen) notice.hidden = false;
  });
}

// What one planned event (planned_json) would do: each connection's calls with their attribute diff
// old → new, or why nothing; the Review's "Planned changes" and the Employee page's Preview.
function plannedItems(p, showHold = true) {
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
  if (p.hold && showHold) items.unshift(h('p', { class: 'hold' }, 'held: ' + p.hold));
  return items;
}

// The SCIM calls and attribute changes a held event would make now (GET /events/{id}/plan: the engine's
// dry run, only lookups reach Zoom), in a row under the event's; a second click hides it.
async function togglePlan(tr, id, button) {
  const next = tr.nextElementSibling;
  if (next && next.classList.contains('plan-row')) { next.remove(); return; }
  button.disabled = true;
  const r = await engineApi('GET', '/events/' + id + '/plan');
  button.disabled = false;
  const cell = h('td', { colspan: tr.children.length });
  const row = h('tr', { class: 'plan-row', 'data-plan': id }, cell);
  if (!r.ok) cell.append(h('p', { class: 'error' }, r.data.error));
  else cell.append(...plannedItems(r.data, false));   // the group's note says why it is held
  tr.after(row);
}

// ---- Files, Employee, Connections ---------------------------------------------------------------
// The inbox's files; a reviewer rejects every open event of a bad export (pending, waiting or held)
// in one action: the count shown is sent as expect_count, so a file that grew meanwhile is refused.
async function files() {
  stopTimer();
  const r = await api('GET', '/files');
  if (!r.ok) { $('main').replaceChildren(h('p', { class: 'error' }, r.data.error)); return; }
  const open = (f) => ['pending', 'waiting', 'held'].reduce((n, k) => n + (f.events[k] || 0), 0);
  const rejectOpen = async (f) => {
    const n = open(f);
    const answer = await confirmDialog({ title: 'Reject ' + plural(n, 'open event') + ' of ' + f.name + '?',
      text: 'Every pending, waiting or held event of ' + f.name + ' (' + n + ') will never run. If the count changed since this page was drawn, nothing changes.',
      reason: true, confirmLabel: 'Reject ' + n, danger: true });
    if (!answer) return;
    const res = await api('POST', '/events/reject', { all: true, source_file: f.name, expect_count: n, reason: answer.reason });
    await files();
    message(res.ok ? 'Reject: ' + plural(res.data.changed, 'event') + ' of ' + f.name + ' changed' : res.data.error, !res.ok);
  };
  const reviewer = state.role === 'reviewer';
  fill($('main'), h('h1', {}, 'Files'), messageBox(),
    table(['file', 'folder', 'modified', 'bytes', 'events by state', reviewer ? 'open events' : null, 'rejection report'].filter((x) => x !== null),
      r.data.files.map((f) => h('tr', { 'data-file': f.name }, h('td', {}, h('a', { href: '#/events?file=' + encodeURIComponent(f.name) }, f.name)),
        h('td', {}, f.accepted ? 'processed' : 'REJECTED'), h('td', {}, time(f.modified)), h('td', {}, f.bytes),
        h('td', {}, Object.entries(f.events).map(([k, n]) => k + '=' + n).join(' ') || '-'),
        reviewer ? h('td', {}, open(f) ? h('button', { type: 'button', class: 'danger reject-open', onclick: () => rejectOpen(f) }, 'Reject ' + open(f) + ' open') : '-') : null,
        h('td', {}, f.report ? h('pre', {}, f.report) : '-')))));
  stamp();
}

// The employee's Zoom users as Zoom has them now (GET /employees/{id}/zoom, read when the page opens).
function zoomNow(id) {
  const box = h('div', { id: 'zoom-now' }, h('p', { class: 'muted' }, 'reading Zoom…'));
  engineApi('GET', '/employees/' + encodeURIComponent(id) + '/zoom').then((r) => {
    if (!r.ok) { fill(box, h('p', { class: 'error' }, r.data.error)); return; }
    if (!r.data.users.length) { fill(box, h('p', { class: 'muted' }, 'no Zoom user is linked')); return; }
    fill(box, table(['connection', 'active', 'type', 'role', 'licenses', 'groups', 'title', 'department'], r.data.users.map((u) => {
      if (!u.zoom) return h('tr', {}, h('td', {}, u.connection), h('td', { colspan: 7, class: 'error' }, u.error));
      const z = u.zoom;
      const on = Object.entries(z.licenses).filter(([, v]) => v).map(([k]) => k);
      return h('tr', { 'data-connection': u.connection }, h('td', {}, u.connection), h('td', {}, z.active ? 'yes' : 'NO'), h('td', {}, z.user_type || '-'),
        h('td', {}, z.role || '-'), h('td', {}, on.join(', ') || '-'), h('td', {}, z.groups.join(', ') || '-'), h('td', {}, z.title || '-'),
        h('td', {}, show(z.department)));
    })), h('p', { class: 'muted' }, 'read from Zoom at ', time(r.data.read_at)));
  }).catch(() => {});
  return box;
}

// Preview: what provisioning this employee now would do and why (GET /employees/{id}/provision: the
// role each target matches or the condition that failed, the employee's open events first, the calls
// with their diff; only lookups reach Zoom). A reviewer's "Provision now" queues it (POST): the daemon
// runs it at its next cycle with the guard and supervision applied.
function provisionPanel(id, name) {
  const out = h('div', { id: 'provision-result' });
  const path = '/employees/' + encodeURIComponent(id) + '/provision';
  const render = (p) => {
    const why = [];
    for (const t of p.why) {
      if (!t.taken) { why.push(h('li', {}, t.connection + ': not a target for this employee — ' + t.why_not)); continue; }
      for (const r of t.roles)
        why.push(h('li', { class: r.matched ? 'role-match' : 'role-miss' }, t.connection + ': role ' + r.role + (r.matched ? ' matches' : ' does not match — ' + r.why_not)));
      if (!t.roles.length || !t.roles[t.roles.length - 1].matched) why.push(h('li', {}, t.connection + ': no role matches, so on_no_role applies'));
    }
    const reviewer = state.role === 'reviewer';
    fill(out, h('h3', {}, 'Why'), h('ul', { class: 'why' }, why),
      p.open.length ? [h('h3', {}, 'First, ' + plural(p.open.length, 'open event') + ' of ' + name + ', in order'),
        p.open.map((o) => [h('p', {}, h('a', { href: '#/events/' + o.id }, o.event_id), ' (' + o.type + ', ' + o.state + ')'), plannedItems(o)])] : null,
      h('h3', {}, 'Now'), h('div', { class: 'plan-now' }, plannedItems(p.plan)),
      reviewer ? h('div', { class: 'toolbar' }, h('button', { type: 'button', id: 'provision-now', class: 'primary', onclick: async () => {
        const what = p.plan.type === 'terminate' ? 'terminate (they have left: their Zoom user is deactivated, or deleted if the rules say so)' : 'update';
        const answer = await confirmDialog({ title: 'Provision ' + name + ' now?', confirmLabel: 'Provision', danger: p.plan.type === 'terminate',
          text: 'An on-demand ' + what + ' of ' + name + ' is queued: the daemon runs it at its next cycle, after their open events, with the guard and supervision applied.' });
        if (!answer) return;
        const res = await engineApi('POST', path, { expect_type: p.plan.type });
        message(res.ok ? 'Provision: queued as event ' + res.data.queued.id + '; the daemon runs it at its next cycle' : res.data.error, !res.ok);
        if (res.ok) render(res.data);
      } }, 'Provision now')) : null);
  };
  const button = h('button', { type: 'button', id: 'preview-button', onclick: async () => {
    button.disabled = true;
    fill(out, h('p', { class: 'muted' }, 'asking the engine…'));
    const r = await engineApi('GET', path);
    button.disabled = false;
    if (!r.ok) { fill(out, h('p', { class: 'error' }, r.data.error)); return; }
    render(r.data);
  } }, 'Preview: what h2r would do now');
  return h('div', { class: 'provision' }, button, out);
}

// Employees: search by name, e-mail, Zoom address or id (GET /employees?q=), 50 a page.
async function employees() {
  stopTimer();
  const p = params();
  const q = p.get('q') || '';
  const offset = Number(p.get('offset') || 0);
  const input = h('input', { id: 'employee-search', name: 'q', type: 'search', placeholder: 'Okafor, jill@example.com, E1001', autocomplete: 'off' });
  input.value = q;
  const form = h('form', { class: 'filters', role: 'search' }, h('label', {}, 'name, e-mail, Zoom address or id', input), h('button', { type: 'submit' }, 'Search'));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); location.hash = '#/employees' + (input.value.trim() ? '?q=' + encodeURIComponent(input.value.trim()) : ''); });
  const query = new URLSearchParams();
  if (q) query.set('q', q);
  query.set('limit', '50'); query.set('offset', String(offset));
  const r = await api('GET', '/employees?' + query.toString());
  const main = $('main');
  if (!r.ok) { fill(main, h('h1', {}, 'Employees'), form, h('p', { class: 'error' }, r.data.error)); return; }
  const page = (o) => '#/employees?' + new URLSearchParams(Object.assign(q ? { q } : {}, { offset: String(o) })).toString();
  fill(main, h('h1', {}, 'Employees'), form,
    h('p', { id: 'employee-count', class: 'muted', role: 'status' }, r.data.total + (r.data.total === 1 ? ' employee' : ' employees') + (q ? ' match “' + q + '”' : '')),
    r.data.employees.length ? table(['name', 'id', 'title', 'department', 'HR status', 'Zoom users'],
      r.data.employees.map((e) => h('tr', { 'data-employee': e.employee_id },
        h('td', {}, h('a', { href: '#/employee/' + encodeURIComponent(e.employee_id) }, e.name || e.employee_id)), h('td', {}, e.employee_id),
        h('td', {}, e.title), h('td', {}, e.department), h('td', {}, e.status),
        h('td', {}, e.zoom_users.map((z) => h('div', {}, z.user_name + (z.active ? '' : ' (inactive)') + (r.data.employees.length && e.zoom_users.length > 1 ? ' in ' + z.connection : ''))))))) : null,
    h('div', { class: 'toolbar' }, offset > 0 ? h('a', { href: page(Math.max(0, offset - 50)) }, '← previous') : null,
      r.data.more ? h('a', { href: page(offset + 50) }, 'next →') : null));
  stamp();
}

// One employee: the last known record, the Zoom user per connection, the timeline with each event's
// attribute changes inline (named as rules.yaml names them).
async function employee(id) {
  stopTimer();
  if (!id) { location.hash = '#/employees'; return; }
  const main = $('main');
  const r = await api('GET', '/employees/' + encodeURIComponent(id));
  if (!r.ok) { fill(main, h('p', {}, h('a', { href: '#/employees' }, '← employees')), h('p', { class: 'error' }, r.data.error)); return; }
  const e = r.data.employee;
  const changes = (x) => (x.changes || []).length
    ? h('ul', { class: 'changes' }, x.changes.map((c) => h('li', { class: 'diff-row' }, h('span', { title: c.path }, c.short_path), ': ',
      h('span', { class: 'diff-old' }, show(c.before)), ' → ', h('span', { class: 'diff-new' }, show(c.after)))))
    : null;
  fill(main, h('p', {}, h('a', { href: '#/employees' }, '← employees')),
    h('h1', {}, (r.data.name || id) + (r.data.name ? ' (' + id + ')' : '')), messageBox(),
    h('h2', {}, 'Last known record' + (e ? ' (' + e.status + ')' : '')),
    e ? table(['field', 'value'], Object.entries(e.record).map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', {}, v))))
      : h('p', { class: 'muted' }, 'none yet'),
    h('h2', {}, 'Zoom users'), r.data.links.length ? table(['connection', 'userName', 'Zoom user id', 'active', 'updated'], r.data.links.map((l) =>
      h('tr', {}, h('td', {}, l.connection), h('td', {}, l.user_name), h('td', {}, l.zoom_user_id), h('td', {}, l.active ? 'yes' : 'no'), h('td', {}, time(l.updated)))))
      : h('p', { class: 'muted' }, 'no Zoom user is linked'),
    h('h2', {}, 'In Zoom now'), zoomNow(id),
    h('h2', {}, 'Provision on demand'), provisionPanel(id, r.data.name || id),
    h('h2', {}, 'Timeline'), table(['id', 'type', 'state', 'effective', 'reason and changes'], r.data.events.map((x) =>
      h('tr', { 'data-id': x.id }, h('td', {}, h('a', { href: '#/events/' + x.id }, x.id)), h('td', {}, x.type), h('td', {}, stateTag(x.state)),
        h('td', {}, effective(x)), h('td', {}, x.waits || x.reason || '', changes(x))))));
  stamp();
}

// ---- Drift -------------------------------------------------------------------------------------
// `h2rd reconcile` in the console: every Zoom user of each connection against what the rules say
// (GET /drift, asked when the button is pressed: it reads whole accounts). A reviewer fixes a row, or
// all of them, by queueing on-demand events (POST /drift/fix): the daemon runs them at its next cycle
// with the guard and supervision applied, so "Fix all" can never deactivate past the guard.
async function drift() {
  stopTimer();
  const out = h('div', { id: 'drift-result' });
  const reviewer = state.role === 'reviewer';
  const fix = async (items) => {
    const ids = [...new Set(items.map((d) => d.employee_id))];
    const answer = await confirmDialog({ title: 'Fix ' + plural(ids.length, 'employee') + '?', confirmLabel: 'Fix ' + ids.length,
      text: plural(ids.length, 'on-demand event') + ' will be queued: an update for each active employee, a terminate (deactivate, or delete if the rules say so) ' +
        'for each who left; employees on leave or never hired through h2r are left out. The daemon runs them at its next cycle, with the guard and supervision applied.' });
    if (!answer) return;
    const r = await api('POST', '/drift/fix', { employee_ids: ids });
    message(r.ok ? 'Fix: queued ' + plural(r.data.queued.length, 'on-demand event') + '; the daemon runs them at its next cycle' +
      (r.data.skipped.length ? '; left out: ' + r.data.skipped.map((x) => x.employee_id + ' (' + x.why + ')').join(', ') : '') : r.data.error, !r.ok);
  };
  const look = async () => {
    button.disabled = true;
    fill(out, h('p', { class: 'muted' }, 'reading every Zoom user…'));
    const r = await engineApi('GET', '/drift');
    button.disabled = false;
    if (!r.ok) { fill(out, h('p', { class: 'error' }, r.data.error)); return; }
    const d = r.data;
    const fixable = d.drift.filter((x) => x.fixable);
    fill(out, h('p', { id: 'drift-summary' }, d.employees_checked + ' employees checked: ' + d.in_sync + ' in sync, ' + d.employees_drifted +
      ' with drift, ' + d.left_alone + ' left alone; ' + d.zoom_users + ' Zoom users, ' + d.unaccounted + ' that no employee accounts for (listed, never touched).'),
    reviewer && fixable.length ? h('div', { class: 'toolbar' }, h('button', { type: 'button', id: 'fix-all', class: 'primary',
      disabled: fixable.length > 1000, onclick: () => fix(fixable) }, 'Fix all ' + fixable.length)) : null,
    d.drift.length ? table(['connection', 'kind', 'employee', 'Zoom user', 'what differs', reviewer ? 'fix' : null].filter((x) => x !== null),
      d.drift.map((x) => h('tr', { 'data-drift': x.kind, 'data-employee': x.employee_id }, h('td', {}, x.connection), h('td', {}, x.kind),
        h('td', {}, x.employee_id ? h('a', { href: '#/employee/' + encodeURIComponent(x.employee_id) }, x.employee_id) : '-'),
        h('td', {}, x.userName), h('td', {}, x.detail, x.changes.length ? h('ul', { class: 'changes' }, x.changes.map((c) =>
          h('li', { class: 'diff-row' }, c.path + ': ', h('span', { class: 'diff-old' }, show(c.zoom)), ' → ', h('span', { class: 'diff-new' }, show(c.rules))))) : null),
        reviewer ? h('td', {}, x.fixable ? h('button', { type: 'button', class: 'fix-one', onclick: () => fix([x]) }, 'Fix') : '-') : null)))
      : h('p', { class: 'muted' }, 'No drift: Zoom is as the rules say.'));
  };
  const button = h('button', { type: 'button', id: 'drift-check', class: 'primary', onclick: look }, 'Look for drift');
  fill($('main'), h('h1', {}, 'Drift'), messageBox(),
    h('p', { class: 'muted' }, 'Every Zoom user of each connection against what the rules say, as h2rd reconcile does. A fix is queued as an on-demand event: the guard and supervision apply.'),
    button, out);
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
  const section = page === 'employee' ? 'employees' : page;
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.dataset.page === section);
    if (a.dataset.page === section) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const titles = { overview: 'Overview', events: arg ? 'Event ' + arg : 'Events', review: 'Review', files: 'Files',
    employees: 'Employees', employee: 'Employee ' + arg, connections: 'Connections', drift: 'Drift' };
  document.title = (titles[page] || 'Overview') + ' — h2r console';
  stopTimer();
  document.body.dataset.page = page;
  delete document.body.dataset.ready;   // set again once this page is drawn (the browser test waits for it)
  try {
    if (page === 'events' && arg) await eventDetail(arg);
    else if (page === 'events') await events();
    else if (page === 'review') await review();
    else if (page === 'files') await files();
    else if (page === 'employees') await employees();
    else if (page === 'employee') await employee(arg);
    else if (page === 'connections') await connections();
    else if (page === 'drift') await drift();
    else await overview();
  } catch (e) { /* shown already (login) */ }
  document.body.dataset.ready = page;
}

// A table box that scrolls sideways (a phone) can be reached and scrolled with the keyboard: it takes
// the focus (tabindex 0) while it overflows, and only then, so a table that fits adds no Tab stop.
function markScrollers() {
  for (const box of document.querySelectorAll('.scroll')) {
    if (box.scrollWidth > box.clientWidth) box.setAttribute('tabindex', '0');
    else box.removeAttribute('tabindex');
  }
}
let scrollerFrame = 0;
const markSoon = () => { cancelAnimationFrame(scrollerFrame); scrollerFrame = requestAnimationFrame(markScrollers); };
window.addEventListener('resize', markSoon);
new MutationObserver(markSoon).observe(document.documentElement, { childList: true, subtree: true });

window.addEventListener('hashchange', () => { if (!location.hash.startsWith('#token=')) route(); });
window.addEventListener('DOMContentLoaded', async () => {
  $('logout').addEventListener('click', async () => { await api('DELETE', '/session').catch(() => {}); state.csrf = null; localStorage.removeItem(CSRF_KEY); showLogin('Logged out.'); });
  if (await login()) route();
  else if (!location.hash.startsWith('#token=')) showLogin();
});
