// Draws every <canvas data-chart="ID"> with Chart.js from the JSON in
// <script type="application/json" id="ID"> (mailings.charts). Colours: the
// series keep fixed mid-tones that read on light and dark backgrounds; text
// and grid take the colour of the surrounding page, and are redrawn when the
// colour scheme changes. No inline script, no eval: CSP-friendly.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") { return; }
  var SERIES = {sent: "#2f9e61", failed: "#d9485f", rate: "#3b82c4", retry: "#d99a1e"};
  var charts = [];

  function textColour(canvas) {
    return window.getComputedStyle(canvas.parentElement).color || "#777";
  }

  function withAlpha(colour, alpha) {
    var m = colour.match(/\d+(\.\d+)?/g);
    return m && m.length >= 3 ? "rgba(" + m[0] + "," + m[1] + "," + m[2] + "," + alpha + ")" : colour;
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var text = textColour(canvas);
    var grid = withAlpha(text, 0.15);
    var small = window.matchMedia("(max-width: 576px)").matches;
    var config = {
      type: data.kind,
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s) {
          return {label: s.label, data: s.values, backgroundColor: SERIES[s.key] || "#888", borderColor: SERIES[s.key] || "#888", borderWidth: 0};
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        color: text,
        plugins: {legend: {labels: {color: text}}, tooltip: {enabled: true}},
        scales: {
          x: {stacked: data.stacked, ticks: {color: text, maxRotation: 60, autoSkip: true, maxTicksLimit: small ? 6 : 15}, grid: {color: grid}},
          y: {stacked: data.stacked, beginAtZero: true, max: data.percent ? 100 : undefined, ticks: {color: text, precision: 0}, grid: {color: grid}}
        }
      }
    };
    charts.push(new window.Chart(canvas, config));
  }

  function drawAll() {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  drawAll();
  var scheme = window.matchMedia("(prefers-color-scheme: dark)");
  if (scheme.addEventListener) { scheme.addEventListener("change", drawAll); }
})();
