// Draws the report's charts from the embedded report.json with ECharts (inlined above: no network).
(function () {
  'use strict';
  var report = JSON.parse(document.getElementById('report-data').textContent);
  var models = report.models;
  var baseline = models[0];
  var candidates = models.slice(1);
  var palette = ['#2e6da4', '#c0392b', '#1e8449', '#8e44ad', '#d68910', '#17a589', '#5d6d7e', '#cb4335'];

  function all(m) { return m.slices[0]; }
  function metric(slice, name) {
    var ms = (slice && slice.metrics) || [];
    for (var i = 0; i < ms.length; i++) { if (ms[i].name === name) { return ms[i]; } }
    return null;
  }
  function fixed(v, d) { return v === null || v === undefined ? 'n/a' : Number(v).toFixed(d); }
  function show(el, option) {
    el.style.display = 'block';
    var c = echarts.init(el, null, { renderer: 'canvas' });
    option.animation = false;
    option.color = palette;
    option.textStyle = { fontFamily: 'system-ui, sans-serif' };
    c.setOption(option);
    return c;
  }

  var headline = all(candidates[0]).metrics;
  var absolute = headline.filter(function (m) { return !m.vsBaseline; })[0];
  var primary = absolute || headline[0];
  if (!primary) { return; }
  var name = primary.name;
  var higherIsBetter = primary.higherIsBetter;

  // 1. Trade-off frontier: the task metric against p95 latency, with intervals and the Pareto front.
  var points = models.map(function (m, i) {
    var e = metric(all(m), name);
    return { name: m.name, x: m.cost.latency.p95, y: e ? e.value : null,
             lo: e ? e.low : null, hi: e ? e.high : null, color: palette[i % palette.length] };
  }).filter(function (p) { return p.y !== null; });
  var byLatency = points.slice().sort(function (a, b) { return a.x - b.x; });
  var front = [];
  var best = null;
  byLatency.forEach(function (p) {
    if (best === null || (higherIsBetter ? p.y > best : p.y < best)) { front.push([p.x, p.y]); best = p.y; }
  });
  show(document.getElementById('frontier'), {
    title: { text: 'Trade-off: ' + name + ' vs p95 latency', subtext: 'bars: 95 % interval; dashed: Pareto frontier', left: 10 },
    tooltip: { trigger: 'item', formatter: function (p) {
      if (p.seriesName !== 'models') { return ''; }
      return p.name + '<br>' + name + ' ' + fixed(p.value[1], 4) + '<br>p95 ' + fixed(p.value[0], 2) + ' ms/batch';
    } },
    grid: { left: 70, right: 40, top: 70, bottom: 50 },
    xAxis: { type: 'value', scale: true, name: 'p95 latency (ms per batch of ' + report.settings.batchSize + ')', nameLocation: 'middle', nameGap: 30 },
    yAxis: { type: 'value', scale: true, name: name + (higherIsBetter ? ' ↑' : ' ↓') },
    series: [
      { name: 'interval', type: 'custom', z: 1,
        encode: { x: 0, y: [1, 2] },
        data: points.filter(function (p) { return p.lo !== null && p.hi !== null; }).map(function (p) { return [p.x, p.lo, p.hi]; }),
        renderItem: function (params, api) {
          var a = api.coord([api.value(0), api.value(1)]);
          var b = api.coord([api.value(0), api.value(2)]);
          var s = { stroke: '#6b7785', lineWidth: 1.5 };
          return { type: 'group', children: [
            { type: 'line', shape: { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }, style: s },
            { type: 'line', shape: { x1: a[0] - 6, y1: a[1], x2: a[0] + 6, y2: a[1] }, style: s },
            { type: 'line', shape: { x1: b[0] - 6, y1: b[1], x2: b[0] + 6, y2: b[1] }, style: s }] };
        } },
      { name: 'frontier', type: 'line', data: front, symbol: 'none', lineStyle: { type: 'dashed', color: '#8a96a3' }, z: 2 },
      { name: 'models', type: 'scatter', symbolSize: 14, z: 3,
        data: points.map(function (p) { return { name: p.name, value: [p.x, p.y], itemStyle: { color: p.color } }; }),
        label: { show: true, position: 'right', formatter: function (p) { return p.name; } },
        labelLayout: { moveOverlap: 'shiftY' } }
    ]
  });

  // 2. Latency distributions: the cumulative distribution of per-batch latency of every model.
  show(document.getElementById('latency'), {
    title: { text: 'Latency distribution', subtext: 'per batch of ' + report.settings.batchSize + ', measured during the paired run', left: 10 },
    tooltip: { trigger: 'axis' },
    legend: { top: 50, right: 20 },
    grid: { left: 60, right: 30, top: 90, bottom: 50 },
    xAxis: { type: 'value', scale: true, name: 'ms per batch', nameLocation: 'middle', nameGap: 30 },
    yAxis: { type: 'value', min: 0, max: 100, name: 'percentile' },
    series: models.map(function (m) {
      return { name: m.name, type: 'line', step: 'end', showSymbol: false, data: m.cost.latency.cdf };
    })
  });

  // 3. Per-slice differences of the primary metric.
  var sliceName = name;
  var sliceIsDelta = !primary.vsBaseline;
  var slices = baseline.slices.slice(1, 41).map(function (s) { return s.slice; });
  if (slices.length > 0) {
    show(document.getElementById('slices'), {
      title: { text: (sliceIsDelta ? 'Δ ' : '') + sliceName + ' per slice', subtext: sliceIsDelta ? 'candidate − baseline on the same samples' : 'against the baseline', left: 10 },
      tooltip: { trigger: 'axis' },
      legend: { top: 50, right: 20 },
      grid: { left: 70, right: 30, top: 90, bottom: 110 },
      xAxis: { type: 'category', data: slices, axisLabel: { rotate: 35, interval: 0 } },
      yAxis: { type: 'value', scale: !sliceIsDelta },
      series: candidates.map(function (c) {
        return { name: c.name, type: 'bar', data: slices.map(function (n) {
          var s = c.slices.filter(function (x) { return x.slice === n; })[0];
          var e = metric(s, sliceName);
          if (!e) { return null; }
          var v = sliceIsDelta ? e.delta : e.value;
          var worst = c.worstSlice && c.worstSlice.slice === n;
          return worst ? { value: v, itemStyle: { borderColor: '#000', borderWidth: 2 } } : v;
        }), markLine: sliceIsDelta ? { silent: true, symbol: 'none', data: [{ yAxis: 0 }], lineStyle: { color: '#333' } } : undefined };
      })
    });
  }

  // 4. Per-class F1 differences and 5. confusion-difference heat maps (classification).
  var detail = all(baseline).classification;
  if (detail && detail.perClass && detail.perClass.length > 0) {
    show(document.getElementById('perclass'), {
      title: { text: 'Δ F1 per class', subtext: 'candidate − baseline', left: 10 },
      tooltip: { trigger: 'axis' },
      legend: { top: 50, right: 20 },
      grid: { left: 70, right: 30, top: 90, bottom: 90 },
      xAxis: { type: 'category', data: detail.classes, axisLabel: { rotate: 30, interval: 0 } },
      yAxis: { type: 'value' },
      series: candidates.map(function (c) {
        var d = all(c).classification;
        return { name: c.name, type: 'bar', data: detail.classes.map(function (x, i) {
          return d && d.perClass[i] ? d.perClass[i].f1Delta : null;
        }), markLine: { silent: true, symbol: 'none', data: [{ yAxis: 0 }], lineStyle: { color: '#333' } } };
      })
    });
    var grid = document.getElementById('charts');
    candidates.forEach(function (c) {
      var d = all(c).classification;
      if (!d || !d.confusionDelta) { return; }
      var data = [];
      var max = 0;
      d.confusionDelta.forEach(function (row, a) {
        row.forEach(function (v, p) { data.push([p, a, v]); max = Math.max(max, Math.abs(v)); });
      });
      var identical = max === 0;
      max = Math.max(max, 1);
      var el = document.createElement('div');
      el.className = 'chart';
      grid.appendChild(el);
      show(el, {
        title: { text: 'Confusion Δ: ' + c.name + ' − baseline', left: 10,
                 subtext: identical ? 'identical to the baseline: no sample changed cell'
                                    : 'rows: actual class, columns: predicted; red = more samples than the baseline' },
        tooltip: { formatter: function (p) {
          return 'actual ' + d.classes[p.value[1]] + ', predicted ' + d.classes[p.value[0]] + ': ' + (p.value[2] > 0 ? '+' : '') + p.value[2];
        } },
        grid: { left: 110, right: 90, top: 70, bottom: 90 },
        xAxis: { type: 'category', data: d.classes, name: 'predicted', nameLocation: 'middle', nameGap: 70, axisLabel: { rotate: 30, interval: 0 }, splitArea: { show: true } },
        yAxis: { type: 'category', data: d.classes, name: 'actual', nameLocation: 'middle', nameGap: 90, inverse: true, splitArea: { show: true } },
        visualMap: { min: -max, max: max, calculable: true, orient: 'vertical', right: 10, top: 'middle',
                     inRange: { color: ['#2166ac', '#f7f7f7', '#b2182b'] } },
        series: [{ type: 'heatmap', data: data,
                   label: { show: true, formatter: function (p) { return p.value[2] === 0 ? '' : String(p.value[2]); } } }]
      });
    });
  }
})();
