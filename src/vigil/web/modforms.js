// Module settings forms, generated from each module's settings schema (GET /api/modules):
// a switch per module and one input per setting, with its range, unit and help text. The
// server validates what is saved; its problems come back on the fields named
// `modules.<module>.<setting>`.
import { h } from "./dom.js";

// Setting names end in their unit (duration_s, max_movement_px, speed_kmh …).
const UNITS = [["_kmh", "km/h"], ["_mps", "m/s"], ["_px", "px"], ["_m", "m"], ["_s", "s"], ["_ms", "ms"], ["_pct", "%"]];

const unitOf = (name) => UNITS.find(([suffix]) => name.endsWith(suffix))?.[1] ?? "";

/** The non-null branch of a property ({anyOf: [X, {type: null}]} → X) and whether null is allowed. */
function unwrap(property) {
  const branches = property.anyOf ?? [property];
  const value = branches.find((branch) => branch.type !== "null") ?? {};
  return { schema: { ...property, ...value }, nullable: branches.some((branch) => branch.type === "null") };
}

const isStringList = (schema) => schema.type === "array" && schema.items?.type === "string" && !schema.items.enum;

/** One input for one setting; `read()` returns the value to save or undefined for "default". */
function settingInput(moduleName, name, property, current) {
  const { schema, nullable } = unwrap(property);
  const field = `modules.${moduleName}.${name}`;
  const unit = unitOf(name);
  const title = (schema.title ?? name).replace(/ (S|Px|M|Kmh|Ms)$/, "");
  const limits = [];
  if (schema.minimum !== undefined) limits.push(`≥ ${schema.minimum}`);
  if (schema.exclusiveMinimum !== undefined) limits.push(`> ${schema.exclusiveMinimum}`);
  if (schema.maximum !== undefined) limits.push(`≤ ${schema.maximum}`);
  if (schema.exclusiveMaximum !== undefined) limits.push(`< ${schema.exclusiveMaximum}`);
  const defaultText = property.default === undefined || property.default === null ? "" : JSON.stringify(property.default);
  let input;
  let read;
  if (schema.type === "boolean") {
    input = h("input", { type: "checkbox", checked: current ?? property.default ?? false });
    read = () => (input.checked === (property.default ?? false) && current === undefined ? undefined : input.checked);
  } else if (schema.type === "number" || schema.type === "integer") {
    input = h("input", { type: "number", step: schema.type === "integer" ? 1 : "any", value: current ?? "",
      placeholder: defaultText || (nullable ? "unset" : ""), min: schema.minimum, max: schema.maximum });
    read = () => (input.value === "" ? undefined : Number(input.value));
  } else if (schema.enum) {
    input = h("select", {}, h("option", { value: "", text: `default (${property.default ?? "unset"})` }),
      schema.enum.map((option) => h("option", { value: option, text: option, selected: option === current })));
    read = () => input.value || undefined;
  } else if (schema.type === "string") {
    input = h("input", { value: current ?? "", placeholder: defaultText });
    read = () => input.value.trim() || undefined;
  } else if (isStringList(schema)) {
    input = h("input", { value: (current ?? []).join(", "), placeholder: defaultText ? defaultText.replace(/[[\]"]/g, "") : "all" });
    read = () => {
      const items = input.value.split(",").map((item) => item.trim()).filter(Boolean);
      return items.length ? items : undefined;
    };
  } else {
    // Lists of objects (lanes, slots, windows): JSON, checked by the server like the rest.
    input = h("textarea", { rows: 3, spellcheck: "false", placeholder: defaultText || "JSON" },
      current === undefined ? "" : JSON.stringify(current));
    read = () => {
      if (!input.value.trim()) return undefined;
      try {
        return JSON.parse(input.value);
      } catch {
        return input.value;  // sent as typed: the server names the field and what it expected
      }
    };
  }
  input.dataset.field = field;
  input.setAttribute("aria-label", `${moduleName} ${title}`);
  const label = h("label", { class: "field setting", title: schema.description ?? "" },
    h("span", { class: "field-label", text: unit ? `${title} (${unit})` : title }), input,
    h("span", { class: "setting-help muted", text: [schema.description, limits.join(", ")].filter(Boolean).join(" · ") }),
    h("span", { class: "field-error", "data-error-for": field }));
  return { element: label, read };
}

/**
 * @param modules GET /api/modules
 * @param current the camera's `modules` mapping
 */
export function createModuleForms(modules, current = {}) {
  const forms = modules.map((module) => {
    const settings = current[module.name] ?? {};
    const enabled = h("input", { type: "checkbox", checked: module.name in current, "data-module": module.name,
      "data-testid": "module-switch" });
    const inputs = Object.entries(module.settings_schema.properties ?? {}).map(([name, property]) =>
      [name, settingInput(module.name, name, property, settings[name])]);
    const body = h("div", { class: "setting-grid" }, inputs.map(([, input]) => input.element));
    const details = h("details", { class: "module-form", "data-module": module.name, open: module.name in current },
      h("summary", {}, h("label", { class: "check", onclick: (click) => click.stopPropagation() }, enabled,
        h("b", { text: module.name })), h("span", { class: "muted", text: ` ${module.description}` }),
      h("span", { class: "field-error", "data-error-for": `modules.${module.name}` })),
      body);
    enabled.addEventListener("change", () => { if (enabled.checked) details.open = true; });
    return { name: module.name, enabled, inputs, details };
  });
  return {
    element: h("div", { class: "module-forms", "data-testid": "module-forms" }, forms.map((form) => form.details)),
    /** The `modules` mapping to save: switched-on modules with the settings that were set. */
    value() {
      const result = {};
      for (const form of forms) {
        if (!form.enabled.checked) continue;
        const settings = {};
        for (const [name, input] of form.inputs) {
          const value = input.read();
          if (value !== undefined) settings[name] = value;
        }
        result[form.name] = settings;
      }
      return result;
    },
  };
}
