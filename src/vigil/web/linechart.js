// A small hand-drawn SVG line chart of a statistics series: the mean per interval as a line,
// with the minimum-to-maximum range as a band behind it. Gaps (no samples) break the line.
import { s } from "./dom.js";

const WIDTH = 440;
const HEIGHT = 140;
const MARGIN = { top: 10, right: 6, bottom: 20, left: 34 };
const X_LABELS = 5;

const clockFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", hour: "2-digit" });
const number = (value) => (Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(1));

/**
 * @param points  [{t: epoch ms, mean, min, max} | {t, mean: null}] consecutive, in time order
 * @param spanMs  length of the period, to pick the time label format
 */
export function lineChart({ points, spanMs, name }) {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const known = points.filter((point) => point.mean !== null);
  const top = Math.max(1, ...known.map((point) => point.max));
  const slot = plotWidth / Math.max(points.length - 1, 1);
  const x = (index) => MARGIN.left + index * slot;
  const y = (value) => MARGIN.top + plotHeight - (value / top) * plotHeight;
  const timeLabel = (ms) => (spanMs > 36 * 3600 * 1000 ? dayFormat : clockFormat).format(new Date(ms));

  const svg = s("svg", {
    class: "chart", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "data-testid": "series-chart",
    "aria-label": `${name}: mean per interval`,
  });
  svg.append(s("line", { class: "chart-axis", x1: MARGIN.left, x2: WIDTH - MARGIN.right,
    y1: y(0), y2: y(0) }));

  // Runs of consecutive points with samples become one band and one line each.
  let run = [];
  const flush = () => {
    if (run.length) {
      const upper = run.map(({ index, point }) => `${x(index)},${y(point.max)}`);
      const lower = run.map(({ index, point }) => `${x(index)},${y(point.min)}`).reverse();
      svg.append(s("polygon", { class: "band", points: [...upper, ...lower].join(" ") }));
      svg.append(s("polyline", { class: "series-line",
        points: run.map(({ index, point }) => `${x(index)},${y(point.mean)}`).join(" ") }));
      for (const { index, point } of run) {
        svg.append(s("circle", { class: "series-dot", cx: x(index), cy: y(point.mean), r: 1.5 },
          s("title", { text: `${timeLabel(point.t)} · mean ${number(point.mean)} · `
            + `min ${number(point.min)} · max ${number(point.max)}` })));
      }
    }
    run = [];
  };
  points.forEach((point, index) => (point.mean === null ? flush() : run.push({ index, point })));
  flush();

  const every = Math.max(1, Math.ceil(points.length / X_LABELS));
  points.forEach((point, index) => {
    if (index % every !== 0) return;
    svg.append(s("text", { class: "chart-label", x: x(index), y: HEIGHT - 6,
      "text-anchor": "middle", text: timeLabel(point.t) }));
  });
  const yLabel = (value) => s("text", { class: "chart-label", x: MARGIN.left - 6, y: y(value),
    "text-anchor": "end", "dominant-baseline": "middle", text: number(value) });
  svg.append(yLabel(0), yLabel(top));
  if (!known.length) {
    svg.append(s("text", { class: "chart-empty", x: MARGIN.left + plotWidth / 2,
      y: MARGIN.top + plotHeight / 2, "text-anchor": "middle", text: "No samples in this period" }));
  }
  return svg;
}

/** Consecutive points from `start` to `end` at `intervalS`, filled from API series rows. */
export function seriesPoints(rows, start, end, intervalS) {
  const step = intervalS * 1000;
  const first = Math.floor(start / step) * step;
  const count = Math.max(1, Math.ceil((end - first) / step));
  const points = Array.from({ length: count }, (_, index) => ({ t: first + index * step, mean: null }));
  for (const row of rows) {
    const index = Math.floor((Date.parse(row.bucket_start) - first) / step);
    if (index >= 0 && index < count) points[index] = { t: points[index].t, mean: row.mean,
      min: row.min, max: row.max };
  }
  return points;
}
