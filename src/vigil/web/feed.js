// The live event feed: Server-Sent Events from /api/events/stream, newest first, capped.
import { eventStreamUrl, fetchEvents, snapshotUrl } from "./api.js";
import { openDetail } from "./detail.js";
import { formatDuration, formatTime, h, placeLabel, typeLabel } from "./dom.js";
import { can } from "./login.js";

const MAX_ROWS = 100;
const RECONNECT_MS = 5000;

/** The event's snapshot, or an empty frame when it has none (or it cannot be loaded). */
export function thumbnail(event) {
  if (!event.snapshot) return h("div", { class: "thumb thumb-empty", "aria-hidden": "true" });
  const image = () => {
    // The row's text describes the event, so the thumbnail is decorative: empty alt.
    const img = h("img", { class: "thumb", "data-testid": "event-thumb", src: snapshotUrl(event),
      alt: "", loading: "lazy", decoding: "async" });
    img.addEventListener("error", () => img.replaceWith(thumbnail({})), { once: true });
    return img;
  };
  return image();
}

function eventRow(event, thumb) {
  const object = event.object ?? {};
  const dwell = event.dwell_s ? ` · ${formatDuration(event.dwell_s)}` : "";
  return h("li", {
    class: "event-row", "data-testid": "event-row", "data-event-id": event.id,
    "data-camera-id": event.camera_id, "data-state": event.state,
    "data-snapshot": event.snapshot ?? "", tabindex: 0,
    onclick: () => openDetail(event),
    onkeydown: (key) => key.key === "Enter" && openDetail(event),
  },
  thumb,
  h("div", { class: "event-main" },
    h("div", { class: "event-title" },
      h("span", { class: "type-badge", "data-module": event.module, text: typeLabel(event.type) }),
      h("span", { class: "event-class", text: object.class_name ?? "" }),
      event.state === "active" ? h("span", { class: "live-dot", title: "still active" }) : null),
    h("div", { class: "event-place", text: `${placeLabel(event)}${dwell}` }),
    h("div", { class: "event-camera", text: event.camera_name || event.camera_id })),
  h("time", { class: "event-time", datetime: new Date(event.start_ms).toISOString(),
    text: formatTime(event.start_ms) }));
}

/** Build the feed panel; returns its element and a stop function that closes the stream. */
export function createFeed() {
  const rows = new Map();
  const list = h("ol", { class: "feed-list", "data-testid": "event-feed" });
  const empty = h("p", { class: "feed-empty", text: "Waiting for events…" });
  const status = h("span", { class: "conn", "data-testid": "feed-status", "data-state": "connecting",
    text: "connecting" });
  const panel = h("section", { class: "feed", "aria-label": "Live events" },
    h("header", { class: "panel-head" }, h("h2", { text: "Live events" }), status),
    empty, list);

  let source = null;
  let retry = null;

  function setStatus(state, label) {
    status.dataset.state = state;
    status.textContent = label;
  }

  function show(message) {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (!event?.id) return;
    const previous = rows.get(event.id);
    // An update keeps the thumbnail it already shows (the snapshot key does not change), so
    // the image neither flickers nor is fetched again.
    const shown = previous?.querySelector(".thumb");
    const keep = shown && previous.dataset.snapshot === (event.snapshot ?? "");
    const row = eventRow(event, keep ? shown : thumbnail(event));
    // Updates and ends replace the row where it is, so rows do not jump while being read.
    if (previous) previous.replaceWith(row);
    else list.prepend(row);
    rows.set(event.id, row);
    empty.hidden = true;
    while (rows.size > MAX_ROWS) {
      const oldest = list.lastElementChild;
      rows.delete(oldest.dataset.eventId);
      oldest.remove();
    }
  }

  // The server dropped what this tab had not read (it fell behind): fetch those from the store.
  async function resync(message) {
    let since;
    try {
      since = JSON.parse(message.data).since;
    } catch {
      return;
    }
    if (!since) return;
    try {
      const page = await fetchEvents({ start: since, limit: MAX_ROWS });
      // Newest first from the store; shown oldest first so the newest ends up on top.
      for (const event of [...page.items].reverse()) show({ data: JSON.stringify(event) });
    } catch {
      // The live stream carries on; the missed events are on the Events page.
    }
  }

  function connect() {
    setStatus("connecting", "connecting");
    source = new EventSource(eventStreamUrl());
    for (const name of ["start", "update", "end"]) source.addEventListener(name, show);
    source.addEventListener("missed", resync);
    // The server ended the stream: signed out or token revoked (reconnecting would get 401),
    // or the user's camera groups changed (reconnect at once to get the new scope).
    source.addEventListener("closed", (message) => {
      source.close();
      let reason = "";
      try {
        reason = JSON.parse(message.data).reason;
      } catch {
        // no reason given: treat as signed out
      }
      if (reason === "changed") connect();
      else setStatus("closed", "signed out");
    });
    source.onopen = () => setStatus("open", "live");
    source.onerror = () => {
      // EventSource retries by itself while CONNECTING; after a hard failure (CLOSED, e.g. a
      // 5xx answer) it gives up, so reconnect by hand.
      if (source.readyState === EventSource.CLOSED) {
        setStatus("closed", "disconnected");
        retryUnlessDenied();
      } else {
        setStatus("connecting", "reconnecting");
      }
    };
  }

  // A refusal (the role lost the permission, the session ended) is not retried: every retry
  // would be refused again. EventSource does not say why it closed; one request does.
  async function retryUnlessDenied() {
    const probe = new AbortController();
    try {
      const response = await fetch(eventStreamUrl(), { signal: probe.signal });
      probe.abort();
      if (response.status === 401 || response.status === 403) {
        setStatus("closed", "not permitted");
        empty.textContent = "Your role does not receive live events.";
        return;
      }
    } catch {
      // Unreachable: retry as below.
    }
    retry = setTimeout(connect, RECONNECT_MS);
  }

  // Roles without events:read (viewers) never open the stream: it would only be refused.
  if (can("events:read")) {
    connect();
  } else {
    setStatus("closed", "not permitted");
    empty.textContent = "Your role does not receive live events; the cameras are live.";
  }
  return {
    element: panel,
    stop() {
      clearTimeout(retry);
      source?.close();
    },
  };
}
