// Playback page: one camera's timeline (recorded ranges, gaps, event markers coloured by type)
// and a player. Every picture comes from the server already masked and face-blurred: paused
// and stepping show single frames (frame.jpg), playing is an MJPEG stream paced at 1×/2×/4×.
import { fetchCameras, getJson } from "./api.js";
import { errorBox, formatDateTime, h, typeLabel } from "./dom.js";
import { can } from "./login.js";

const SPANS = { "10 min": 600_000, "1 h": 3_600_000, "24 h": 86_400_000 };
const STEP_MS = 1000;
const PLAY_WIDTH = 960;
const RECENT_MS = 120_000;  // a missing frame this recent may still be on its way to the index
const FRAME_RETRY_MS = 2000;
const FRAME_RETRIES = 15;  // 30 s: more than a batch of segments takes to be written

const recordingPath = (camera, rest) =>
  `/api/recordings/${encodeURIComponent(camera)}/${rest}`;
const query = (params) => new URLSearchParams(params).toString();
const isoOf = (ms) => new Date(ms).toISOString();

/** A stable colour per event type, so one type reads the same on every timeline. */
function typeColour(type) {
  let hash = 0;
  for (const char of String(type)) hash = (hash * 31 + char.charCodeAt(0)) % 360;
  return `hsl(${hash} 70% 55%)`;
}

export function mountPlayback(container) {
  const cameraSelect = h("select", { "aria-label": "Camera", "data-testid": "playback-camera" });
  const spanSelect = h("select", { "aria-label": "Timeline span" },
    ...Object.keys(SPANS).map((label) => h("option", { value: label, text: label })));
  const bar = h("div", { class: "timeline-bar", "data-testid": "timeline",
    role: "slider", "aria-label": "Timeline: click to seek" });
  const cursor = h("div", { class: "timeline-cursor" });
  const image = h("img", { class: "playback-image", alt: "Recorded frame (faces blurred)",
    "data-testid": "playback-image" });
  const clock = h("output", { class: "playback-clock", "data-testid": "playback-clock" });
  const message = h("div", { class: "playback-message" });
  const speed = h("select", { "aria-label": "Speed", "data-testid": "playback-speed" },
    ...[1, 2, 4].map((value) => h("option", { value, text: `${value}×` })));
  const playButton = h("button", { type: "button", "data-testid": "playback-play", text: "Play" });
  const clipLink = h("a", { class: "button", "data-testid": "playback-clip", text: "Clip (30 s)",
    download: "" });
  const exportButton = h("button", { type: "button", "data-testid": "playback-export",
    text: "Export evidence (10 s)", hidden: !can("export") });
  const exportStatus = h("output", { class: "playback-export", "data-testid": "export-status" });
  const button = (label, title, action) =>
    h("button", { type: "button", title, "aria-label": title, text: label, onclick: action });

  let timeline = null;  // the last timeline fetched: {start, end, recorded, events}
  let position = null;  // ms of the moment shown
  let playing = false;
  let playStarted = 0;  // performance.now() when the stream started, for the clock
  let playFrom = 0;
  let ticker = null;
  let frameRetry = null;  // timer that asks again for a frame not yet written

  container.append(h("section", { class: "playback", "aria-label": "Playback" },
    h("div", { class: "playback-toolbar" }, cameraSelect, spanSelect, clock),
    message,
    h("div", { class: "playback-view" }, image),
    h("div", { class: "playback-controls" },
      button("◂ Event", "Previous event", () => jumpEvent(-1)),
      button("−1 s", "Step back", () => seek(position - STEP_MS)),
      playButton,
      button("+1 s", "Step forward", () => seek(position + STEP_MS)),
      button("Event ▸", "Next event", () => jumpEvent(1)),
      speed, clipLink, exportButton, exportStatus),
    h("div", { class: "timeline" }, bar)));

  const spanMs = () => SPANS[spanSelect.value];
  const camera = () => cameraSelect.value;

  function place(ms) {
    const { start, end } = timeline;
    return `${(100 * (ms - start)) / (end - start)}%`;
  }

  function drawTimeline() {
    const { recorded, events } = timeline;
    // Positions go through the CSSOM: the page's CSP refuses inline style attributes.
    const blocks = recorded.map((range) => {
      const block = h("div", {
        class: "timeline-recorded", "data-testid": "timeline-recorded",
        title: `${formatDateTime(range.start)} – ${formatDateTime(range.end)}`,
      });
      block.style.left = place(range.start);
      block.style.width = `calc(${place(range.end)} - ${place(range.start)})`;
      return block;
    });
    const markers = events.map((event) => {
      const marker = h("button", {
        type: "button", class: "timeline-event", "data-testid": "timeline-event",
        "data-start": event.start, title: `${typeLabel(event.type)} · ${formatDateTime(event.start)}`,
        "aria-label": `Jump to ${typeLabel(event.type)} at ${formatDateTime(event.start)}`,
        onclick: (click) => { click.stopPropagation(); seek(event.start); },
      });
      marker.style.left = place(event.start);
      marker.style.background = typeColour(event.type);
      return marker;
    });
    bar.replaceChildren(...blocks, ...markers, cursor);
    message.replaceChildren(recorded.length ? "" : errorBox(
      "Nothing recorded in this span (is recording on for this camera?)"));
  }

  async function loadTimeline() {
    const end = Date.now();
    try {
      const body = await getJson(recordingPath(camera(), "timeline"),
        { start: isoOf(end - spanMs()), end: isoOf(end) });
      timeline = {
        start: Date.parse(body.start), end: Date.parse(body.end),
        recorded: body.recorded.map((r) => ({ start: Date.parse(r.start), end: Date.parse(r.end) })),
        events: body.events.map((e) => ({ ...e, start: Date.parse(e.start) })),
      };
    } catch (error) {
      message.replaceChildren(errorBox(error.message));
      return;
    }
    drawTimeline();
    if (position === null && timeline.recorded.length) seek(timeline.recorded.at(-1).start);
  }

  function showPosition() {
    if (position === null || timeline === null) return;
    clock.textContent = formatDateTime(position);
    clock.dataset.ms = String(position);
    cursor.style.left = place(Math.min(Math.max(position, timeline.start), timeline.end));
    clipLink.href = `${recordingPath(camera(), "clip.mp4")}?${query({
      start: isoOf(position - 15_000), end: isoOf(position + 15_000), download: true })}`;
  }

  function stopStream() {
    clearInterval(ticker);
    clearTimeout(frameRetry);
    ticker = null;
    image.removeAttribute("src");
  }

  const covered = (ms) => timeline.recorded.some((range) => range.start <= ms && ms <= range.end);

  // The newest seconds of a recording are indexed in batches (docs/recording.md), so a moment
  // just past, such as the latest event's, may not be on the timeline yet: say so, and look
  // again for a while rather than ask for a frame that is not there.
  function showFrame(attempt = 0) {
    clearTimeout(frameRetry);
    if (timeline !== null && !covered(position)) {
      image.removeAttribute("src");
      if (Date.now() - position < RECENT_MS && attempt < FRAME_RETRIES) {
        message.replaceChildren(h("p", { class: "muted", role: "status", "data-testid": "playback-pending",
          text: "This moment is still being written to the recording; it shows in a few seconds." }));
        frameRetry = setTimeout(async () => {
          await loadTimeline();
          if (!playing) showFrame(attempt + 1);
        }, FRAME_RETRY_MS);
      } else {
        message.replaceChildren(errorBox("Nothing recorded at this moment."));
      }
      return;
    }
    message.replaceChildren();
    image.src = `${recordingPath(camera(), "frame.jpg")}?${query({
      at: isoOf(position), width: PLAY_WIDTH })}`;
  }

  function seek(ms) {
    position = Math.round(ms);
    if (playing) {
      startStream();
    } else {
      stopStream();
      showFrame();
    }
    showPosition();
  }

  function startStream() {
    stopStream();
    playFrom = position;
    playStarted = performance.now();
    image.src = `${recordingPath(camera(), "play.mjpeg")}?${query({
      start: isoOf(position), speed: speed.value, width: PLAY_WIDTH })}`;
    // The clock follows the stream at its speed (gaps on the server are skipped).
    ticker = setInterval(() => {
      position = Math.round(playFrom + (performance.now() - playStarted) * Number(speed.value));
      showPosition();
    }, 250);
  }

  function setPlaying(on) {
    playing = on;
    playButton.textContent = on ? "Pause" : "Play";
    playButton.setAttribute("aria-pressed", String(on));
    seek(position ?? Date.now() - spanMs());
  }

  function jumpEvent(direction) {
    if (!timeline?.events.length) return;
    const starts = timeline.events.map((e) => e.start).sort((a, b) => a - b);
    const target = direction > 0
      ? starts.find((t) => t > position + 500)
      : starts.reverse().find((t) => t < position - 500);
    if (target !== undefined) seek(target);
  }

  // Evidence export: the server encodes a face-blurred MP4 and audits its SHA-256, which is
  // shown here so the investigator can note it beside the file.
  async function exportEvidence() {
    if (position === null) return;
    exportButton.disabled = true;
    exportStatus.replaceChildren(h("progress", { "aria-label": "Exporting" }), " exporting…");
    try {
      const response = await fetch(recordingPath(camera(), "export"), {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ start: isoOf(position - 5_000), end: isoOf(position + 5_000) }),
      });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        throw new Error(typeof body.detail === "string" ? body.detail : response.statusText);
      }
      const sha256 = response.headers.get("X-Vigil-SHA256") ?? "";
      const link = h("a", { href: URL.createObjectURL(await response.blob()),
        download: `${camera()}-evidence.mp4`, text: "Download" });
      exportStatus.replaceChildren(link, ` SHA-256 ${sha256}`);
      exportStatus.dataset.sha256 = sha256;
      link.click();
    } catch (error) {
      exportStatus.replaceChildren(errorBox(`Export failed: ${error.message}`));
    } finally {
      exportButton.disabled = false;
    }
  }

  exportButton.addEventListener("click", exportEvidence);
  playButton.addEventListener("click", () => setPlaying(!playing));
  speed.addEventListener("change", () => { if (playing) startStream(); });
  spanSelect.addEventListener("change", loadTimeline);
  cameraSelect.addEventListener("change", () => { position = null; loadTimeline(); });
  bar.addEventListener("click", (click) => {
    if (!timeline) return;
    const box = bar.getBoundingClientRect();
    seek(timeline.start + ((click.clientX - box.left) / box.width) * (timeline.end - timeline.start));
  });

  // A tenant near its recording quota loses its oldest hours soon: say so where it matters.
  getJson("/api/recordings/usage").then((usage) => {
    if (!usage.near_quota) return;
    const share = Math.round((100 * usage.used_bytes) / usage.quota_bytes);
    container.querySelector(".playback").prepend(h("p", { class: "error-box", role: "status",
      "data-testid": "quota-warning",
      text: `Recordings use ${share}% of this organisation's quota: the oldest unlocked hours `
        + "are deleted first when it is full." }));
  }).catch(() => {});

  fetchCameras().then((cameras) => {
    if (!cameras.length) {
      message.replaceChildren(errorBox("No cameras are configured."));
      return;
    }
    cameraSelect.replaceChildren(...cameras.map((c) =>
      h("option", { value: c.id, text: c.name || c.id })));
    loadTimeline();
  }).catch((error) => message.replaceChildren(errorBox(error.message)));

  return () => {
    playing = false;
    stopStream();
  };
}
