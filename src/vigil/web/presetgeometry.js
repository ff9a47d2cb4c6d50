// Which geometry the editor draws for a PTZ camera: the camera's own (its usual view) or that
// of one of its presets. Zones and lines belong to a preset (the scene differs per preset);
// privacy masks and calibration stay the camera's, whichever is being edited. A preset whose
// geometry is not touched here keeps what it had (none: the camera's own).
import { h } from "./dom.js";

const OWN = "";
const clone = (value) => JSON.parse(JSON.stringify(value));

/**
 * @param camera the camera as GET /api/cameras/{id} shows it (with `ptz`)
 * @param editor the drawing editor (value(), load())
 */
export function createPresetChooser(camera, editor) {
  const slots = new Map([[OWN, { zones: camera.zones, lines: camera.lines }]]);
  for (const [token, geometry] of Object.entries(camera.ptz.presets ?? {})) {
    slots.set(token, { zones: geometry.zones ?? null, lines: geometry.lines ?? null });
  }
  if (camera.ptz.home_preset && !slots.has(camera.ptz.home_preset)) {
    slots.set(camera.ptz.home_preset, { zones: null, lines: null });
  }
  const touched = new Set();
  let current = OWN;

  const optionText = (token) => (token === OWN ? "the camera's own (no preset)"
    : `preset ${token}${token === camera.ptz.home_preset ? " (home)" : ""}`);
  const select = h("select", { "data-testid": "geometry-preset", "aria-label": "Geometry of" },
    [...slots.keys()].map((token) => h("option", { value: token, text: optionText(token) })));
  const newToken = h("input", { placeholder: "preset token", "aria-label": "Preset token", class: "preset-token",
    "data-testid": "new-preset-token" });

  /** Keep what the editor holds in the slot being edited, if it was changed there. */
  function keep() {
    const value = editor.value();
    if (current === OWN || touched.has(current)) slots.set(current, { zones: value.zones, lines: value.lines });
    return value;
  }

  function show(token) {
    const shared = keep();
    current = token;
    const own = slots.get(OWN);
    const slot = slots.get(token);
    editor.load({ zones: slot.zones ?? clone(own.zones), lines: slot.lines ?? clone(own.lines),
      privacy_masks: shared.privacy_masks, calibration: shared.calibration });
  }

  select.addEventListener("change", () => show(select.value));
  const add = h("button", { class: "button", type: "button", text: "Add preset geometry", onclick: () => {
    const token = newToken.value.trim();
    if (!token || slots.has(token)) return;
    slots.set(token, { zones: null, lines: null });
    select.append(h("option", { value: token, text: optionText(token) }));
    select.value = token;
    newToken.value = "";
    show(token);
  } });

  const element = h("div", { class: "toolbar preset-chooser" },
    h("label", { class: "field" }, h("span", { class: "field-label", text: "Zones and lines of" }), select),
    newToken, add);

  return {
    element,
    /** The editor changed the geometry being edited. */
    changed() { touched.add(current); },
    /** The camera's own zones and lines, and `ptz` with each touched preset's. */
    value() {
      const shared = keep();
      const own = slots.get(OWN);
      const presets = { ...(camera.ptz.presets ?? {}) };
      for (const [token, slot] of slots) {
        if (token !== OWN && touched.has(token)) presets[token] = { zones: slot.zones, lines: slot.lines };
      }
      return { ...shared, zones: own.zones, lines: own.lines, ptz: { ...camera.ptz, presets } };
    },
  };
}
