// Occupancy dashboard charts, drawn with the vendored Chart.js from data in a JSON script tag.
(function () {
  "use strict";
  const source = document.getElementById("chart-data");
  if (!source || !window.Chart) { return; }
  const data = JSON.parse(source.textContent);
  const admissions = document.getElementById("admissions-chart");
  if (admissions) {
    new window.Chart(admissions, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ label: "Admissions per day", data: data.admissions, backgroundColor: "#0b5cad" }] },
      options: { animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }
  const utilisation = document.getElementById("utilisation-chart");
  if (utilisation) {
    new window.Chart(utilisation, {
      type: "bar",
      data: { labels: data.kinds, datasets: [{ label: "Utilisation %", data: data.utilisation, backgroundColor: "#b3261e" }] },
      options: { animation: false, scales: { y: { beginAtZero: true, max: 100 } } }
    });
  }
})();
