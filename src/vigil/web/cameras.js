// Cameras page (administrators): the list with live status, adding and editing a camera
// (test the connection first, with a face-blurred preview or the reason it failed), drawing
// its zones, lines, masks and calibration, its modules, copying its layout to other cameras,
// and import/export of the whole list. Everything goes through /api/cameras (audited).
import { fetchCameras, fetchModules, getJson } from "./api.js";
import { currentUser, sendJson } from "./login.js";
import { errorBox, every, h } from "./dom.js";
import { createEditor } from "./editor.js";
import { createModuleForms } from "./modforms.js";
import { createOnvifPanel } from "./onvif.js";
import { createLivePreview } from "./preview.js";
import { createPtzPanel } from "./ptz.js";
import { createPresetChooser } from "./presetgeometry.js";

const STATUS_POLL_MS = 3000;
const LIVE_POLL_MS = 2000;
const PROBLEM_TITLES = {
  auth: "Wrong user name or password",
  unreachable: "Camera unreachable",
  refused: "Connection refused",
  not_found: "No stream at that address",
  not_video: "Not a video stream",
  codec: "Unsupported video codec",
  policy: "Refused by the server's source policy",
};
const CONFIG_REASON = "Declared in the server's config file: change it there (changes made here would be lost at the next start).";

const cameraPath = (id, rest = "") => `/api/cameras/${encodeURIComponent(id)}${rest}`;
const label = (text, control, field) => h("label", { class: "field" }, h("span", { class: "field-label", text }), control,
  field ? h("span", { class: "field-error", "data-error-for": field }) : null);
const fmt = (value, digits = 1) => (typeof value === "number" ? value.toFixed(digits) : "–");

/** Put each server problem beside the input it concerns; the rest go in `general`. */
export function showProblems(root, general, problems) {
  for (const node of root.querySelectorAll(".field-error")) node.textContent = "";
  for (const node of root.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  general.replaceChildren();
  for (const { field, message } of problems) {
    const parts = field.split(".");
    let placed = false;
    for (let n = parts.length; n > 0 && !placed; n -= 1) {
      const key = parts.slice(0, n).join(".");
      const slot = root.querySelector(`[data-error-for="${CSS.escape(key)}"]`);
      if (slot) {
        slot.textContent = slot.textContent ? `${slot.textContent}; ${message}` : message;
        root.querySelector(`[data-field="${CSS.escape(key)}"]`)?.setAttribute("aria-invalid", "true");
        placed = true;
      }
    }
    if (!placed) general.append(errorBox(field ? `${field}: ${message}` : message));
  }
}

function statusCell(camera) {
  const state = !camera.enabled ? "disabled" : camera.status.online ? "online" : "offline";
  return h("span", { class: "badge", "data-state": state === "online" ? "online" : "offline", "data-testid": "camera-state", text: state });
}

// Under the frame rates: the decoding path of a camera with hardware_decode (NVDEC, FFmpeg's
// cuda, or the CPU and why not the GPU), and whether its analysed rate is lowered to shed load.
function rateNotes(status) {
  return [
    status.decoder ? h("div", { class: "muted", "data-testid": "camera-decoder", text: `decoder: ${status.decoder}` }) : null,
    status.load_shed ? h("div", { class: "muted", "data-testid": "camera-load-shed", text: "slowed: the detector cannot keep up (lower priority first)" }) : null,
  ];
}

const RECORDING_TITLES = {
  off: "Not recorded",
  recording: "Recording the main stream",
  standby: "Events mode: waiting for an event (pre-roll kept in memory)",
};

function recordingCell(camera) {
  const state = camera.status.recording ?? "off";
  return h("span", { class: "badge recording-state", "data-state": state, "data-testid": "camera-recording",
    title: RECORDING_TITLES[state] ?? state, text: state });
}

function mountList(container) {
  const problem = h("div", { "data-testid": "cameras-problem" });
  const body = h("tbody", { "data-testid": "camera-rows" });
  const importResult = h("div", { class: "import-result", "data-testid": "import-result" });
  let stopped = false;

  const act = async (work) => {
    problem.replaceChildren();
    try {
      await work();
      await refresh();
    } catch (error) {
      problem.append(errorBox(error.message));
    }
  };

  function row(camera) {
    const readOnly = camera.origin === "config";
    const toggle = () => act(async () => {
      const { origin, status, ...settings } = camera;
      await sendJson("PUT", cameraPath(camera.id), { ...settings, enabled: !camera.enabled });
    });
    return h("tr", { "data-testid": "camera-row", "data-camera-id": camera.id },
      h("td", {}, h("a", { href: `#/cameras/${encodeURIComponent(camera.id)}`, text: camera.name || camera.id }),
        h("div", { class: "muted", text: camera.id })),
      h("td", {}, statusCell(camera)),
      h("td", {}, recordingCell(camera)),
      h("td", { class: "num" }, `${fmt(camera.status.analysed_fps)} / ${fmt(camera.status.input_fps)}`, ...rateNotes(camera.status)),
      h("td", { class: "num", text: camera.status.online ? `${Math.round(camera.status.lag_ms)} ms` : "–" }),
      h("td", { class: "camera-error", text: camera.status.last_error ?? "" }),
      h("td", {}, readOnly ? h("span", { class: "muted", title: CONFIG_REASON, "data-testid": "read-only", text: "config file (read-only)" }) : "API"),
      h("td", { class: "row-actions" },
        h("a", { class: "button", href: `#/cameras/${encodeURIComponent(camera.id)}`, text: readOnly ? "View" : "Edit" }),
        readOnly ? null : h("button", { class: "button", type: "button", text: camera.enabled ? "Disable" : "Enable", onclick: toggle }),
        readOnly ? null : h("button", { class: "button danger", type: "button", text: "Delete",
          onclick: () => {
            if (confirm(`Delete camera ${camera.name || camera.id}? Its stored events stay until retention removes them.`)) {
              act(() => sendJson("DELETE", cameraPath(camera.id)));
            }
          } })));
  }

  const file = h("input", { type: "file", accept: ".yaml,.yml,.csv,text/csv,application/yaml", "data-testid": "import-file" });
  const update = h("input", { type: "checkbox" });
  const importForm = h("form", { class: "toolbar", "data-testid": "import-form",
    onsubmit: (submit) => {
      submit.preventDefault();
      const chosen = file.files[0];
      if (!chosen) return;
      act(async () => {
        const format = /\.csv$/i.test(chosen.name) ? "csv" : "yaml";
        const response = await fetch(`/api/cameras/import?format=${format}&update=${update.checked}`, {
          method: "POST", headers: { "Content-Type": format === "csv" ? "text/csv" : "application/yaml", Accept: "application/json" },
          body: await chosen.text(),
        });
        const result = await response.json();
        if (!response.ok) throw new Error(result.detail ?? `${response.status}`);
        importResult.replaceChildren(
          h("p", { text: `Added ${result.created.length}, updated ${result.updated.length}, rejected ${result.rejected.length}.` }),
          result.rejected.length ? h("ul", { class: "row-problems" }, result.rejected.map((item) => h("li", {
            text: `Row ${item.row}${item.camera_id ? ` (${item.camera_id})` : ""}: `
              + item.problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join("; ") }))) : null);
      });
    } },
  h("a", { class: "button primary", href: "#/cameras/new", text: "Add camera", "data-testid": "add-camera" }),
  h("a", { class: "button", href: "/api/cameras/export.yaml", download: "vigil-cameras.yaml", text: "Export YAML" }),
  h("a", { class: "button", href: "/api/cameras/export.csv", download: "vigil-cameras.csv", text: "Export CSV" }),
  h("span", { class: "toolbar-end" }),
  label("Import YAML or CSV", file), h("label", { class: "field check" }, update, h("span", { text: "update existing" })),
  h("button", { class: "button", type: "submit", text: "Import" }));

  container.append(problem, importForm, importResult, h("div", { class: "table-wrap" }, h("table", { class: "results" },
    h("thead", {}, h("tr", {}, ["Camera", "State", "Recording", "fps (analysed / input)", "Lag", "Last error", "Declared in", ""].map((text) => h("th", { text })))),
    body)));

  async function refresh() {
    const cameras = await fetchCameras();
    if (stopped) return;
    body.replaceChildren(...(cameras.length ? cameras.map(row)
      : [h("tr", {}, h("td", { colspan: 8, class: "empty", text: "No cameras yet: add one." }))]));
  }
  const stop = every(STATUS_POLL_MS, () => refresh().catch((error) => problem.replaceChildren(errorBox(error.message))));
  return () => { stopped = true; stop(); };
}

function mountCamera(container, cameraId) {
  const isNew = cameraId === null;
  const general = h("div", { "data-testid": "camera-problem" });
  const saved = h("p", { class: "saved-note", role: "status", "data-testid": "saved-note" });
  const root = h("div", { class: "camera-edit" });
  container.append(root);
  let stopLive = () => {};
  let stopPtz = () => {};
  let stopped = false;

  (async () => {
    const [camera, modules, cameras] = await Promise.all([
      isNew ? Promise.resolve(null) : getJson(cameraPath(cameraId)), fetchModules(), fetchCameras()]);
    if (stopped) return;
    const readOnly = camera?.origin === "config";
    const me = currentUser();
    const inputs = {
      id: h("input", { name: "id", required: true, value: camera?.id ?? "", disabled: !isNew, pattern: "([a-z0-9][a-z0-9_\\-]*:)?[a-z0-9][a-z0-9_\\-]*",
        placeholder: "gate-north", "data-field": "id", "data-testid": "camera-id" }),
      name: h("input", { name: "name", value: camera?.name ?? "", placeholder: "North gate", "data-field": "name", "data-testid": "camera-name" }),
      url: h("input", { name: "url", required: true, value: camera?.url ?? "", class: "wide", "data-field": "url",
        placeholder: "rtsp://user:password@192.168.1.20:554/sub", "data-testid": "camera-url", autocomplete: "off" }),
      main_url: h("input", { name: "main_url", value: camera?.main_url ?? "", class: "wide", "data-field": "main_url",
        placeholder: "rtsp://user:password@192.168.1.20:554/main (optional)", autocomplete: "off" }),
      analysis_fps: h("input", { name: "analysis_fps", type: "number", min: 0.1, max: 60, step: "any", value: camera?.analysis_fps ?? 5,
        "data-field": "analysis_fps" }),
      enabled: h("input", { name: "enabled", type: "checkbox", checked: camera?.enabled ?? true }),
    };
    const probeResult = h("div", { class: "probe-result", "data-testid": "probe-result", role: "status" });
    const preview = isNew ? null : createLivePreview(camera.id, cameraPath);
    const ptzPanel = !isNew && camera.ptz ? createPtzPanel(camera, cameraPath) : null;
    if (ptzPanel) stopPtz = ptzPanel.stop;
    let presetChooser = null;
    const editor = createEditor(camera ?? {}, () => {
      saved.textContent = "Unsaved changes.";
      presetChooser?.changed();
      preview?.showDraft(editor.value(), editor.frameSize());
    });
    // A PTZ camera's zones and lines belong to a preset: choose which are drawn.
    if (!isNew && camera.ptz) presetChooser = createPresetChooser(camera, editor);
    const moduleForms = createModuleForms(modules, camera?.modules ?? {});
    const lineCounts = h("ul", { class: "line-counts", "data-testid": "line-counts" });

    const settings = () => ({
      ...(camera ?? {}),
      origin: undefined, status: undefined,
      id: inputs.id.value.trim(), name: inputs.name.value.trim(), url: inputs.url.value.trim(),
      main_url: inputs.main_url.value.trim() || null, analysis_fps: Number(inputs.analysis_fps.value),
      enabled: inputs.enabled.checked, tenant: camera?.tenant ?? me?.tenant ?? "default",
      ...(presetChooser ? presetChooser.value() : editor.value()), modules: moduleForms.value(),
    });

    async function testConnection() {
      probeResult.replaceChildren(h("p", { class: "muted", text: "Connecting…" }));
      probeResult.dataset.state = "busy";
      try {
        const result = await sendJson("POST", "/api/cameras/probe", {
          url: inputs.url.value.trim(), camera_id: isNew ? null : cameraId, privacy_masks: editor.value().privacy_masks });
        probeResult.dataset.state = result.ok ? "ok" : "failed";
        probeResult.dataset.problem = result.problem ?? "";
        if (result.ok) {
          probeResult.replaceChildren(h("p", { class: "probe-ok", text: `Connected: ${result.message}` }));
          editor.setImage(result.preview);
        } else {
          probeResult.replaceChildren(h("p", { class: "error-box", "data-testid": "probe-problem" },
            h("b", { text: `${PROBLEM_TITLES[result.problem] ?? "Failed"}. ` }), result.message));
        }
      } catch (error) {
        probeResult.dataset.state = "failed";
        probeResult.replaceChildren(errorBox(error.message));
      }
    }

    async function save() {
      saved.textContent = "";
      const body = settings();
      const check = await sendJson("POST", "/api/cameras/validate", body);
      showProblems(root, general, check.problems);
      if (!check.valid) {
        saved.textContent = "Not saved: see the problems marked below.";
        return;
      }
      let stored;
      try {
        if (isNew) stored = await sendJson("POST", "/api/cameras", body);
        else await sendJson("PUT", cameraPath(cameraId), body);
      } catch (error) {
        general.replaceChildren(errorBox(error.message));
        return;
      }
      if (isNew) {
        // The server's id: a tenant's camera gets its tenant's prefix ("gate" → "acme:gate").
        location.hash = `#/cameras/${encodeURIComponent(stored.id)}`;
        return;
      }
      saved.textContent = "Saved; the camera restarted with these settings.";
      preview.clearDraft();
    }

    const applyTargets = h("select", { multiple: true, "aria-label": "Cameras to copy to", "data-testid": "apply-targets" },
      cameras.filter((other) => other.id !== cameraId && other.origin !== "config")
        .map((other) => h("option", { value: other.id, text: other.name || other.id })));
    const parts = ["zones", "lines", "privacy_masks", "calibration", "modules", "schedules"].map((part) =>
      h("label", { class: "check" }, h("input", { type: "checkbox", value: part, checked: part !== "calibration" }), part.replace("_", " ")));
    const applyResult = h("div", { role: "status" });
    const apply = h("section", { class: "admin-section" }, h("h2", { class: "section-title", text: "Copy this layout to other cameras" }),
      h("div", { class: "toolbar" }, label("Cameras", applyTargets), h("div", { class: "checks" }, parts),
        h("button", { class: "button", type: "button", text: "Copy saved layout", onclick: async () => {
          const targets = [...applyTargets.selectedOptions].map((option) => option.value);
          if (!targets.length) return;
          try {
            const result = await sendJson("POST", cameraPath(cameraId, "/apply-to"), {
              cameras: targets, parts: parts.map((node) => node.querySelector("input")).filter((box) => box.checked).map((box) => box.value) });
            applyResult.replaceChildren(h("p", { text: `Updated: ${result.updated.join(", ") || "none"}` }),
              ...result.rejected.map((item) => errorBox(`${item.camera_id}: ${item.problems.map((p) => `${p.field} ${p.message}`).join("; ")}`)));
          } catch (error) {
            applyResult.replaceChildren(errorBox(error.message));
          }
        } })), applyResult);

    // The server checks everything and names the field; the browser's own checks would stop
    // the form before that without saying which module's setting is wrong.
    const form = h("form", { class: "camera-form", "data-testid": "camera-form", novalidate: true,
      onsubmit: (submit) => { submit.preventDefault(); save(); } },
    h("fieldset", { class: "toolbar", disabled: readOnly },
      label("Id", inputs.id, "id"), label("Name", inputs.name, "name"),
      label("Analysed stream (sub-stream)", inputs.url, "url"), label("Main stream (recording)", inputs.main_url, "main_url"),
      label("Analysed fps", inputs.analysis_fps, "analysis_fps"),
      h("label", { class: "field check" }, inputs.enabled, h("span", { text: "enabled" })),
      h("button", { class: "button", type: "button", text: "Test connection", "data-testid": "test-connection", onclick: testConnection })),
    probeResult,
    h("section", { class: "admin-section" }, h("h2", { class: "section-title", text: "Zones, lines, masks and calibration" }),
      presetChooser?.element, editor.element),
    h("section", { class: "admin-section" }, h("h2", { class: "section-title", text: "Analytics modules" }), moduleForms.element),
    readOnly ? null : h("div", { class: "form-buttons sticky-save" },
      h("button", { class: "button primary", type: "submit", text: isNew ? "Add camera" : "Save", "data-testid": "save-camera" }), saved));

    root.append(...[
      h("div", { class: "toolbar" }, h("a", { class: "button", href: "#/cameras", text: "← Cameras" }),
        h("h2", { text: isNew ? "Add a camera" : `Camera ${camera.name || camera.id}` })),
      readOnly ? h("p", { class: "read-only-note", "data-testid": "read-only-reason", text: CONFIG_REASON }) : null,
      readOnly ? null : createOnvifPanel((kind, uri) => {
        inputs[kind].value = uri;
        if (kind === "url") testConnection();
      }),
      general, form,
      isNew ? null : h("section", { class: "admin-section" }, h("h2", { class: "section-title", text: "Live result (faces blurred)" }),
        h("div", { class: "live-check-row" }, preview.element, lineCounts)),
      ptzPanel?.element,
      isNew || readOnly ? null : apply].filter(Boolean));

    if (!isNew) {
      // The frame without the server's drawing: the editor draws the shapes being edited.
      // A camera that has analysed frames has a live frame to draw on; one that has not yet
      // (just added or restarted) is tried directly.
      const hasFrame = (status) => status.online && status.analysed_fps > 0;
      if (hasFrame(camera.status)) editor.setImage(cameraPath(camera.id, `/live.jpg?overlay=false&width=1280&t=${Date.now()}`));
      else testConnection();
      stopLive = every(LIVE_POLL_MS, async () => {
        try {
          const { status, enabled } = await getJson(cameraPath(camera.id));
          if (!enabled) {  // a disabled camera runs nowhere: it has no counts to ask for
            lineCounts.replaceChildren(h("li", { class: "muted", text: "No live counts (the camera is disabled)." }));
            return;
          }
          if (hasFrame(status)) preview.refresh();
          const stats = await getJson(cameraPath(camera.id, "/stats"));
          const lines = Object.entries(stats.line ?? {});
          lineCounts.replaceChildren(...lines.map(([name, perClass]) => {
            const totals = Object.values(perClass).reduce((sum, c) => ({ in: sum.in + c.in, out: sum.out + c.out }), { in: 0, out: 0 });
            return h("li", { "data-line": name, "data-testid": "line-count", "data-total": totals.in + totals.out },
              h("b", { text: name }), ` in ${totals.in} · out ${totals.out}`);
          }));
        } catch {
          lineCounts.replaceChildren(h("li", { class: "muted", text: "No live counts (the camera is not running)." }));
        }
      });
    }
  })().catch((error) => general.append(errorBox(error.message)));

  return () => { stopped = true; stopLive(); stopPtz(); };
}

export function mountCameras(container) {
  const [, sub] = location.hash.replace(/^#\/?/, "").split("?")[0].split("/");
  if (!sub) return mountList(container);
  return mountCamera(container, sub === "new" ? null : decodeURIComponent(sub));
}
