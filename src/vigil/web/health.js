// Whether each camera's live view can be trusted (GET /api/camera-health, every 3 s): the
// header counts the degraded cameras (amber or red, not only offline ones), and the live wall
// shows each picture's age and the reason it is amber or red. One poll serves both.
import { getJson } from "./api.js";
import { every, h } from "./dom.js";
import { can } from "./login.js";

const POLL_MS = 3000;
const listeners = new Set();
let latest = null;

/** Call `listener(page)` with every answer (at once with the last one); returns unsubscribe. */
export function onCameraHealth(listener) {
  listeners.add(listener);
  if (latest) listener(latest);
  return () => listeners.delete(listener);
}

/** The header's "N degraded" chip, and the poll behind it; nothing for roles without cameras. */
export function installCameraHealth() {
  if (!can("cameras:read")) return;
  const chip = h("a", { class: "degraded-chip", href: "#/live", "data-testid": "degraded",
    hidden: true });
  document.querySelector(".health")?.after(chip);
  every(POLL_MS, async () => {
    try {
      latest = await getJson("/api/camera-health");
    } catch {
      return; // the health indicator beside it says when the server is unreachable
    }
    chip.hidden = latest.degraded === 0;
    chip.textContent = `${latest.degraded} degraded`;
    chip.title = latest.items.filter((item) => item.level !== "ok")
      .map((item) => `${item.name}: ${item.reasons.map((reason) => reason.text).join("; ")}`).join("\n");
    for (const listener of listeners) listener(latest);
  });
}

/** "0.4 s", "12 s", "3 min": how old a picture is. */
export function ageLabel(seconds) {
  if (seconds === null || seconds === undefined) return "no picture";
  if (seconds < 10) return `${seconds.toFixed(1)} s old`;
  if (seconds < 120) return `${Math.round(seconds)} s old`;
  return `${Math.round(seconds / 60)} min old`;
}
