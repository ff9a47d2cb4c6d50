// Statistics page: per camera, a chart for every series its modules measure (zone occupancy,
// loitering, queue length, speed …) over the chosen period, with a CSV of the same rows.
import { fetchCameras, fetchSeries, seriesCsvUrl } from "./api.js";
import { PERIODS, field, periodPicker, select, setOptions } from "./controls.js";
import { errorBox, every, h } from "./dom.js";
import { lineChart, seriesPoints } from "./linechart.js";

const REFRESH_MS = 30000;
// Chart resolution per period (the store keeps minutes): 60, 96 and 84 points.
const INTERVAL_S = { "1h": 60, "24h": 900, "7d": 7200 };

const seriesKey = (row) => [row.module, row.metric, row.place, row.class_name].join("\u0000");
const seriesTitle = (row) => [row.metric.replace(/_/g, " "), row.place, row.class_name]
  .filter(Boolean).join(" · ");

function seriesCard(rows, range) {
  const first = rows[0];
  const latest = rows[rows.length - 1];
  return h("article", { class: "counter-card", "data-testid": "series-card",
    "data-metric": first.metric, "data-place": first.place },
  h("header", { class: "card-head" }, h("h3", { text: seriesTitle(first) }),
    h("span", { class: "kind", text: first.module }),
    h("span", { class: "totals" }, h("span", { class: "total" },
      h("b", { text: latest.mean.toFixed(1) }), " latest mean"))),
  h("div", { class: "chart-box" },
    lineChart({ points: seriesPoints(rows, range.start, range.end, range.intervalS),
      spanMs: range.spanMs, name: seriesTitle(first) })));
}

function cameraSection(camera, rows, range) {
  const groups = new Map();
  for (const row of rows) {
    const key = seriesKey(row);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(row);
  }
  const cards = [...groups.values()].map((group) => seriesCard(group, range));
  return h("section", { class: "counter-camera", "data-testid": "series-camera",
    "data-camera": camera.id },
  h("h2", { class: "section-title", text: camera.name || camera.id }),
  cards.length ? h("div", { class: "counter-grid" }, cards)
    : h("p", { class: "muted", text: "No statistics in this period." }));
}

export function mountDashboard(container) {
  let generation = 0;
  let cameras = [];
  const period = periodPicker({ period: "1h", custom: false, onChange: () => refresh() });
  const cameraChoice = select("camera", "All cameras", []);
  const csv = h("a", { class: "button", "data-testid": "series-csv", text: "Download CSV",
    download: "vigil-series.csv" });
  const problem = h("div");
  const list = h("div", { class: "counter-list" });
  container.append(
    h("form", { class: "toolbar", onsubmit: (submit) => { submit.preventDefault(); refresh(); } },
      period.element, field("Camera", cameraChoice), csv),
    problem, list);

  async function refresh() {
    const mine = ++generation;
    const { start, end } = period.range();
    const intervalS = INTERVAL_S[period.value.period];
    const query = { start, end, interval: intervalS, camera: cameraChoice.value };
    csv.href = seriesCsvUrl(query);
    try {
      const series = await fetchSeries(query);
      if (mine !== generation) return;
      problem.replaceChildren();
      const range = { start: Date.parse(start), end: Date.parse(end), intervalS,
        spanMs: PERIODS[period.value.period].ms };
      const shown = cameras.filter((camera) => !cameraChoice.value || camera.id === cameraChoice.value);
      list.replaceChildren(...(shown.length
        ? shown.map((camera) => cameraSection(camera,
          series.rows.filter((row) => row.camera_id === camera.id), range))
        : [h("p", { class: "empty", text: "No cameras configured yet." })]));
    } catch (error) {
      if (mine === generation) problem.replaceChildren(errorBox(`Statistics could not be loaded: ${error.message}`));
    }
  }

  cameraChoice.addEventListener("change", refresh);
  let stop = () => {};
  let mounted = true;
  (async () => {
    try {
      cameras = await fetchCameras();
    } catch (error) {
      problem.replaceChildren(errorBox(`Cameras could not be loaded: ${error.message}`));
      return;
    }
    if (!mounted) return;
    setOptions(cameraChoice, "All cameras", cameras.map((camera) => [camera.id, camera.name]));
    stop = every(REFRESH_MS, refresh);
  })();
  return () => {
    mounted = false;
    generation += 1;
    stop();
  };
}
