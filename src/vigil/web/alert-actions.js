// Alerts page, "Actions": where alerts go (webhook, MQTT, e-mail). Actions of the config file
// are listed read-only; those added here can be edited. Secrets (a webhook's signing secret,
// MQTT and SMTP passwords) are write-only: the server never sends them back, the form shows
// only whether one is set, and leaving the field blank keeps it.
import { fetchActions } from "./alerts-api.js";
import { errorBox, h } from "./dom.js";
import { sendJson } from "./login.js";

const FIELDS = {
  webhook: [["url", "URL", "url"], ["secret", "Signing secret", "secret"]],
  mqtt: [["host", "Broker host", "text"], ["port", "Port", "number"], ["topic", "Topic", "text"],
    ["username", "User name", "text"], ["password", "Password", "secret"]],
  email: [["host", "SMTP host", "text"], ["port", "Port", "number"], ["sender", "From", "text"],
    ["to", "To (comma-separated)", "list"], ["username", "User name", "text"],
    ["password", "Password", "secret"]],
};

function actionForm(action, onDone) {
  const problem = h("div");
  const name = h("input", { name: "action_name", required: true, pattern: "[a-z0-9][a-z0-9_\\-]{0,63}",
    value: action?.name ?? "", disabled: Boolean(action) });
  const type = h("select", { name: "action_type", disabled: Boolean(action) },
    ...Object.keys(FIELDS).map((kind) => h("option", { value: kind, text: kind })));
  type.value = action?.type ?? "webhook";
  const fieldsBox = h("div", { class: "action-fields" });
  let inputs = {};
  const draw = () => {
    inputs = {};
    fieldsBox.replaceChildren(...FIELDS[type.value].map(([key, label, kind]) => {
      const stored = action?.settings?.[key];
      const isSet = action?.secrets_set?.includes(key);
      const input = h("input", { name: key, "data-field": key,
        type: kind === "secret" ? "password" : kind === "number" ? "number" : "text",
        autocomplete: kind === "secret" ? "new-password" : "off",
        placeholder: kind === "secret" ? (isSet ? "set — leave blank to keep" : "not set") : "",
        value: kind === "secret" || stored === undefined || stored === null ? ""
          : kind === "list" ? stored.join(", ") : String(stored) });
      inputs[key] = [input, kind];
      return h("label", { class: "field" }, h("span", { class: "field-label", text: label }), input);
    }));
  };
  type.addEventListener("change", draw);
  draw();
  return h("form", { class: "action-form", "data-testid": "action-form",
    onsubmit: async (submit) => {
      submit.preventDefault();
      const body = { ...(action?.settings ?? {}), type: type.value };
      for (const [key, [input, kind]] of Object.entries(inputs)) {
        const text = input.value.trim();
        if (kind === "secret") {
          if (text) body[key] = text; // blank: the stored secret stays
        } else if (kind === "list") body[key] = text.split(",").map((item) => item.trim()).filter(Boolean);
        else if (kind === "number") { if (text) body[key] = Number(text); } else body[key] = text;
      }
      try {
        await sendJson(action ? "PUT" : "POST", `/api/alert-actions/${encodeURIComponent(name.value)}`, body);
        onDone(true);
      } catch (error) {
        problem.replaceChildren(errorBox(error.message));
      }
    } },
  h("label", { class: "field" }, h("span", { class: "field-label", text: "Name" }), name),
  h("label", { class: "field" }, h("span", { class: "field-label", text: "Type" }), type),
  fieldsBox, problem,
  h("div", { class: "form-actions" },
    h("button", { class: "button", type: "submit", text: "Save action" }),
    h("button", { class: "button", type: "button", text: "Cancel", onclick: () => onDone(false) })));
}

/** The section; `onChange` runs after an action was saved (the rule form offers it then). */
export function actionsSection(mayChange, onChange) {
  const body = h("tbody", { "data-testid": "action-list" });
  const slot = h("div");
  const problem = h("div");
  const edit = (action) => {
    slot.replaceChildren(actionForm(action, async (saved) => {
      slot.replaceChildren();
      if (saved) {
        await load();
        onChange();
      }
    }));
    slot.querySelector("input:not([disabled])")?.focus();
  };
  const add = h("button", { class: "button", type: "button", text: "New action",
    "data-testid": "new-action", hidden: !mayChange, onclick: () => edit(null) });
  const row = (action) => h("tr", { "data-testid": "action-row", "data-action": action.name },
    h("td", { text: action.name }), h("td", { text: action.type }),
    h("td", { "data-testid": "action-target", text: action.target }),
    h("td", { text: action.secrets_set.length ? `${action.secrets_set.join(", ")} set` : "—" }),
    h("td", {}, action.origin === "config" ? h("span", { class: "muted", text: "config file" })
      : mayChange ? h("button", { class: "button", type: "button", text: "Edit",
        "aria-label": `Edit action ${action.name}`, onclick: () => edit(action) }) : null));
  async function load() {
    try {
      body.replaceChildren(...(await fetchActions()).map(row));
    } catch (error) {
      problem.replaceChildren(errorBox(`Actions could not be loaded: ${error.message}`));
    }
  }
  load();
  return h("section", { class: "alerts-section", "data-testid": "actions-section" },
    h("div", { class: "section-head" }, h("h2", { text: "Actions" }), add),
    problem, slot,
    h("div", { class: "table-wrap" }, h("table", { class: "results" },
      h("thead", {}, h("tr", {}, ["Action", "Type", "Delivers to", "Secrets", ""]
        .map((label) => h("th", { scope: "col", text: label })))),
      body)));
}
