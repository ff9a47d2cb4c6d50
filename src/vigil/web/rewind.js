// Multi-camera rewind for the live wall: every tile goes back to the same past moment and
// plays its recording from there, together, until "Live" brings them all back. The pictures
// are the server's recordings — masked and face-blurred like everything Vigil serves.
import { h } from "./dom.js";

const STEPS = [["−30 s", 30_000], ["−2 min", 120_000], ["−10 min", 600_000]];

/** A datetime-local value (the browser's time zone) to epoch ms, or null when empty/invalid. */
const fromLocal = (value) => {
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : null;
};

/**
 * @param onMoment called with the past moment (epoch ms) every tile starts playing from, or
 *                 null when the wall goes back to live
 */
export function createRewind(onMoment) {
  let from = null;   // the moment the wall went back to
  let began = 0;     // performance.now() then: the wall's clock runs from `from` in real time
  let ticker = null;

  const clock = h("output", { class: "rewind-clock", "data-testid": "rewind-clock",
    "aria-live": "off" });
  const at = h("input", { type: "datetime-local", step: "1", "aria-label": "Moment to rewind to",
    "data-testid": "rewind-at" });
  const live = h("button", { type: "button", class: "rewind-live", text: "Back to live",
    "data-testid": "rewind-live", hidden: true, onclick: () => go(null) });
  const element = h("div", { class: "rewind-bar", role: "group",
    "aria-label": "Rewind every camera together", "data-testid": "rewind-bar" },
    h("span", { class: "rewind-label", text: "Rewind all:" }),
    ...STEPS.map(([label, back]) => h("button", { type: "button", text: label,
      title: `Every camera ${label.slice(1)} back`, onclick: () => go(moment() - back) })),
    at,
    h("button", { type: "button", text: "Go", "data-testid": "rewind-go",
      onclick: () => { const ms = fromLocal(at.value); if (ms !== null) go(ms); } }),
    live, clock);

  /** The moment the wall shows now: live is now, a rewound wall runs on from where it went. */
  function moment() {
    return from === null ? Date.now() : Math.round(from + (performance.now() - began));
  }

  function show() {
    const past = from !== null;
    element.dataset.past = String(past);
    live.hidden = !past;
    clock.textContent = past ? new Date(moment()).toLocaleString() : "";
    clock.dataset.ms = past ? String(moment()) : "";
  }

  function go(ms) {
    clearInterval(ticker);
    ticker = null;
    from = ms === null ? null : Math.min(Math.round(ms), Date.now());
    began = performance.now();
    if (from !== null) ticker = setInterval(show, 250);
    show();
    onMoment(from);
  }

  show();
  return {
    element,
    /** Where a tile that appears now should start: null while the wall is live. */
    current: () => (from === null ? null : moment()),
    stop: () => clearInterval(ticker),
  };
}

/**
 * Plays a camera's recording into `image` on a clock: each frame asked for is the one recorded
 * at the clock's moment then (`url(ms)`), at most `fps` a second. A frame the server is slow
 * to redact costs that frame only — the next one is the clock's moment again, skipping what
 * was missed — so a rewound tile never falls behind the wall (a paced stream would, frame by
 * frame). The image's `data-frame-ms` is the recorded time of the frame it shows, and
 * `data-asked-ms` the clock's moment it was asked for.
 * @returns stop()
 */
export function playOnClock(image, url, clock, fps, onFail) {
  let stopped = false;
  let timer = null;
  async function next() {
    const asked = performance.now();
    const moment = clock();
    try {
      const response = await fetch(url(moment), { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const frame = await dataUrl(await response.blob());
      if (stopped) return;
      image.dataset.askedMs = String(moment);
      image.dataset.frameMs = String(Date.parse(response.headers.get("X-Vigil-Frame-Time")));
      image.src = frame;
      timer = setTimeout(next, Math.max(0, 1000 / fps - (performance.now() - asked)));
    } catch {
      if (!stopped) onFail();
    }
  }
  next();
  return () => {
    stopped = true;
    clearTimeout(timer);
    delete image.dataset.frameMs;
    delete image.dataset.askedMs;
  };
}

/** A fetched picture as a data: URL — the pages' Content-Security-Policy allows no blob: images. */
const dataUrl = (blob) => new Promise((resolve, reject) => {
  const reader = new FileReader();
  reader.onload = () => resolve(reader.result);
  reader.onerror = () => reject(reader.error);
  reader.readAsDataURL(blob);
});
