// Counters page: per camera, per line and zone, counts for the chosen period (/api/counts,
// charted per interval) beside the live counters the pipeline keeps (/stats, polled).
import { fetchCameras, fetchCounts, fetchStats } from "./api.js";
import { barChart, bucketize } from "./chart.js";
import { field, PERIODS, periodPicker, select, setOptions } from "./controls.js";
import { errorBox, every, h } from "./dom.js";

const STATS_POLL_MS = 2000;
const COUNTS_POLL_MS = 30000;
// Chart resolution per period: 60, 96 and 56 bars.
const INTERVAL_S = { "1h": 60, "24h": 900, "7d": 10800 };

const sum = (values) => values.reduce((total, value) => total + value, 0);

function legend(labels) {
  return h("div", { class: "legend" },
    h("span", { class: "key key-up", text: labels.up }),
    labels.down ? h("span", { class: "key key-down", text: labels.down }) : null);
}

/** A card for one line: period and live in/out per class, and the period chart. */
function lineCard(line) {
  const period = new Map();
  let live = {};
  const totals = h("div", { class: "totals" });
  const body = h("tbody");
  const chartBox = h("div", { class: "chart-box" });
  const labels = { up: "in", down: "out" };
  const element = h("article", { class: "counter-card", "data-testid": "line-card",
    "data-line": line.name },
  h("header", { class: "card-head" }, h("h3", { text: line.name }),
    h("span", { class: "kind", text: "line" }), totals),
  h("table", { class: "counts" },
    h("thead", {},
      h("tr", {}, h("th", { class: "col-class", rowspan: 2, scope: "col", text: "Class" }),
        h("th", { colspan: 2, scope: "colgroup", text: "Period" }),
        h("th", { colspan: 2, scope: "colgroup", text: "Live total" })),
      h("tr", {}, ["in", "out", "in", "out"].map((label) => h("th", { scope: "col", text: label })))),
    body),
  chartBox, legend(labels));

  function render() {
    const classes = [...new Set([...period.keys(), ...Object.keys(live)])].sort();
    body.replaceChildren(...(classes.length ? classes.map((name) => {
      const counted = period.get(name) ?? { in: 0, out: 0 };
      const now = live[name] ?? {};
      return h("tr", {}, h("th", { scope: "row", text: name }),
        h("td", { class: "num", text: counted.in }), h("td", { class: "num", text: counted.out }),
        h("td", { class: "num live", text: now.in ?? 0 }),
        h("td", { class: "num live", text: now.out ?? 0 }));
    }) : [h("tr", {}, h("td", { colspan: 5, class: "muted", text: "Nothing counted yet" }))]));
    const all = [...period.values()];
    totals.replaceChildren(
      h("span", { class: "total total-up" }, h("b", { text: sum(all.map((c) => c.in)) }), " in"),
      h("span", { class: "total total-down" }, h("b", { text: sum(all.map((c) => c.out)) }), " out"));
  }

  render();
  return {
    element,
    setPeriod(rows, range) {
      period.clear();
      for (const row of rows) {
        const counted = period.get(row.class_name) ?? { in: 0, out: 0 };
        if (row.direction === "in" || row.direction === "out") counted[row.direction] += row.count;
        period.set(row.class_name, counted);
      }
      chartBox.replaceChildren(barChart({ ...range, labels, name: line.name }));
      render();
    },
    setLive(stats) {
      live = stats.line?.[line.name] ?? {};
      render();
    },
  };
}

/** A card for one zone: live occupancy and module counters, period entries charted. */
function zoneCard(zone) {
  const chips = h("div", { class: "chips", "data-testid": "zone-live" });
  const chartBox = h("div", { class: "chart-box" });
  const totals = h("div", { class: "totals" });
  const labels = { up: "entries" };
  const element = h("article", { class: "counter-card", "data-testid": "zone-card",
    "data-zone": zone.name },
  h("header", { class: "card-head" }, h("h3", { text: zone.name }),
    h("span", { class: "kind", text: "zone" }), totals),
  chips, chartBox, legend(labels));

  return {
    element,
    setPeriod(rows, range) {
      totals.replaceChildren(h("span", { class: "total total-up" },
        h("b", { text: sum(rows.map((row) => row.count)) }), " entries"));
      chartBox.replaceChildren(barChart({ ...range, labels, name: zone.name }));
    },
    setLive(stats) {
      // Every module that keeps numbers per zone (zone: occupancy, entries; loitering: …).
      const pairs = Object.values(stats).flatMap((perPlace) => {
        const values = perPlace?.[zone.name];
        if (!values || typeof values !== "object") return [];
        return Object.entries(values).filter(([, value]) => typeof value === "number");
      });
      chips.replaceChildren(...(pairs.length
        ? pairs.map(([label, value]) => h("span", { class: "chip" }, h("b", { text: value }), ` ${label}`))
        : [h("span", { class: "muted", text: "No live counters" })]));
    },
  };
}

function cameraSection(camera) {
  const cards = [
    ...(camera.lines ?? []).map((line) => ({ kind: "line", name: line.name, card: lineCard(line) })),
    ...(camera.zones ?? []).map((zone) => ({ kind: "zone", name: zone.name, card: zoneCard(zone) })),
  ];
  const element = h("section", { class: "counter-camera", "data-testid": "counter-camera",
    "data-camera-id": camera.id },
  h("h2", { class: "section-title", text: camera.name || camera.id }),
  cards.length ? h("div", { class: "counter-grid" }, cards.map((item) => item.card.element))
    : h("p", { class: "muted", text: "This camera has no lines or zones." }));
  return {
    element,
    camera,
    setPeriod(rows, range) {
      for (const { kind, name, card } of cards) {
        const mine = rows.filter((row) => row.camera_id === camera.id && row[kind] === name);
        card.setPeriod(mine, { ...range, buckets: bucketize(mine, range.start, range.end, range.intervalS) });
      }
    },
    setLive(stats) {
      for (const { card } of cards) card.setLive(stats);
    },
  };
}

export function mountCounters(container) {
  let sections = [];
  let generation = 0;
  const period = periodPicker({ period: "1h", custom: false, onChange: () => refreshCounts() });
  const cameraChoice = select("camera", "All cameras", []);
  const classChoice = h("input", { name: "class", list: "count-classes", placeholder: "any",
    autocomplete: "off" });
  const problem = h("div");
  const list = h("div", { class: "counter-list" });
  container.append(
    h("form", { class: "toolbar", onsubmit: (submit) => { submit.preventDefault(); refreshCounts(); } },
      period.element, field("Camera", cameraChoice), field("Class", classChoice),
      h("datalist", { id: "count-classes" },
        ["person", "bicycle", "car", "motorcycle", "bus", "truck"].map((name) => h("option", { value: name })))),
    problem, list);

  async function refreshCounts() {
    const mine = ++generation;
    const { start, end } = period.range();
    const intervalS = INTERVAL_S[period.value.period];
    try {
      const counts = await fetchCounts({ start, end, interval: intervalS,
        camera: cameraChoice.value, class: classChoice.value.trim() });
      if (mine !== generation) return;
      problem.replaceChildren();
      const range = { start: Date.parse(start), end: Date.parse(end), intervalS,
        spanMs: PERIODS[period.value.period].ms };
      for (const section of sections) section.setPeriod(counts.rows ?? [], range);
    } catch (error) {
      if (mine === generation) problem.replaceChildren(errorBox(`Counts could not be loaded: ${error.message}`));
    }
  }

  async function refreshLive() {
    await Promise.all(sections.map(async (section) => {
      try {
        section.setLive(await fetchStats(section.camera.id));
      } catch {
        // A camera that was just removed or is restarting has no stats; the next poll retries.
      }
    }));
  }

  let cameras = [];
  function build() {
    const chosen = cameraChoice.value;
    sections = cameras.filter((camera) => !chosen || camera.id === chosen).map(cameraSection);
    list.replaceChildren(...(sections.length ? sections.map((section) => section.element)
      : [h("p", { class: "empty", text: "No cameras configured yet." })]));
  }
  cameraChoice.addEventListener("change", () => {
    build();
    refreshCounts();
    refreshLive();
  });
  classChoice.addEventListener("change", refreshCounts);

  let mounted = true;
  let stopLive = () => {};
  let stopCounts = () => {};
  (async () => {
    try {
      cameras = await fetchCameras();
    } catch (error) {
      problem.replaceChildren(errorBox(`Cameras could not be loaded: ${error.message}`));
      return;
    }
    if (!mounted) return;
    setOptions(cameraChoice, "All cameras", cameras.map((camera) => [camera.id, camera.name || camera.id]));
    build();
    stopLive = every(STATS_POLL_MS, refreshLive);
    stopCounts = every(COUNTS_POLL_MS, refreshCounts);
  })();

  return () => {
    mounted = false;
    generation += 1;
    stopLive();
    stopCounts();
  };
}
