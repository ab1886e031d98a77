// The wind farm dashboard in the browser: asks the server (WebSocket /ws) for one page of the grid and
// one detail turbine, draws what arrives, and sends the simulator's and the operator's commands to the
// JSON API. Elements are created once and updated in place, so keyboard focus survives the updates.
'use strict';

const view = { page: 0, pageSize: 24, detail: null };
let socket = null;
let last = null;
const rotors = new Map(); // svg element -> { angle, rps }
const tiles = new Map(); // turbine index -> tile element
const seenAlerts = new Set();
const $ = (id) => document.getElementById(id);

function text(el, value) {
  const s = String(value);
  if (el.textContent !== s) el.textContent = s;
}

function fmtAge(ms) {
  if (ms === null || ms === undefined) return 'never';
  return ms < 1000 ? 'just now' : `${Math.round(ms / 1000)} s ago`;
}

function rotorSvg(svg) {
  svg.innerHTML =
    '<line x1="0" y1="0" x2="0" y2="68" stroke="#555" stroke-width="4"/>' +
    '<g class="blades">' +
    [0, 120, 240].map((a) => `<path transform="rotate(${a})" d="M -3 0 L 0 -44 L 3 0 Z" fill="#90a4ae" stroke="#37474f"/>`).join('') +
    '<circle r="5" fill="#37474f"/></g>';
  rotors.set(svg, { angle: 0, rps: 0 });
}

function spin(ts) {
  const dt = spin.last ? (ts - spin.last) / 1000 : 0;
  spin.last = ts;
  for (const [svg, r] of rotors) {
    if (!svg.isConnected) {
      rotors.delete(svg);
      continue;
    }
    r.angle = (r.angle + r.rps * 360 * dt) % 360;
    svg.firstElementChild.nextElementSibling.setAttribute('transform', `rotate(${r.angle.toFixed(1)})`);
  }
  requestAnimationFrame(spin);
}
requestAnimationFrame(spin);

function sendView() {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(view));
}

function connect() {
  socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  socket.onopen = () => {
    text($('connection'), 'live');
    sendView();
  };
  socket.onmessage = (m) => {
    const snap = JSON.parse(m.data);
    if (snap.error) return;
    last = snap;
    render(snap);
  };
  socket.onclose = () => {
    text($('connection'), 'disconnected, retrying…');
    setTimeout(connect, 1000);
  };
}

async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  const out = await res.json().catch(() => ({}));
  if (!res.ok) {
    text($('connection'), `refused: ${out.error ?? res.status}`);
    throw new Error(out.error ?? String(res.status));
  }
  return out;
}

function renderSummary(s) {
  const items = [
    ['turbines', s.turbines],
    ['agents online', s.summary.online],
    ['alarming (cloud)', s.summary.alarming],
    ['contingency engaged', s.summary.engaged],
    ['faults injected now', s.summary.faults],
    ['stale heartbeats', s.summary.staleHeartbeats],
    ['frames produced', s.summary.produced.toLocaleString()],
    ['frames processed', s.summary.processed.toLocaleString()],
    ['windows scored', s.summary.windowsScored.toLocaleString()],
    ['worker threads', s.workers],
    ['speed', `${s.speed}x`],
  ];
  const ul = $('summary');
  if (ul.children.length !== items.length) {
    ul.innerHTML = '';
    for (const [label] of items) {
      const li = document.createElement('li');
      li.innerHTML = `<b></b><span>${label}</span>`;
      ul.appendChild(li);
    }
  }
  items.forEach(([, v], i) => text(ul.children[i].firstElementChild, v));
}

function tileFor(index) {
  let li = tiles.get(index);
  if (li) return li;
  li = document.createElement('li');
  li.dataset.index = String(index);
  li.innerHTML =
    `<svg class="rotor" viewBox="-50 -50 100 120" aria-hidden="true"></svg><h3>Turbine ${index}</h3>` +
    '<div><span class="badge version"></span> <span class="badge alarm-state"></span></div>' +
    '<div class="contingency-state"></div><div class="hb"></div><div class="truth"></div>' +
    `<button type="button" aria-controls="detail">Details of turbine ${index}</button>`;
  rotorSvg(li.querySelector('svg'));
  li.querySelector('button').addEventListener('click', () => openDetail(index));
  tiles.set(index, li);
  return li;
}

function renderGrid(s) {
  const grid = $('grid');
  const wanted = s.page.rows.map((r) => r.index);
  const current = [...grid.children].map((li) => Number(li.dataset.index));
  if (wanted.join(',') !== current.join(',')) {
    grid.replaceChildren(...wanted.map(tileFor));
    for (const k of [...tiles.keys()]) if (!wanted.includes(k)) tiles.delete(k);
  }
  for (const r of s.page.rows) {
    const li = tiles.get(r.index);
    const c = r.cloud;
    li.dataset.alarming = String(c.alarming);
    li.dataset.engaged = String(Boolean(c.contingency && c.contingency.engaged));
    text(li.querySelector('.version'), c.version ? `v${c.version}` : 'no model yet');
    const a = li.querySelector('.alarm-state');
    text(a, c.alarming ? `ALARM ${c.alarmFeatures.join(', ')}` : 'normal');
    a.classList.toggle('alarm', c.alarming);
    text(li.querySelector('.contingency-state'), c.contingency && c.contingency.engaged ? `${c.contingency.action} engaged` : '');
    text(li.querySelector('.hb'), `heartbeat ${fmtAge(c.heartbeatAgeMs)}`);
    text(li.querySelector('.truth'), r.truth && r.truth.fault ? `injected: ${r.truth.fault.kind} (${r.truth.fault.severity})` : '');
    rotors.get(li.querySelector('svg')).rps = r.truth ? r.truth.rps : 0;
  }
  text($('page-label'), `page ${s.page.index + 1} of ${s.page.pages}`);
  $('prev-page').disabled = s.page.index === 0;
  $('next-page').disabled = s.page.index >= s.page.pages - 1;
}

function openDetail(index) {
  view.detail = index;
  sendView();
  $('detail').focus();
  $('review').tBodies[0].replaceChildren();
  text($('review-status'), '');
  loadAlarms();
}

// Alarm review: the detail turbine's captured alarms, each with Confirm / Reject buttons until labelled.
let reviewShown = '';
let focusNextDecision = false; // after a decision, keyboard focus goes to the next undecided alarm
async function loadAlarms() {
  const index = view.detail;
  if (index === null) return;
  const res = await fetch(`/api/turbines/${index}/alarms`).catch(() => null);
  const out = res ? await res.json().catch(() => ({})) : {};
  if (view.detail !== index) return;
  if (!res || !res.ok) {
    text($('review-status'), `could not read the captured alarms: ${out.error ?? 'no answer'}`);
    return;
  }
  renderReview(index, out.alarms);
}

function renderReview(index, alarms) {
  const key = JSON.stringify([index, alarms]);
  if (key === reviewShown) return;
  reviewShown = key;
  const focused = document.activeElement && document.activeElement.closest('#review') ? document.activeElement.dataset.action : null;
  const tbody = $('review').tBodies[0];
  if (alarms.length === 0) {
    fillTable(tbody, [['no captured alarm yet', '', '', '', '']]);
    return;
  }
  tbody.replaceChildren(
    ...alarms.map((a) => {
      const tr = document.createElement('tr');
      for (const c of [a.inferenceTime, `${a.model} ${a.version}`, a.score.toFixed(2), a.feature]) {
        const td = document.createElement('td');
        td.textContent = c;
        tr.appendChild(td);
      }
      const td = document.createElement('td');
      if (a.label) td.textContent = `${a.label.decision} by ${a.label.operator}`;
      else {
        const group = document.createElement('div');
        group.className = 'inline';
        group.setAttribute('role', 'group');
        group.setAttribute('aria-label', `Decision on the alarm scored at ${a.inferenceTime}`);
        for (const [decision, label] of [['confirmed', 'Confirm fault'], ['rejected', 'Reject (false alarm)']]) {
          const b = document.createElement('button');
          b.type = 'button';
          b.textContent = label;
          b.dataset.action = `${a.captureId}:${decision}`;
          b.setAttribute('aria-label', `${label}: alarm scored at ${a.inferenceTime}, score ${a.score.toFixed(2)}`);
          b.addEventListener('click', () => decide(index, a, decision, group));
          group.appendChild(b);
        }
        td.appendChild(group);
      }
      tr.appendChild(td);
      return tr;
    }),
  );
  // Keep keyboard focus where it was, or on the next decision after a label replaced the buttons.
  const again = focused && tbody.querySelector(`[data-action="${CSS.escape(focused)}"]`);
  if (again) again.focus();
  else if (focused || focusNextDecision) (tbody.querySelector('button') ?? $('refresh-alarms')).focus();
  focusNextDecision = false;
}

async function decide(index, alarm, decision, group) {
  group.querySelectorAll('button').forEach((b) => (b.disabled = true));
  focusNextDecision = true;
  try {
    const out = await post(`/api/turbines/${index}/alarms/${encodeURIComponent(alarm.captureId)}/label`, { decision, operator: $('operator-name').value.trim() || 'operator' });
    text($('review-status'), `${out.created ? 'Stored' : 'Already stored'}: alarm scored at ${alarm.inferenceTime} ${out.label.decision} by ${out.label.operator}, with ${out.label.windows} captured windows`);
  } catch (err) {
    text($('review-status'), `Not stored: ${err.message}`);
    focusNextDecision = false;
    group.querySelectorAll('button').forEach((b) => (b.disabled = false));
    group.querySelector('button').focus();
  }
  await loadAlarms();
}

// The monitoring report (drift verdict), read on load, every 30 s and on request.
async function loadMonitoring() {
  const res = await fetch('/api/monitoring').catch(() => null);
  const out = res ? await res.json().catch(() => ({})) : {};
  if (!res || !res.ok) {
    text($('monitoring-verdict'), `could not build the report: ${out.error ?? 'no answer'}`);
    return;
  }
  const farm = out.rows.filter((r) => r.thingName === '*');
  text($('monitoring-verdict'), farm.length ? farm.map((r) => `${r.version}: ${r.verdict} (${r.reason})`).join(' ') : 'no captured windows yet');
  fillTable(
    $('monitoring').tBodies[0],
    out.rows.map((r) => [r.version, r.thingName === '*' ? '* (farm)' : r.thingName, r.windows, `${(r.alarmRate * 100).toFixed(1)} %`, r.verdict, r.features.map((f) => `${f.feature} ${f.divergence.toFixed(2)}${f.level === 'stable' ? '' : ` (${f.level})`}`).join(', ')]),
  );
}

function delay(rec) {
  return [rec.detectorDelayS === null ? 'not yet' : rec.detectorDelayS.toFixed(2), rec.dashboardDelayMs === null ? 'not yet' : (rec.dashboardDelayMs / 1000).toFixed(2)];
}

function fillTable(tbody, rows) {
  tbody.replaceChildren(
    ...rows.map((cells) => {
      const tr = document.createElement('tr');
      for (const c of cells) {
        const td = document.createElement('td');
        td.textContent = c;
        tr.appendChild(td);
      }
      return tr;
    }),
  );
}

function renderDetail(s) {
  const d = s.detail;
  $('detail-empty').hidden = Boolean(d);
  $('detail-body').hidden = !d;
  if (!d) return;
  text($('detail-title'), `Turbine ${d.index} details`);
  const c = d.cloud;
  const t = d.truth || {};
  const facts = [
    ['thing', d.thingName],
    ['model (cloud)', c.model ?? '—'],
    ['model version (cloud)', c.version ?? '—'],
    ['model version on the device (simulator)', t.version ?? '—'],
    ['heartbeat', fmtAge(c.heartbeatAgeMs)],
    ['rotor speed (rps)', t.rps !== undefined ? t.rps.toFixed(2) : '—'],
    ['mean wind (rps)', t.wind !== undefined ? t.wind.toFixed(2) : '—'],
    ['injected fault (simulator)', t.fault ? `${t.fault.kind} (${t.fault.severity})` : 'none'],
    ['brake', t.brake ? 'applied' : 'off'],
    ['generator', t.generatorConnected === false ? 'disconnected' : 'connected'],
    ['alarms received', c.alarms],
    ['capture (captured / uploaded / pending / dropped)', c.capture ? `${c.capture.captured} / ${c.capture.uploaded} / ${c.capture.pending} / ${c.capture.dropped}` : '—'],
    ['largest feature drift', c.drift ?? '—'],
    ['frames produced / processed', t.produced !== undefined ? `${t.produced} / ${t.processed}` : '—'],
  ];
  const dl = $('detail-facts');
  if (dl.children.length !== facts.length * 2) {
    dl.innerHTML = '';
    for (const [k] of facts) {
      const dt = document.createElement('dt');
      dt.textContent = k;
      dl.append(dt, document.createElement('dd'));
    }
  }
  facts.forEach(([, v], i) => text(dl.children[2 * i + 1], v));
  const svg = $('detail-rotor');
  if (!rotors.has(svg)) rotorSvg(svg);
  rotors.get(svg).rps = t.rps || 0;
  svg.setAttribute('aria-label', `rotor turning at ${(t.rps || 0).toFixed(2)} revolutions per second`);

  const lights = $('lights');
  if (lights.children.length !== s.featureNames.length) {
    lights.innerHTML = '';
    for (const f of s.featureNames) {
      const li = document.createElement('li');
      li.dataset.feature = f;
      lights.appendChild(li);
    }
  }
  for (const li of lights.children) {
    const on = c.alarmFeatures.includes(li.dataset.feature);
    li.dataset.on = String(on);
    text(li, `${li.dataset.feature}: ${on ? 'alarm' : 'normal'}`);
  }
  const k = c.contingency;
  text($('contingency'), k && k.engaged ? `${k.action} engaged since ${k.since} (${k.severity} anomaly on ${k.feature}, score ${k.score})` : k && k.action ? `normal (last action: ${k.action}${k.release ? ', released' : ''})` : 'normal');
  $('release').disabled = !(k && k.engaged);
  fillTable($('injections').tBodies[0], d.injections.slice().reverse().map((r) => [`${r.kind} (${r.severity})`, r.onsetEventTime, ...delay(r)]));
  renderPlots(s, d);
}

let plottedAt = 0;
function renderPlots(s, d) {
  // Once a second is enough for a 30 s trace, and leaves the page free for alarms.
  if (typeof Plotly === 'undefined' || performance.now() - plottedAt < 1000) return;
  plottedAt = performance.now();
  const x = d.features.eventTimes;
  const data = s.featureNames.map((f, i) => ({ x, y: d.features.values.map((v) => v[i]), name: f, type: 'scatter', mode: 'lines', xaxis: 'x', yaxis: i === 0 ? 'y' : `y${i + 1}` }));
  const layout = { grid: { rows: 6, columns: 1, shared_xaxes: true }, height: 560, margin: { t: 10, l: 60, r: 10, b: 30 }, showlegend: false, uirevision: d.index };
  s.featureNames.forEach((f, i) => (layout[i === 0 ? 'yaxis' : `yaxis${i + 1}`] = { title: { text: f }, automargin: true }));
  Plotly.react($('plots'), data, layout, { displayModeBar: false, responsive: true });
}

function renderAlerts(s) {
  const ol = $('alerts');
  for (const a of s.alerts.slice().reverse()) {
    const key = `${a.thingName} ${a.time}`;
    if (seenAlerts.has(key)) continue;
    seenAlerts.add(key);
    const li = document.createElement('li');
    li.textContent = `${new Date(a.receivedAt).toLocaleTimeString()} ${a.thingName}: ${a.message}`;
    ol.prepend(li);
  }
  while (ol.children.length > 50) ol.lastElementChild.remove();
}

function renderJobs(s) {
  const tbody = $('jobs').tBodies[0];
  tbody.replaceChildren(
    ...s.jobs.map((j) => {
      const tr = document.createElement('tr');
      const done = j.succeeded + j.failed;
      tr.innerHTML = '<td></td><td></td><td></td><td><progress max="1" value="0"></progress> <span></span></td>';
      tr.children[0].textContent = j.jobId;
      tr.children[1].textContent = j.model ? `${j.model} ${j.version}` : '—';
      tr.children[2].textContent = j.status;
      const p = tr.querySelector('progress');
      p.max = Math.max(1, j.targets);
      p.value = done;
      p.setAttribute('aria-label', `job ${j.jobId}: ${done} of ${j.targets} devices done`);
      tr.querySelector('span').textContent = `${j.succeeded} succeeded, ${j.failed} failed, ${j.inProgress} in progress, ${j.queued} queued`;
      return tr;
    }),
  );
}

function render(s) {
  renderSummary(s);
  renderGrid(s);
  renderDetail(s);
  renderAlerts(s);
  renderJobs(s);
  fillTable($('report').tBodies[0], s.report.map((r) => [r.model, r.version, r.devices, r.windowsScored.toLocaleString(), r.alarms, `${r.latencyP50Ms} / ${r.latencyP99Ms}`, r.drift]));
  fillTable($('truth').tBodies[0], s.injections.map((r) => [r.index, `${r.kind} (${r.severity})`, r.onsetEventTime, ...delay(r)]));
  const kind = $('fault-kind');
  if (kind.options.length === 0) for (const k of s.faultKinds) kind.add(new Option(k, k));
}

function inject(kind) {
  if (view.detail === null) return;
  post(`/api/turbines/${view.detail}/fault`, { kind, severity: $('fault-severity').value, seconds: Number($('fault-seconds').value) }).catch(() => undefined);
}

document.querySelectorAll('button.fault').forEach((b) => b.addEventListener('click', () => inject(b.dataset.kind)));
$('fault-form').addEventListener('submit', (e) => {
  e.preventDefault();
  inject($('fault-kind').value);
});
$('clear-fault').addEventListener('click', () => view.detail !== null && post(`/api/turbines/${view.detail}/clear`).catch(() => undefined));
$('release').addEventListener('click', () => view.detail !== null && post(`/api/turbines/${view.detail}/release`).catch(() => undefined));
$('wind-form').addEventListener('submit', (e) => {
  e.preventDefault();
  post('/api/wind', { rps: Number($('wind-all').value) }).catch(() => undefined);
});
$('wind-one').addEventListener('submit', (e) => {
  e.preventDefault();
  if (view.detail !== null) post('/api/wind', { rps: Number($('wind-turbine').value), index: view.detail }).catch(() => undefined);
});
$('prev-page').addEventListener('click', () => {
  view.page = Math.max(0, view.page - 1);
  sendView();
});
$('next-page').addEventListener('click', () => {
  view.page = last ? Math.min(last.page.pages - 1, view.page + 1) : view.page + 1;
  sendView();
});
$('page-size').addEventListener('change', () => {
  view.pageSize = Number($('page-size').value);
  view.page = 0;
  sendView();
});
$('refresh-alarms').addEventListener('click', () => loadAlarms());
$('refresh-monitoring').addEventListener('click', () => loadMonitoring());
setInterval(() => loadAlarms(), 10_000);
setInterval(() => loadMonitoring(), 30_000);
loadMonitoring();
connect();
