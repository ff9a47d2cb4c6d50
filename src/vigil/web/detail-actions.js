// What the event detail leads to: its clip (the recordings' route, issue 14), the camera live,
// the previous and next event on the same camera (GET /api/events, newest first), and adding
// it to a case or exporting it (detail-evidence.js).
import { fetchEvents } from "./api.js";
import { evidenceActions } from "./detail-evidence.js";
import { h } from "./dom.js";
import { can, pageAllowed } from "./login.js";

const NEXT_WITHIN_MS = 3600_000; // "next" looks this far ahead

const iso = (ms) => new Date(ms).toISOString();

// Events are ordered as the API lists them, newest first by (start, id); events that started
// in the same millisecond (people entering a zone together) are told apart by id.
const neighbour = (items, event, offset) => {
  const index = items.findIndex((item) => item.id === event.id);
  return index < 0 ? null : items[index + offset] ?? null;
};

/** The event before `event` on its camera, or null. */
async function previousOf(event) {
  const page = await fetchEvents({ camera: event.camera_id, end: iso(event.start_ms + 1), limit: 1000 });
  return neighbour(page.items, event, 1);
}

/** The event after `event` on its camera within the next hour, or null. */
async function nextOf(event) {
  const page = await fetchEvents({ camera: event.camera_id, start: iso(event.start_ms),
    end: iso(event.start_ms + NEXT_WITHIN_MS), limit: 1000 });
  return neighbour(page.items, event, -1);
}

/** The action bar of the detail panel; `show(other)` opens another event in its place. */
export function detailActions(event, show) {
  const status = h("span", { class: "muted", role: "status" });
  const step = (label, find, testid) => h("button", { class: "button", type: "button", text: label,
    "data-testid": testid, onclick: async () => {
      status.textContent = "";
      try {
        const other = await find(event);
        if (other) show(other);
        else status.textContent = `No ${label.toLowerCase()} event on this camera.`;
      } catch (error) {
        status.textContent = error.message;
      }
    } });
  return h("div", { class: "detail-actions", "data-testid": "detail-actions" },
    can("media:read") ? h("a", { class: "button", href: `/api/events/${encodeURIComponent(event.id)}/clip`,
      text: "Clip" }) : null,
    pageAllowed("live") ? h("a", { class: "button", "data-testid": "detail-live",
      href: `#/live?camera=${encodeURIComponent(event.camera_id)}`, text: "Camera live" }) : null,
    can("events:read") ? [step("Previous", previousOf, "detail-previous"), step("Next", nextOf, "detail-next")] : null,
    evidenceActions(event), status);
}

const CONTEXT_MS = 120_000;

/** The same camera's other events within ±2 minutes (as Search shows them), each opening in
 * the panel; filled in once they are loaded. */
export function detailContext(event, show) {
  const list = h("ol", { class: "context-list", "data-testid": "detail-context" });
  const section = h("section", { class: "detail-context" },
    h("h3", { text: "This camera within ±2 minutes" }), list);
  if (!can("events:read")) return null;
  fetchEvents({ camera: event.camera_id, start: iso(event.start_ms - CONTEXT_MS),
    end: iso(event.start_ms + CONTEXT_MS), limit: 50 }).then((page) => {
    const others = page.items.filter((other) => other.id !== event.id).reverse();
    if (!others.length) list.append(h("li", { class: "muted", text: "No other events." }));
    for (const other of others) {
      const seconds = Math.round((other.start_ms - event.start_ms) / 1000);
      list.append(h("li", {}, h("button", { class: "context-item", type: "button",
        "data-testid": "context-item", onclick: () => show(other) },
      h("span", { class: "context-offset", text: `${seconds > 0 ? "+" : ""}${seconds} s` }),
      h("span", { text: `${other.object?.class_name ?? ""} ${other.type.replace(/[._]/g, " ")}` }),
      h("span", { class: "muted", text: other.zone ?? other.line ?? "" }))));
    }
  }, () => list.append(h("li", { class: "muted", text: "Could not be loaded." })));
  return section;
}
