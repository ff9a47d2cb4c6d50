// Alerts page, "What alerts on each camera": per camera, which modules and event types count
// as alerts (rules fire, review shows them as alerts) and which are just recorded. A camera on
// the default lets every rule fire. Changing it needs config:write; the API names a wrong type.
import { getJson } from "./api.js";
import { errorBox, h, typeLabel } from "./dom.js";
import { sendJson } from "./login.js";

const describe = (setting) => (setting.alert_types === null
  ? "Default: every rule may alert"
  : setting.alert_types.length ? `Alerts: ${setting.alert_types.map(typeLabel).join(", ")}; the rest is recorded`
    : "Records everything, alerts on nothing");

function settingRow(setting, mayChange, onSaved) {
  const current = h("td", { "data-testid": "camera-alerting-current", text: describe(setting) });
  const problem = h("div");
  const editor = h("td");
  const row = h("tr", { "data-testid": "camera-alerting", "data-camera-id": setting.camera_id },
    h("td", { text: setting.camera_name }), current, editor);
  if (!mayChange) return row;

  const save = async (alertTypes) => {
    try {
      onSaved(await sendJson("PUT", `/api/alert-cameras/${encodeURIComponent(setting.camera_id)}`,
        { alert_types: alertTypes }));
    } catch (error) {
      problem.replaceChildren(errorBox(error.message));
    }
  };
  const open = () => {
    const chosen = new Set(setting.alert_types ?? setting.choices);
    const boxes = setting.choices.map((choice) => {
      const input = h("input", { type: "checkbox", value: choice, checked: chosen.has(choice) });
      return { input, element: h("label", { class: "check" }, input, h("span", { text: typeLabel(choice) })) };
    });
    editor.replaceChildren(h("form", { class: "camera-alerting-form", "data-testid": "camera-alerting-form",
      onsubmit: (submit) => {
        submit.preventDefault();
        save(boxes.filter((box) => box.input.checked).map((box) => box.input.value));
      } },
    h("fieldset", {}, h("legend", { text: `Counts as an alert on ${setting.camera_name}` }),
      ...boxes.map((box) => box.element)),
    problem,
    h("button", { class: "button", type: "submit", text: "Save" }),
    h("button", { class: "button", type: "button", text: "Use default", onclick: () => save(null) })));
  };
  editor.append(h("button", { class: "button", type: "button", text: "Change",
    "aria-label": `Change what alerts on ${setting.camera_name}`, onclick: open }));
  return row;
}

/** The section, loaded at once; `mayChange`: whether the user may change settings. */
export function cameraAlertingSection(mayChange) {
  const body = h("tbody");
  const problem = h("div");
  const section = h("section", { class: "alerts-section", "data-testid": "camera-alerting-section" },
    h("div", { class: "section-head" }, h("h2", { text: "What alerts on each camera" })),
    h("p", { class: "muted", text: "Event types that are not alerts on a camera are still "
      + "recorded and searchable; rules do not fire for them." }),
    problem,
    h("div", { class: "table-wrap" }, h("table", { class: "results" },
      h("thead", {}, h("tr", {}, ["Camera", "Setting", ""].map((label) =>
        h("th", { scope: "col", text: label })))),
      body)));

  async function load() {
    try {
      const settings = await getJson("/api/alert-cameras");
      body.replaceChildren(...settings.map((setting) => settingRow(setting, mayChange, () => load())));
    } catch (error) {
      problem.replaceChildren(errorBox(`Camera settings could not be loaded: ${error.message}`));
    }
  }
  load();
  return section;
}
