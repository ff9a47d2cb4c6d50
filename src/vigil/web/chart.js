// A small hand-drawn SVG bar chart: counts per interval, "in" above the axis, "out" below.
import { s } from "./dom.js";

// About the size the chart is shown at, so its 10px labels stay readable.
const WIDTH = 440;
const HEIGHT = 140;
const MARGIN = { top: 10, right: 6, bottom: 20, left: 28 };
const X_LABELS = 5;

const clockFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", hour: "2-digit" });

/**
 * @param buckets  [{t: epoch ms, up: n, down: n}], consecutive and in time order
 * @param labels   {up, down}: what the two directions mean, e.g. {up: "in", down: "out"}
 * @param spanMs   length of the period, to pick the time label format
 */
export function barChart({ buckets, labels, spanMs, name }) {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const maxUp = Math.max(0, ...buckets.map((b) => b.up));
  const maxDown = Math.max(0, ...buckets.map((b) => b.down));
  const total = maxUp + maxDown || 1;
  const scale = plotHeight / total;
  const axisY = MARGIN.top + maxUp * scale + (maxUp + maxDown === 0 ? plotHeight : 0);
  const slot = plotWidth / Math.max(buckets.length, 1);
  const barWidth = Math.max(1, slot * 0.8);
  const timeLabel = (ms) => (spanMs > 36 * 3600 * 1000 ? dayFormat : clockFormat).format(new Date(ms));

  const svg = s("svg", {
    class: "chart", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "data-testid": "counts-chart",
    "aria-label": `${name}: counts per interval`,
  });
  svg.append(s("line", { class: "chart-axis", x1: MARGIN.left, x2: WIDTH - MARGIN.right,
    y1: axisY, y2: axisY }));

  buckets.forEach((bucket, index) => {
    const x = MARGIN.left + index * slot + (slot - barWidth) / 2;
    const tip = `${timeLabel(bucket.t)} · ${labels.up} ${bucket.up}`
      + (labels.down ? ` · ${labels.down} ${bucket.down}` : "");
    if (bucket.up > 0) {
      svg.append(s("rect", { class: "bar bar-up", x, width: barWidth, y: axisY - bucket.up * scale,
        height: bucket.up * scale }, s("title", { text: tip })));
    }
    if (bucket.down > 0) {
      svg.append(s("rect", { class: "bar bar-down", x, width: barWidth, y: axisY,
        height: bucket.down * scale }, s("title", { text: tip })));
    }
  });

  const every = Math.max(1, Math.ceil(buckets.length / X_LABELS));
  buckets.forEach((bucket, index) => {
    if (index % every !== 0) return;
    svg.append(s("text", { class: "chart-label", x: MARGIN.left + index * slot + slot / 2,
      y: HEIGHT - 6, "text-anchor": "middle", text: timeLabel(bucket.t) }));
  });

  const yLabel = (y, text) => s("text", { class: "chart-label", x: MARGIN.left - 6, y,
    "text-anchor": "end", "dominant-baseline": "middle", text });
  if (maxUp > 0) svg.append(yLabel(MARGIN.top + 4, String(maxUp)));
  if (maxDown > 0) svg.append(yLabel(HEIGHT - MARGIN.bottom - 4, String(maxDown)));
  svg.append(yLabel(axisY, "0"));
  if (maxUp + maxDown === 0) {
    svg.append(s("text", { class: "chart-empty", x: MARGIN.left + plotWidth / 2,
      y: MARGIN.top + plotHeight / 2, "text-anchor": "middle", text: "No counts in this period" }));
  }
  return svg;
}

/**
 * Consecutive buckets from `start` to `end` (epoch ms) at `intervalS`, filled from rows
 * {bucket_start (ISO), direction, count}. `up` counts direction "in" and direction-less rows
 * (zone entries), `down` counts "out".
 */
export function bucketize(rows, start, end, intervalS) {
  const step = intervalS * 1000;
  const first = Math.floor(start / step) * step;
  const count = Math.max(1, Math.ceil((end - first) / step));
  const buckets = Array.from({ length: count }, (_, index) => ({ t: first + index * step, up: 0, down: 0 }));
  for (const row of rows) {
    const index = Math.floor((Date.parse(row.bucket_start) - first) / step);
    if (index < 0 || index >= count) continue;
    if (row.direction === "out") buckets[index].down += row.count;
    else buckets[index].up += row.count;
  }
  return buckets;
}
