// PTZ of a saved camera with `ptz` settings: where Vigil last sent it, whether its modules are
// paused while it moves, when it returns home, buttons to send it to its presets, and pan,
// tilt and zoom steps. Moves go through the server, which holds the camera's ONVIF
// credentials and switches the analysis to the preset's zones and lines, or pauses it while
// the camera is at no preset (POST /api/cameras/{id}/ptz/goto and /ptz/move, audited).
import { getJson } from "./api.js";
import { sendJson } from "./login.js";
import { errorBox, every, h } from "./dom.js";

const POLL_MS = 1000;
const STEP = 0.1; // a tenth of each axis's range per press
const STEPS = [
  ["Pan left", "◀", { pan: -STEP }],
  ["Tilt up", "▲", { tilt: STEP }],
  ["Tilt down", "▼", { tilt: -STEP }],
  ["Pan right", "▶", { pan: STEP }],
  ["Zoom in", "+", { zoom: STEP }],
  ["Zoom out", "−", { zoom: -STEP }],
];

function describe(state) {
  if (state.off_preset) {
    const home = state.home_in_s !== null ? ` Returns home in ${Math.ceil(state.home_in_s)} s.` : "";
    return `Moved by hand, at no preset: modules paused.${home}`;
  }
  if (state.preset === null) return "Not moved by Vigil since the server started.";
  const where = `At preset ${state.preset}${state.preset === state.home_preset ? " (home)" : ""}`;
  if (state.moving) return `${where}: moving, modules paused.`;
  if (state.home_in_s !== null) return `${where}: returns home in ${Math.ceil(state.home_in_s)} s.`;
  return `${where}.`;
}

/** @returns {{element: HTMLElement, stop: () => void}} */
export function createPtzPanel(camera, cameraPath) {
  const ptz = camera.ptz;
  const state = h("p", { role: "status", "data-testid": "ptz-state", text: "…" });
  const problem = h("div", { "data-testid": "ptz-problem" });
  const presets = [...new Set([ptz.home_preset, ...Object.keys(ptz.presets ?? {})].filter(Boolean))];

  async function refresh() {
    const answer = await getJson(cameraPath(camera.id, "/ptz"));
    state.textContent = describe(answer);
    state.dataset.preset = answer.preset ?? "";
  }

  async function send(path, body) {
    problem.replaceChildren();
    try {
      await sendJson("POST", cameraPath(camera.id, path), body);
      await refresh();
    } catch (error) {
      problem.append(errorBox(error.message));
    }
  }

  const buttons = presets.map((token) => h("button", {
    class: "button", type: "button", "data-preset": token,
    text: token === ptz.home_preset ? `Go to ${token} (home)` : `Go to ${token}`,
    onclick: () => send("/ptz/goto", { preset: token }),
  }));
  const steps = STEPS.map(([label, symbol, step]) => h("button", {
    class: "button", type: "button", "aria-label": label, title: label, text: symbol,
    "data-step": label, onclick: () => send("/ptz/move", step),
  }));
  const stop = every(POLL_MS, () => refresh().catch((error) => problem.replaceChildren(errorBox(error.message))));
  const element = h("section", { class: "admin-section", "data-testid": "ptz-panel" },
    h("h2", { class: "section-title", text: "PTZ" }),
    h("p", { class: "muted", text: "Each preset is analysed with its own zones and lines; modules pause while the camera moves." }),
    state, h("div", { class: "toolbar" }, buttons),
    h("div", { class: "toolbar", role: "group", "aria-label": "Pan, tilt and zoom" }, steps), problem);
  return { element, stop };
}
