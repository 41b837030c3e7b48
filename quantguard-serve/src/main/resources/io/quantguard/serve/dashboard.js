// The QuantGuard live dashboard: polls the server's JSON endpoints and draws them. Every string
// from the server is written as text (textContent) or into canvases, never as HTML.
'use strict';
(function () {
  const POLL_MS = 2000;
  const parts = location.pathname.split('/').filter(Boolean);
  const only = parts.length > 1 ? decodeURIComponent(parts[1]) : null;
  const charts = {};

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function fmt(x, digits) {
    if (x === null || x === undefined || Number.isNaN(x)) return '–';
    if (typeof x !== 'number') return String(x);
    return x.toFixed(digits === undefined ? 4 : digits);
  }
  function table(head, rows, rowClass) {
    const t = el('table');
    const tr = el('tr');
    head.forEach(h => tr.appendChild(el('th', h)));
    t.appendChild(tr);
    rows.forEach((r, i) => {
      const row = el('tr', null, rowClass ? rowClass(i) : '');
      r.forEach(c => row.appendChild(el('td', typeof c === 'number' ? fmt(c) : c,
        typeof c === 'number' ? 'num' : '')));
      t.appendChild(row);
    });
    return t;
  }
  function replace(id, node) {
    const box = document.getElementById(id);
    box.replaceChildren(node);
  }
  function chart(id, option, points) {
    const box = document.getElementById(id);
    if (!charts[id]) charts[id] = echarts.init(box, null, { renderer: 'canvas' });
    option.animation = false;
    // Tooltips drawn on the canvas: no series name ever becomes HTML.
    option.tooltip = Object.assign({ trigger: 'axis', renderMode: 'richText' }, option.tooltip || {});
    charts[id].setOption(option, true);
    box.dataset.points = String(points);
  }
  async function get(url) {
    const r = await fetch(url, { cache: 'no-store' });
    if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
    return r.json();
  }
  function pairs(t, ys) {
    return t.map((x, i) => [x, ys[i]]);
  }
  const timeAxis = { type: 'time', axisLabel: { hideOverlap: true } };
  const legend = { type: 'scroll', top: 0 };
  const grid = { left: 50, right: 50, top: 40, bottom: 30 };

  function drawTraffic(tl) {
    const lat = [], thr = [];
    let n = 0;
    tl.versions.forEach(v => {
      const name = v.model + '@' + v.version + ' (' + v.role + ')';
      n += v.t.length;
      [['p50', v.p50_ms, 'solid'], ['p95', v.p95_ms, 'dashed'], ['p99', v.p99_ms, 'dotted']]
        .filter(([, ys]) => ys.some(y => y !== null))
        .forEach(([p, ys, style]) => lat.push({
          name: name + ' ' + p, type: 'line', showSymbol: false, connectNulls: false,
          lineStyle: { type: style }, data: pairs(v.t, ys) }));
      thr.push({ name: name + ' requests/s', type: 'line', showSymbol: false, data: pairs(v.t, v.requests_per_s) });
      thr.push({ name: name + ' rows/s', type: 'line', showSymbol: false, lineStyle: { type: 'dashed' },
        data: pairs(v.t, v.rows_per_s) });
      if (v.errors_per_s.some(e => e > 0)) {
        thr.push({ name: name + ' errors/s', type: 'bar', data: pairs(v.t, v.errors_per_s) });
      }
    });
    chart('latency', { legend, grid, xAxis: timeAxis, yAxis: { type: 'value', name: 'ms' }, series: lat }, n);
    chart('throughput', { legend, grid, xAxis: timeAxis, yAxis: { type: 'value', name: '/s' }, series: thr }, n);
    const q = [];
    let m = 0;
    tl.rollouts.forEach(r => {
      const name = r.model + '@' + r.candidate + ' vs @' + r.baseline;
      m += r.t.length;
      q.push({ name: name + ' cosine', type: 'line', showSymbol: false, data: pairs(r.t, r.cosine_mean) });
      q.push({ name: name + ' flip rate', type: 'line', yAxisIndex: 1, showSymbol: false,
        lineStyle: { type: 'dashed' }, data: pairs(r.t, r.flip_rate) });
    });
    chart('quality', { legend, grid, xAxis: timeAxis,
      yAxis: [{ type: 'value', name: 'cosine', scale: true }, { type: 'value', name: 'flip rate', min: 0 }],
      series: q }, m);
  }

  function drawRollouts(rollouts) {
    if (rollouts.length === 0) return;
    const box = el('div');
    const decisions = el('div');
    rollouts.forEach(r => {
      const state = el('p');
      state.appendChild(el('span', r.model + '@' + r.candidate + ' against @' + r.baseline + ' (' + r.mode + '): '));
      state.appendChild(el('span', r.state, 'state ' + r.state));
      box.appendChild(state);
      const w = r.window || {};
      box.appendChild(table(['', ''], [
        ['step / share', (r.step + 1) + ' of ' + r.steps.length + ' / ' + Math.round(r.share * 100) + ' %'],
        ['failed intervals', r.failed_intervals + ' of ' + r.max_failed_intervals],
        ['policy', r.policy],
        ['window: paired samples', String(w.paired_samples) + ' (min ' + r.min_samples + ')'],
        ['window: cosine mean', fmt(w.cosine_mean, 6)],
        ['window: flip rate', fmt(w.flip_rate)],
        ['last decision', r.last_decision.decision + ': ' + r.last_decision.reason]]));
      // Per slice: the window being collected, and each slice's verdict in the last judged one.
      const slices = w.slices || {};
      const judged = r.judged_slices || {};
      const names = Object.keys(slices).concat(Object.keys(judged).filter(n => !(n in slices)));
      if (names.length > 0) {
        box.appendChild(table(['slice', 'paired samples', 'flip rate', 'cosine mean', 'last verdict'],
          names.map(n => {
            const s = slices[n] || {};
            const j = judged[n] || {};
            return [n, String(s.paired_samples === undefined ? 0 : s.paired_samples),
              fmt(s.flip_rate), fmt(s.cosine_mean, 6), j.verdict || '–'];
          })));
      }
      const rows = r.history.slice().reverse().map(h =>
        [h.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), h.decision, h.step == null ? '' : String(h.step), h.actor, h.reason || '']);
      decisions.appendChild(table(['at', 'decision', 'step', 'by', 'reason'], rows));
    });
    replace('rollout', box);
    replace('decisions', decisions);
  }

  // The variant ladder of each adaptive model: which version takes unpinned traffic now, the
  // objective it is held to, the probe that ranked the variants, and the switches with reasons.
  function drawVariants(variants) {
    if (variants.length === 0) return;
    const box = el('div');
    variants.forEach(v => {
      box.appendChild(el('p', v.model + ': objective ' + v.objective + ', active @' + v.active
        + ', last window ' + fmt(v.window_percentile_ms, 1) + ' ms over ' + v.window_samples
        + ' requests, ' + v.switches + ' switch(es)'));
      box.appendChild(table(['version', 'probe ms per batch', 'time vs home', 'role'],
        v.ladder.map(r => ['@' + r.version, fmt(r.probe_ms, 3), fmt(r.relative, 3),
          r.version === v.active ? 'active' : 'standby']),
        i => v.ladder[i].version === v.active ? 'active' : ''));
      Object.entries(v.refused || {}).forEach(([version, why]) =>
        box.appendChild(el('p', '@' + version + ' never chosen: ' + why, 'muted')));
      if (v.history.length > 0) {
        box.appendChild(table(['at', 'switch', 'direction', 'window ms', 'requests', 'reason'],
          v.history.slice().reverse().map(h => [h.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
            '@' + h.from + ' → @' + h.to, h.direction, fmt(h.percentile_ms, 1), String(h.samples),
            h.reason])));
      }
    });
    replace('variants', box);
  }

  async function drawDrift(models) {
    if (models.length === 0) return;
    const name = models[0];
    const d = (await get('/v2/models/' + encodeURIComponent(name) + '/drift')).drift;
    const w = d.window;
    if (!w) {
      replace('drift-table', el('p', name + ': no drift window has closed yet', 'muted'));
      return;
    }
    const f = w.features.slice().sort((a, b) => (b.psi || 0) - (a.psi || 0));
    chart('drift', { legend, grid: { left: 130, right: 30, top: 40, bottom: 30 },
      xAxis: { type: 'value', name: 'PSI' },
      yAxis: { type: 'category', inverse: true, data: f.map(x => x.feature) },
      series: [{ name: name + ' PSI (red: drifted by its test)', type: 'bar',
        markLine: { symbol: 'none', data: [{ xAxis: 0.2, name: 'PSI 0.2' }], label: { formatter: 'PSI 0.2' } },
        data: f.map(x => ({ value: x.psi || 0, itemStyle: { color: x.drifted ? '#cf222e' : '#1f6feb' } })) }] },
      f.length);
    const head = el('p', name + ': ' + w.samples + ' samples, drifted share ' + fmt(w.drift_share, 2)
      + ', window ' + w.from + ' – ' + w.to);
    const t = table(['feature', 'test', 'score', 'threshold', 'PSI', 'drifted'],
      f.map(x => [x.feature, x.method, x.score, x.threshold, x.psi, x.drifted ? 'yes' : 'no']),
      i => f[i].drifted ? 'drifted' : '');
    const box = el('div');
    box.append(head, t);
    replace('drift-table', box);
    const h = d.history;
    const t2 = h.map(x => x.to);
    chart('drift-history', { legend, grid, xAxis: { type: 'category', data: t2.map(x => x.substring(11, 19)) },
      yAxis: [{ type: 'value', name: 'rate / share', min: 0 }, { type: 'log', name: 'PSI max', min: 0.001 }],
      series: [
        { name: 'overflow rate', type: 'line', data: h.map(x => x.overflow_rate) },
        { name: 'drifted share', type: 'line', data: h.map(x => x.drift_share) },
        { name: 'PSI max', type: 'line', yAxisIndex: 1, data: h.map(x => Math.max(x.psi || 0, 0.001)) }] },
      h.length);
    const o = w.overflow;
    if (o) {
      const ob = el('div');
      ob.appendChild(el('p', 'overflow rate ' + fmt(o.rate) + ' of ' + o.values + ' values in ' + o.samples
        + ' samples; tensors clipping most:'));
      ob.appendChild(table(['tensor', 'rate', 'values', 'calibrated low', 'high'],
        o.tensors.map(x => [x.tensor, x.rate, String(x.values), x.low, x.high])));
      replace('overflow-table', ob);
    }
  }

  async function refresh() {
    try {
      const q = only === null ? '' : '?model=' + encodeURIComponent(only);
      const [tl, ov] = await Promise.all([get('/v2/timeline' + q), get('/v2/dashboard')]);
      document.getElementById('scope').textContent =
        (only === null ? 'all models' : 'model ' + only) + ' · '
        + ov.models.filter(m => only === null || m.model === only).map(m => m.model + '@' + m.version).join(', ');
      drawTraffic(tl);
      drawRollouts(ov.rollouts.filter(r => only === null || r.model === only));
      drawVariants(ov.variants.filter(v => only === null || v.model === only));
      await drawDrift(ov.drift.filter(m => only === null || m === only));
      document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
      document.getElementById('problem').textContent = '';
    } catch (e) {
      document.getElementById('problem').textContent = String(e);
    }
  }
  window.addEventListener('resize', () => Object.values(charts).forEach(c => c.resize()));
  refresh();
  setInterval(refresh, POLL_MS);
})();
