// Form controls shared by the Events and Counters pages.
import { h, toLocalInputValue } from "./dom.js";

const HOUR_MS = 3600 * 1000;
export const PERIODS = {
  "1h": { label: "Last hour", ms: HOUR_MS },
  "24h": { label: "Last 24 hours", ms: 24 * HOUR_MS },
  "7d": { label: "Last 7 days", ms: 7 * 24 * HOUR_MS },
};

/** A labelled form field. */
export const field = (label, control, extraClass = "") =>
  h("label", { class: `field ${extraClass}`.trim() }, h("span", { class: "field-label", text: label }),
    control);

/** A <select> with an "all" option first; options are [value, label] pairs or plain strings. */
export function select(name, allLabel, options, value = "") {
  const control = h("select", { name });
  setOptions(control, allLabel, options, value);
  return control;
}

export function setOptions(control, allLabel, options, value = control.value) {
  const items = options.map((option) => (Array.isArray(option) ? option : [option, option]));
  control.replaceChildren(
    ...(allLabel === null ? [] : [h("option", { value: "", text: allLabel })]),
    ...items.map(([optionValue, label]) => h("option", { value: optionValue, text: label })),
  );
  // Keep the choice when it is still offered; otherwise fall back to the first option.
  control.value = items.some(([optionValue]) => optionValue === value) ? value
    : control.options[0]?.value ?? "";
}

/**
 * Period picker: presets relative to now, or (when `custom` is true) a datetime-local range
 * in the browser's time zone. `range()` gives {start, end} as ISO 8601 UTC for the API.
 */
export function periodPicker({ period = "1h", from = "", to = "", custom = true, onChange }) {
  const options = Object.entries(PERIODS).map(([value, preset]) => [value, preset.label]);
  if (custom) options.push(["custom", "Custom…"]);
  const choice = select("period", null, options, period);
  const now = Date.now();
  const fromInput = h("input", { type: "datetime-local", name: "from",
    value: from || toLocalInputValue(now - HOUR_MS) });
  const toInput = h("input", { type: "datetime-local", name: "to", value: to || toLocalInputValue(now) });
  const customFields = h("span", { class: "custom-range" },
    field("From", fromInput), field("To", toInput));

  const showCustom = () => { customFields.hidden = choice.value !== "custom"; };
  showCustom();
  choice.addEventListener("change", () => { showCustom(); onChange(); });
  fromInput.addEventListener("change", onChange);
  toInput.addEventListener("change", onChange);

  return {
    element: h("span", { class: "period" }, field("Period", choice), customFields),
    get value() {
      return { period: choice.value, from: fromInput.value, to: toInput.value };
    },
    range() {
      if (choice.value === "custom") {
        // new Date("YYYY-MM-DDTHH:MM") reads the value as local time, as the input shows it.
        const start = fromInput.value ? new Date(fromInput.value) : null;
        const end = toInput.value ? new Date(toInput.value) : null;
        return { start: start?.toISOString(), end: end?.toISOString() };
      }
      const end = Date.now();
      return {
        start: new Date(end - PERIODS[choice.value].ms).toISOString(),
        end: new Date(end).toISOString(),
      };
    },
  };
}
