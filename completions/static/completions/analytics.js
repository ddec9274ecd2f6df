// Draws the analytics page's charts from the data the page carries in #analytics-charts
// (json_script): no inline script, as the Content-Security-Policy allows none.
"use strict";

(function () {
  const COLOURS = ["#417690", "#79aec8", "#ba2121", "#e8a33d", "#5b8c5a", "#8e6bb8"];

  function cssVar(name, fallback) {
    const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function draw() {
    const source = document.getElementById("analytics-charts");
    if (!source || typeof Chart === "undefined") {
      return;
    }
    const text = cssVar("--body-fg", "#333");
    const grid = cssVar("--hairline-color", "#e8e8e8");
    for (const chart of JSON.parse(source.textContent)) {
      const canvas = document.querySelector(`canvas[data-chart="${chart.id}"]`);
      if (!canvas) {
        continue;
      }
      const stacked = chart.type === "bar";
      const scales = {
        x: { stacked, ticks: { color: text, maxTicksLimit: 10 }, grid: { color: grid } },
        y: { stacked, beginAtZero: true, ticks: { color: text, precision: 0 }, grid: { color: grid } },
      };
      if (chart.series.some((series) => series.right)) {
        scales.right = {
          position: "right",
          beginAtZero: true,
          ticks: { color: text, precision: 0 },
          grid: { drawOnChartArea: false },
        };
      }
      new Chart(canvas, {
        type: chart.type,
        data: {
          labels: chart.labels,
          datasets: chart.series.map((series, index) => ({
            label: series.label,
            data: series.data,
            borderColor: COLOURS[index % COLOURS.length],
            backgroundColor: COLOURS[index % COLOURS.length],
            pointRadius: 0,
            borderWidth: 2,
            yAxisID: series.right ? "right" : "y",
          })),
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          interaction: { mode: "index", intersect: false },
          plugins: { legend: { labels: { color: text, boxWidth: 12 } } },
          scales,
        },
      });
      canvas.dataset.drawn = "true";
    }
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
