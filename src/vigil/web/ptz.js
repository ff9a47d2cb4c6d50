// PTZ of a saved camera with `ptz` settings: where Vigil last sent it, whether its modules are
// paused while it moves, when it returns home, and buttons to send it to its presets. The move
// goes through the server, which holds the camera's ONVIF credentials and switches the
// analysis to the preset's zones and lines (POST /api/cameras/{id}/ptz/goto, audited).
import { getJson } from "./api.js";
import { sendJson } from "./login.js";
import { errorBox, every, h } from "./dom.js";

const POLL_MS = 1000;

function describe(state) {
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

  const buttons = presets.map((token) => h("button", {
    class: "button", type: "button", "data-preset": token,
    text: token === ptz.home_preset ? `Go to ${token} (home)` : `Go to ${token}`,
    onclick: async () => {
      problem.replaceChildren();
      try {
        await sendJson("POST", cameraPath(camera.id, "/ptz/goto"), { preset: token });
        await refresh();
      } catch (error) {
        problem.append(errorBox(error.message));
      }
    },
  }));
  const stop = every(POLL_MS, () => refresh().catch((error) => problem.replaceChildren(errorBox(error.message))));
  const element = h("section", { class: "admin-section", "data-testid": "ptz-panel" },
    h("h2", { class: "section-title", text: "PTZ" }),
    h("p", { class: "muted", text: "Each preset is analysed with its own zones and lines; modules pause while the camera moves." }),
    state, h("div", { class: "toolbar" }, buttons), problem);
  return { element, stop };
}
