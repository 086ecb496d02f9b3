'use strict';
// The Switchboard dashboard: live from /v1/admin/stream (SSE), plus a panel that publishes to a topic and shows the
// message arriving over SSE, WebSocket and long polling. Plain DOM, no build step; text only goes in via textContent.

const $ = (id) => document.getElementById(id);
let previous = null; // the last snapshot, for rates

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? '–' : String(text);
  if (cls) td.className = cls;
  return td;
}

function bytes(n) {
  if (n === null || n === undefined) return null;
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
  return (n / 1024 / 1024).toFixed(1) + ' MiB';
}

function duration(seconds) {
  if (seconds < 0.001) return (seconds * 1e6).toFixed(0) + ' µs';
  if (seconds < 1) return (seconds * 1e3).toFixed(2) + ' ms';
  return seconds.toFixed(2) + ' s';
}

function renderConnections(s) {
  const body = $('connections').tBodies[0];
  body.replaceChildren();
  for (const c of s.connections) {
    const row = body.insertRow();
    row.dataset.id = c.id;
    row.dataset.remote = c.remote;
    row.dataset.transport = c.transport;
    if (!c.writable) row.className = 'paused';
    const k = c.kernel || {};
    cell(row, c.id);
    cell(row, c.transport, 'text');
    cell(row, c.remote, 'text');
    cell(row, c.subscriptions.map((x) => x.topic + ' @' + x.next + (x.lag ? ' (lag ' + x.lag + ')' : '')).join(', '),
      'text');
    cell(row, c.messagesIn);
    cell(row, c.messagesOut);
    cell(row, bytes(c.bytesIn));
    cell(row, bytes(c.bytesOut));
    cell(row, bytes(c.queuedBytes));
    cell(row, c.writable ? c.unwritableCount : 'now, ' + c.unwritableMillis + ' ms');
    cell(row, bytes(k.sendQueueBytes));
    cell(row, bytes(k.recvQueueBytes));
    cell(row, k.rttMicros === null || k.rttMicros === undefined ? null : (k.rttMicros / 1000).toFixed(2));
    cell(row, k.cwnd);
    cell(row, k.totalRetransmits);
    cell(row, k.tcpNoDelay === null || k.tcpNoDelay === undefined ? null : (k.tcpNoDelay ? 'on' : 'off'));
    cell(row, bytes(k.sndBuf));
    cell(row, bytes(k.rcvBuf));
  }
  $('connections-count').textContent = s.connections.length < s.total
    ? s.connections.length + ' of ' + s.total + ' shown' : s.total + ' open';
}

function renderTopics(s) {
  const before = new Map();
  if (previous) for (const t of previous.topics) before.set(t.topic, t.lastOffset);
  const seconds = previous ? (Date.parse(s.time) - Date.parse(previous.time)) / 1000 : 0;
  const body = $('topics').tBodies[0];
  body.replaceChildren();
  for (const t of s.topics) {
    const row = body.insertRow();
    row.dataset.topic = t.topic;
    cell(row, t.topic, 'text');
    cell(row, t.lastOffset);
    cell(row, t.messages);
    cell(row, bytes(t.bytes));
    const was = before.get(t.topic);
    cell(row, was !== undefined && seconds > 0 ? ((t.lastOffset - was) / seconds).toFixed(1) : null);
    cell(row, Object.entries(t.subscribers).map(([via, n]) => via + ' ' + n).join(', '), 'text');
  }
}

function renderStages(s) {
  const body = $('stages').tBodies[0];
  body.replaceChildren();
  const entries = Object.entries(s.stages);
  const means = entries.map(([, v]) => (v.count ? v.totalSeconds / v.count : 0));
  const widest = Math.max(...means, 1e-9);
  entries.forEach(([stage, v], i) => {
    const row = body.insertRow();
    row.dataset.stage = stage;
    cell(row, stage, 'text');
    cell(row, v.count);
    cell(row, v.count ? duration(means[i]) : null);
    cell(row, v.count ? duration(v.maxSeconds) : null);
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = Math.round(200 * means[i] / widest) + 'px';
    row.insertCell().append(bar);
  });
  $('stage-sample').textContent = s.stageSample > 0
    ? '(one event in ' + s.stageSample + ' per connection timed)' : '(off: serve --stage-sample 0)';
}

function render(s) {
  renderConnections(s);
  renderTopics(s);
  renderStages(s);
  $('summary').textContent = s.engine + ' · ' + s.total + ' connections · ' + s.topics.length + ' topics · '
    + s.time;
  $('status').textContent = '';
  previous = s;
}

const admin = new EventSource('/v1/admin/stream?interval=1s');
admin.addEventListener('snapshot', (e) => render(JSON.parse(e.data)));
admin.onerror = () => { $('status').textContent = 'reconnecting…'; };

// ---- the panel: one topic followed three ways from the same pinned offset ----

let listening = null; // {topic, stop()}

function shown(via, text) {
  const li = document.createElement('li');
  li.textContent = text;
  $('via-' + via).append(li);
}

function text(data) {
  return typeof data === 'string' ? data : JSON.stringify(data);
}

async function listen(topic) {
  if (listening && listening.topic === topic) return;
  if (listening) listening.stop();
  for (const via of ['sse', 'ws', 'longpoll']) {
    $('via-' + via).replaceChildren();
    $('state-' + via).textContent = 'connecting';
  }
  // Every view starts at the offset after the newest message now, so none misses what is published next. A poll
  // from=next that waits 1 ms answers that offset whether or not the topic exists yet.
  const pin = await fetch('/v1/topics/' + encodeURIComponent(topic) + '/messages?from=next&wait=1ms');
  const from = (await pin.json()).next;
  let stopped = false;
  const sse = new EventSource('/v1/topics/' + topic + '/events?from=' + from);
  sse.onopen = () => { $('state-sse').textContent = 'open'; };
  sse.addEventListener('message', (e) => shown('sse', e.data));
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/ws');
  ws.onopen = () => ws.send(JSON.stringify({op: 'subscribe', topic: topic, from: from, id: 'panel'}));
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.op === 'subscribed') $('state-ws').textContent = 'open';
    if (m.op === 'message') shown('ws', text(m.data));
  };
  ws.onclose = () => { if (!stopped) $('state-ws').textContent = 'closed'; };
  const controller = new AbortController();
  (async () => {
    let next = from;
    while (!stopped) {
      try {
        $('state-longpoll').textContent = 'waiting';
        const r = await fetch('/v1/topics/' + topic + '/messages?from=' + next + '&wait=25s',
          {signal: controller.signal});
        if (!r.ok) throw new Error('status ' + r.status);
        const body = await r.json();
        for (const m of body.messages) shown('longpoll', text(m.data));
        next = body.next;
      } catch (e) {
        if (stopped) return;
        $('state-longpoll').textContent = 'retrying';
        await new Promise((done) => setTimeout(done, 1000));
      }
    }
  })();
  listening = {topic, stop() { stopped = true; sse.close(); ws.close(); controller.abort(); }};
}

$('demo-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const topic = $('demo-topic').value;
  await listen(topic);
  const r = await fetch('/v1/topics/' + topic + '/messages',
    {method: 'POST', headers: {'Content-Type': 'text/plain; charset=utf-8'}, body: $('demo-text').value});
  const body = await r.json();
  $('demo-result').textContent = r.ok ? 'stored at offset ' + body.offset : body.error.code + ': ' + body.error.message;
});
$('demo-topic').addEventListener('change', () => listen($('demo-topic').value));
listen($('demo-topic').value);
