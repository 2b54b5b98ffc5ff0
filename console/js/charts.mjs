// Chart.js (vendor/chart.umd.min.js, from the npm package) with animations off: live updates
// replace the data and redraw at once. Every chart's canvas has role="img" and an aria-label
// holding its figures in words; the same figures are in a table beside it.

const palette = ['#0b4f8a', '#d1495b', '#2a9d8f', '#e9a03b', '#6a4c93', '#3d5a80', '#8d6a9f',
                 '#588157', '#bc6c25', '#264653'];

function chartLibrary() {
  return window.Chart || null;
}

// Creates or updates the chart on `canvas`. kind: 'bar', 'line' or 'doughnut'.
export function drawChart(canvas, {kind, labels, datasets, horizontal = false, label}) {
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  canvas.textContent = label;  // fallback content when canvas is not drawn
  const Chart = chartLibrary();
  if (!Chart) return null;
  const data = {
    labels,
    datasets: datasets.map((dataset, index) => ({
      ...dataset,
      backgroundColor: kind === 'doughnut' ? palette.slice(0, labels.length) : palette[index],
      borderColor: kind === 'line' ? palette[index] : undefined,
      pointRadius: kind === 'line' ? 2 : undefined,
    })),
  };
  const existing = Chart.getChart(canvas);
  if (existing && existing.config.type === kind) {
    existing.data = data;
    existing.update('none');
    return existing;
  }
  if (existing) existing.destroy();
  return new Chart(canvas, {
    type: kind,
    data,
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: horizontal ? 'y' : 'x',
      plugins: {legend: {display: kind === 'doughnut' || datasets.length > 1}},
      scales: kind === 'doughnut' ? {} : horizontal
          ? {x: {beginAtZero: true}, y: {ticks: {autoSkip: false}}}
          : {x: {ticks: {autoSkip: true}}, y: {beginAtZero: true}},
    },
  });
}

export function destroyCharts(root) {
  const Chart = chartLibrary();
  if (!Chart) return;
  for (const canvas of root.querySelectorAll('canvas')) Chart.getChart(canvas)?.destroy();
}
