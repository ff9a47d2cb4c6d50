// DOM and formatting helpers. Data only ever reaches the page through textContent and
// attributes, never through HTML parsing: camera, zone and line names are typed by users.

const SVG_NS = "http://www.w3.org/2000/svg";

function applyProps(node, props) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.setAttribute("class", value);
    else if (key === "text") node.textContent = String(value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
}

function appendChildren(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Create an HTML element: h("td", {class: "num", text: 3}); strings become text nodes. */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  applyProps(node, props);
  return appendChildren(node, children);
}

/** Create an SVG element (the charts are drawn by hand, no library). */
export function s(tag, props = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  applyProps(node, props);
  return appendChildren(node, children);
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit", minute: "2-digit", second: "2-digit",
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit",
});
const shortDateTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit",
});

/** Local wall-clock time; the date is added when it is not today. */
export function formatTime(ms) {
  const date = new Date(ms);
  const today = new Date();
  return date.toDateString() === today.toDateString()
    ? timeFormat.format(date)
    : shortDateTimeFormat.format(date);
}

export const formatDateTime = (ms) => dateTimeFormat.format(new Date(ms));

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** "line.crossing" → "line crossing": event types read as words in the UI. */
export const typeLabel = (type) => String(type ?? "").replace(/[._]/g, " ");

/** The place an event happened: zone, or line with direction. */
export function placeLabel(event) {
  if (event.line) return event.direction ? `${event.line} · ${event.direction}` : event.line;
  return event.zone ?? "";
}

/** A value for <input type="datetime-local"> in the browser's time zone. */
export function toLocalInputValue(ms) {
  const date = new Date(ms);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
    + `T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Run `tick` now and every `ms` until the returned stop function is called. */
export function every(ms, tick) {
  let timer = null;
  let stopped = false;
  const run = async () => {
    try {
      await tick();
    } finally {
      if (!stopped) timer = setTimeout(run, ms);
    }
  };
  run();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** A message box in place of content that could not be loaded. */
export const errorBox = (message) => h("p", { class: "error-box", role: "alert", text: message });
