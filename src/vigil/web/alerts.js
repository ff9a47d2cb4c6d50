// Alerts page: alert rules (list, add, edit, delete, test) and the alerts they fired, with the
// outcome of each action; a fired alert opens its event in the detail panel. Rules of the
// config file are read-only here, and changing rules needs the config:write permission.
// `#/alerts?event=<id>` (the link in notifications) opens that event directly. Fired alerts
// show who acknowledged them (and the note) or an Acknowledge button, and their escalation.
import { actionsSection } from "./alert-actions.js";
import { cameraAlertingSection } from "./alert-cameras.js";
import { fetchCameras, fetchModules } from "./api.js";
import {
  createRule, deleteRule, fetchActions, fetchAlerts, fetchEvent, fetchRules, previewRule,
  replaceRule, testRule,
} from "./alerts-api.js";
import { ACKNOWLEDGED, askAcknowledgement } from "./banner.js";
import { field, select, setOptions } from "./controls.js";
import { openDetail } from "./detail.js";
import { errorBox, every, formatDateTime, h, typeLabel } from "./dom.js";
import { can } from "./login.js";

const POLL_MS = 5000;
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const COMMON_CLASSES = ["person", "bicycle", "car", "motorcycle", "bus", "truck", "backpack",
  "handbag", "suitcase"];
const STATUSES = ["pending", "delivered", "partial", "failed", "recorded"];

const hashParams = () => new URLSearchParams(location.hash.split("?")[1] ?? "");
const numberOrNull = (input) => (input.value.trim() === "" ? null : Number(input.value));
const listOrNull = (text) => {
  const items = text.split(",").map((item) => item.trim()).filter(Boolean);
  return items.length ? items : null;
};

/** One line saying what a rule matches, for the rules table. */
function conditions(rule) {
  const parts = [];
  if (rule.module) parts.push(`module ${rule.module}`);
  if (rule.type) parts.push(typeLabel(rule.type));
  if (rule.cameras) parts.push(`camera ${rule.cameras.join(", ")}`);
  if (rule.zone) parts.push(`zone ${rule.zone}`);
  if (rule.line) parts.push(`line ${rule.line}`);
  if (rule.direction) parts.push(`going ${rule.direction}`);
  if (rule.classes) parts.push(rule.classes.join(", "));
  if (rule.phase) parts.push(`at ${rule.phase}`);
  if (rule.min_dwell_s !== null) parts.push(`dwell ≥ ${rule.min_dwell_s} s`);
  if (rule.min_score !== null) parts.push(`score ≥ ${rule.min_score}`);
  if (rule.count) parts.push(`≥ ${rule.count.at_least} within ${rule.count.window_s} s`);
  if (rule.escalation) {
    parts.push(`unacknowledged after ${rule.escalation.after_min} min: ${rule.escalation.actions.join(", ")}`);
  }
  if (rule.schedule) {
    const windows = rule.schedule.windows.map((w) => `${w.days.join(" ")} ${w.start}–${w.end}`);
    parts.push(`${windows.join("; ")} (${rule.schedule.timezone})`);
  }
  return parts.length ? parts.join(" · ") : "every event";
}

function checkbox(name, checked, label) {
  const input = h("input", { type: "checkbox", name, checked });
  return { input, element: h("label", { class: "check" }, input, h("span", { text: label })) };
}

/** The add/edit form. `rule` is null for a new rule. */
function ruleForm({ rule, cameras, modules, actions, onDone }) {
  const input = (name, props = {}) => h("input", { name, autocomplete: "off", ...props });
  const numeric = (name, props = {}) => input(name, { type: "number", min: 0, step: "any", ...props });
  const c = {
    name: input("name", { maxlength: 256, placeholder: "What it is about" }),
    cameras: h("select", { name: "cameras", multiple: true, size: 3 },
      cameras.map((camera) => h("option", { value: camera.id, text: camera.name || camera.id }))),
    module: select("module", "Any module", modules.map((module) => module.name)),
    type: input("type", { placeholder: "any, e.g. line.crossing" }),
    zone: select("zone", "Any zone", []),
    line: select("line", "Any line", []),
    classes: input("classes", { placeholder: "any, e.g. person, car", list: "alert-classes" }),
    direction: select("direction", "Any direction", ["in", "out"]),
    phase: select("phase", "First match", [["start", "When it starts"], ["end", "When it ends"]]),
    minDwell: numeric("min_dwell_s", { placeholder: "none" }),
    minScore: numeric("min_score", { max: 1, step: 0.05, placeholder: "none" }),
    atLeast: numeric("count_at_least", { min: 1, step: 1, placeholder: "none" }),
    window: numeric("count_window_s", { min: 1, placeholder: "seconds" }),
    cooldown: numeric("cooldown_s", { value: 0 }),
    scheduled: select("schedule", null, [["always", "Always"], ["weekly", "Weekly schedule"]]),
    timezone: input("timezone", { value: Intl.DateTimeFormat().resolvedOptions().timeZone }),
    start: input("start", { type: "time", value: "22:00" }),
    end: input("end", { type: "time", value: "06:00" }),
    escalateAfter: numeric("escalation_after_min", { min: 1, step: 1, placeholder: "never" }),
    escalateTo: select("escalation_action", "No escalation", actions.map((action) => action.name)),
  };
  const perCamera = checkbox("cooldown_per_camera", true, "per camera");
  const enabled = checkbox("enabled", true, "enabled");
  const days = DAYS.map((day) => checkbox(`day-${day}`, true, day));
  const actionBoxes = actions.map((action) => ({
    name: action.name, ...checkbox(`action-${action.name}`, false, `${action.name} (${action.type})`),
  }));
  const problem = h("div", { id: "rule-problem" });
  const scheduleFields = h("fieldset", { class: "rule-fieldset" },
    h("legend", { text: "Days and hours (end before start: past midnight)" }),
    h("div", { class: "checks" }, days.map((day) => day.element)),
    field("Time zone", c.timezone), field("From", c.start), field("To", c.end));
  // A schedule of several windows cannot be edited here; it is kept as it is.
  let keptSchedule = null;

  const selectedCameras = () => [...c.cameras.selectedOptions].map((option) => option.value);
  function refreshPlaces(zone = c.zone.value, line = c.line.value) {
    const chosen = selectedCameras();
    const of = (kind) => [...new Set(cameras
      .filter((camera) => chosen.length === 0 || chosen.includes(camera.id))
      .flatMap((camera) => (camera[kind] ?? []).map((item) => item.name)))].sort();
    setOptions(c.zone, "Any zone", of("zones"), zone);
    setOptions(c.line, "Any line", of("lines"), line);
  }
  const showSchedule = () => { scheduleFields.hidden = c.scheduled.value !== "weekly" || !!keptSchedule; };

  if (rule) {
    c.name.value = rule.name;
    for (const option of c.cameras.options) option.selected = (rule.cameras ?? []).includes(option.value);
    c.module.value = rule.module ?? "";
    c.type.value = rule.type ?? "";
    c.classes.value = (rule.classes ?? []).join(", ");
    c.direction.value = rule.direction ?? "";
    c.phase.value = rule.phase ?? "";
    c.minDwell.value = rule.min_dwell_s ?? "";
    c.minScore.value = rule.min_score ?? "";
    c.atLeast.value = rule.count?.at_least ?? "";
    c.window.value = rule.count?.window_s ?? "";
    c.cooldown.value = rule.cooldown_s;
    perCamera.input.checked = rule.cooldown_per_camera;
    enabled.input.checked = rule.enabled;
    for (const box of actionBoxes) box.input.checked = rule.actions.includes(box.name);
    c.escalateAfter.value = rule.escalation?.after_min ?? "";
    c.escalateTo.value = rule.escalation?.actions[0] ?? "";
    if (rule.schedule) {
      c.scheduled.value = "weekly";
      const windows = rule.schedule.windows;
      if (windows.length > 1) keptSchedule = rule.schedule;
      c.timezone.value = rule.schedule.timezone;
      c.start.value = windows[0].start === "24:00" ? "23:59" : windows[0].start;
      c.end.value = windows[0].end === "24:00" ? "00:00" : windows[0].end;
      for (const day of days) day.input.checked = windows[0].days.includes(day.input.name.slice(4));
    }
  }
  refreshPlaces(rule?.zone ?? "", rule?.line ?? "");
  showSchedule();
  c.cameras.addEventListener("change", () => refreshPlaces());
  c.scheduled.addEventListener("change", showSchedule);

  function schedule() {
    if (c.scheduled.value !== "weekly") return null;
    if (keptSchedule) return keptSchedule;
    return {
      timezone: c.timezone.value.trim(),
      windows: [{
        days: days.filter((day) => day.input.checked).map((day) => day.input.name.slice(4)),
        start: c.start.value, end: c.end.value,
      }],
    };
  }

  function body() {
    const atLeast = numberOrNull(c.atLeast);
    const chosen = selectedCameras();
    return {
      name: c.name.value.trim(),
      enabled: enabled.input.checked,
      module: c.module.value || null,
      type: c.type.value.trim() || null,
      cameras: chosen.length ? chosen : null,
      zone: c.zone.value || null,
      line: c.line.value || null,
      classes: listOrNull(c.classes.value),
      direction: c.direction.value || null,
      phase: c.phase.value || null,
      min_dwell_s: numberOrNull(c.minDwell),
      min_score: numberOrNull(c.minScore),
      count: atLeast === null ? null : { at_least: atLeast, window_s: numberOrNull(c.window) },
      schedule: schedule(),
      cooldown_s: numberOrNull(c.cooldown) ?? 0,
      cooldown_per_camera: perCamera.input.checked,
      actions: actionBoxes.filter((box) => box.input.checked).map((box) => box.name),
      escalation: c.escalateTo.value
        ? { after_min: numberOrNull(c.escalateAfter), actions: [c.escalateTo.value] } : null,
    };
  }

  // The API names the field at fault first ("type: …", "body.min_score: …"); the form marks it.
  const fieldNames = { type: "type", cooldown_s: "cooldown_s", min_score: "min_score",
    min_dwell_s: "min_dwell_s", name: "name", escalation: "escalation_after_min",
    actions: "escalation_action", schedule: "timezone" };
  function showProblem(message) {
    for (const marked of form.querySelectorAll("[aria-invalid]")) marked.removeAttribute("aria-invalid");
    problem.replaceChildren(errorBox(message));
    const key = /^(?:body\.)?([a-z_]+)/.exec(message)?.[1];
    const target = key && form.querySelector(`[name="${fieldNames[key] ?? key}"]`);
    if (target) {
      target.setAttribute("aria-invalid", "true");
      target.setAttribute("aria-describedby", "rule-problem");
      target.focus();
    }
  }
  /** The checks the server makes too, so that an empty form is refused before it is sent. */
  function localProblem(rule) {
    const conditions = [rule.module, rule.type, rule.zone, rule.line, rule.classes, rule.direction,
      rule.min_dwell_s, rule.min_score, rule.count];
    if (conditions.every((value) => value === null)) {
      return "type: the rule has no condition and would fire for every event; choose an event type or module, a zone or line, or object classes";
    }
    if (rule.escalation && !(rule.escalation.after_min > 0)) {
      return "escalation: say after how many minutes without acknowledgement to escalate";
    }
    return null;
  }
  const previewText = h("p", { class: "result-summary", role: "status", "data-testid": "rule-preview" });
  async function tryRule() {
    previewText.textContent = "Trying the rule on the last 24 hours…";
    try {
      const result = await previewRule(body());
      const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
      previewText.textContent = `In the last 24 hours this rule would have matched ${plural(result.matched, "event")} and fired ${plural(result.fired, "alert")}`
        + (result.truncated ? ` (only the newest ${result.scanned} events were tried)` : "") + ".";
      if (result.problem) showProblem(result.problem);
      else problem.replaceChildren();
    } catch (error) {
      previewText.textContent = "";
      showProblem(error.message);
    }
  }

  const save = h("button", { class: "button primary", type: "submit", text: rule ? "Save rule" : "Add rule" });
  const form = h("form", { class: "rule-form", "data-testid": "rule-form",
    onsubmit: async (submit) => {
      submit.preventDefault();
      const local = localProblem(body());
      if (local) {
        showProblem(local);
        return;
      }
      save.disabled = true;
      try {
        if (rule) await replaceRule(rule.id, body());
        else await createRule(body());
        onDone(true);
      } catch (error) {
        showProblem(error.message);
      } finally {
        save.disabled = false;
      }
    } },
  h("h3", { text: rule ? `Edit rule ${rule.id}` : "New rule" }),
  h("div", { class: "rule-grid" },
    field("Name", c.name), field("Cameras (none: all)", c.cameras), field("Module", c.module),
    field("Event type", c.type), field("Zone", c.zone), field("Line", c.line),
    field("Classes", c.classes), field("Direction", c.direction), field("Fires", c.phase),
    field("Minimum dwell (s)", c.minDwell), field("Minimum score", c.minScore),
    field("At least … events", c.atLeast), field("… within (s)", c.window),
    field("Cool-down (s)", c.cooldown), field("Active", c.scheduled)),
  h("datalist", { id: "alert-classes" }, COMMON_CLASSES.map((name) => h("option", { value: name }))),
  keptSchedule ? h("p", { class: "muted", text: `This rule's schedule has ${keptSchedule.windows.length} windows; it is kept as it is (change it through the API).` }) : null,
  scheduleFields,
  h("fieldset", { class: "rule-fieldset" }, h("legend", { text: "Actions" }),
    actionBoxes.length ? h("div", { class: "checks" }, actionBoxes.map((box) => box.element))
      : h("p", { class: "muted", text: "No actions are configured (alerts.actions in the config file); fired alerts are still recorded." })),
  h("fieldset", { class: "rule-fieldset" },
    h("legend", { text: "Escalation: when nobody acknowledges an alert" }),
    field("After (minutes)", c.escalateAfter), field("Send through", c.escalateTo)),
  h("div", { class: "checks" }, perCamera.element, enabled.element),
  problem, previewText,
  h("div", { class: "form-buttons" }, save,
    h("button", { class: "button", type: "button", text: "Test this rule", "data-testid": "rule-try",
      onclick: tryRule }),
    h("button", { class: "button", type: "button", text: "Cancel", onclick: () => onDone(false) })));
  return form;
}

function outcomeChips(alert) {
  const entries = Object.entries(alert.outcomes);
  if (!entries.length) return h("span", { class: "muted", text: "no actions" });
  return entries.map(([name, outcome]) => h("span", {
    class: "outcome", "data-testid": "action-outcome", "data-status": outcome.status,
    title: outcome.last_error ?? "",
    text: `${name}: ${outcome.status}${outcome.attempts > 1 ? ` (${outcome.attempts} attempts)` : ""}`,
  }));
}

function acknowledgement(alert, onAcknowledge) {
  const done = alert.acknowledged;
  const escalated = alert.escalated ? h("span", { class: "escalated-badge", "data-testid": "alert-escalated",
    title: Object.entries(alert.escalated.outcomes).map(([name, o]) =>
      `${name}: ${o.status}${o.attempts > 1 ? ` after ${o.attempts} attempts` : ""}`).join(", "),
    text: `escalated ${formatDateTime(alert.escalated.at_ms)}` }) : null;
  if (done) {
    return [h("span", { class: "ack-by", "data-testid": "alert-ack",
      text: `${done.by}, ${formatDateTime(done.at_ms)}` }),
    done.note ? h("span", { class: "ack-note", text: done.note }) : null, escalated];
  }
  const button = can("alerts:ack") ? h("button", { class: "button", type: "button", text: "Acknowledge",
    "data-testid": "alert-ack-button", onclick: (click) => {
      click.stopPropagation(); // the row opens the event
      onAcknowledge(alert);
    } }) : h("span", { class: "muted", text: "firing" });
  return [button, escalated];
}

function alertRow(alert, onAcknowledge) {
  const event = alert.event;
  const open = () => event && openDetail(event);
  return h("tr", {
    class: event ? "result-row" : "", "data-testid": "alert-row", "data-alert-id": alert.id,
    "data-rule-id": alert.rule_id, tabindex: event ? 0 : null, onclick: open,
    onkeydown: (key) => key.key === "Enter" && open(),
  },
  h("td", { class: "cell-time", text: formatDateTime(alert.fired_ms) }),
  h("td", { text: alert.rule_name }),
  h("td", { class: "cell-camera", text: event?.camera_name ?? alert.camera_id }),
  h("td", {}, h("span", { class: "type-badge", "data-module": event?.module ?? "",
    text: typeLabel(alert.event_type) }), event ? null : h("span", { class: "muted", text: " (event removed)" })),
  h("td", {}, h("span", { class: "alert-status", "data-testid": "alert-status",
    "data-status": alert.status, text: alert.status })),
  h("td", { class: "outcomes" }, outcomeChips(alert)),
  h("td", { class: "ack-cell", onkeydown: (key) => key.stopPropagation() },
    acknowledgement(alert, onAcknowledge)));
}

export function mountAlerts(container) {
  let cameras = [];
  let modules = [];
  let actions = [];
  let rules = [];
  let stopped = false;
  const problem = h("div");
  const formSlot = h("div");
  const testResult = h("p", { class: "result-summary", role: "status", "aria-live": "polite" });
  const ruleBody = h("tbody", { "data-testid": "rule-list" });
  const alertBody = h("tbody", { "data-testid": "alert-list" });
  const alertSummary = h("p", { class: "result-summary", role: "status" });
  const ruleFilter = select("rule", "All rules", []);
  const statusFilter = select("status", "Any status", STATUSES);
  // Enabled once cameras, modules and actions are known: the form offers them.
  const mayChange = can("config:write");
  const add = h("button", { class: "button", type: "button", "data-testid": "new-rule",
    text: "New rule", disabled: true, hidden: !mayChange, onclick: () => edit(null) });

  container.append(
    h("section", { class: "alerts-section" },
      h("div", { class: "section-head" }, h("h2", { text: "Alert rules" }), add),
      problem, formSlot, testResult,
      h("div", { class: "table-wrap" }, h("table", { class: "results" },
        h("thead", {}, h("tr", {}, ["Rule", "Origin", "Matches", "Actions", "Cool-down", "", ""]
          .map((label) => h("th", { scope: "col", text: label })))),
        ruleBody))),
    h("section", { class: "alerts-section" },
      h("div", { class: "section-head" }, h("h2", { text: "Fired alerts" }),
        h("form", { class: "toolbar", onsubmit: (submit) => submit.preventDefault() },
          field("Rule", ruleFilter), field("Status", statusFilter))),
      h("div", { class: "table-wrap" }, h("table", { class: "results" },
        h("thead", {}, h("tr", {}, ["Fired", "Rule", "Camera", "Event", "Status", "Deliveries",
          "Acknowledged"]
          .map((label) => h("th", { scope: "col", text: label })))),
        alertBody)),
      alertSummary),
    actionsSection(mayChange, () => fetchActions().then((fresh) => { actions = fresh; }, () => {})),
    cameraAlertingSection(mayChange));

  function edit(rule) {
    formSlot.replaceChildren(ruleForm({ rule, cameras, modules, actions, onDone: (saved) => {
      formSlot.replaceChildren();
      if (saved) loadRules();
    } }));
    formSlot.querySelector("input[name=name]")?.focus();
  }

  async function remove(rule) {
    if (!window.confirm(`Delete the alert rule "${rule.name || rule.id}"? Its fired alerts are kept.`)) return;
    try {
      await deleteRule(rule.id);
      await loadRules();
    } catch (error) {
      problem.replaceChildren(errorBox(`The rule was not deleted: ${error.message}`));
    }
  }

  async function test(rule) {
    testResult.textContent = `Sending a test alert for ${rule.name || rule.id}…`;
    try {
      const { outcomes } = await testRule(rule.id);
      const lines = Object.entries(outcomes).map(([name, outcome]) =>
        `${name}: ${outcome.ok ? "delivered" : "failed"} (${outcome.detail})`);
      testResult.textContent = lines.length ? `Test of ${rule.name || rule.id} — ${lines.join("; ")}`
        : `${rule.name || rule.id} has no actions to test.`;
    } catch (error) {
      testResult.textContent = `The test failed: ${error.message}`;
    }
  }

  function ruleRow(rule) {
    const fromApi = rule.origin === "api";
    return h("tr", { "data-testid": "rule-row", "data-rule-id": rule.id, "data-enabled": String(rule.enabled) },
      h("td", {}, h("span", { class: "rule-name", text: rule.name || rule.id }),
        h("span", { class: "muted rule-id", text: ` ${rule.id}` })),
      h("td", {}, h("span", { class: "kind", "data-testid": "rule-origin", text: rule.origin })),
      h("td", { class: "rule-conditions", text: `${rule.enabled ? "" : "(disabled) "}${conditions(rule)}` }),
      h("td", { text: rule.actions.join(", ") || "—" }),
      h("td", { class: "num", text: rule.cooldown_s ? `${rule.cooldown_s} s` : "—" }),
      h("td", {}, mayChange ? h("button", { class: "button", type: "button", text: "Test",
        onclick: () => test(rule) }) : null),
      h("td", {}, !mayChange ? null : fromApi ? [
        h("button", { class: "button", type: "button", text: "Edit", onclick: () => edit(rule) }),
        h("button", { class: "button", type: "button", text: "Delete", onclick: () => remove(rule) }),
      ] : h("span", { class: "muted", text: "config file" })));
  }

  async function loadRules() {
    rules = await fetchRules();
    ruleBody.replaceChildren(...rules.map(ruleRow));
    if (!rules.length) ruleBody.append(h("tr", {}, h("td", { colspan: 7, class: "empty", text: "No alert rules yet." })));
    setOptions(ruleFilter, "All rules", rules.map((rule) => [rule.id, rule.name || rule.id]));
  }

  async function loadAlerts() {
    const page = await fetchAlerts({ limit: 100, rule: ruleFilter.value, status: statusFilter.value });
    if (stopped) return;
    alertBody.replaceChildren(...page.items.map((alert) => alertRow(alert, async (chosen) => {
      if (await askAcknowledgement({ ...chosen, camera_name: chosen.event?.camera_name })) await loadAlerts();
    })));
    alertSummary.textContent = page.items.length ? `${page.items.length} most recent alert${page.items.length === 1 ? "" : "s"}`
      : "No alerts have fired (for these filters).";
  }

  const reloadAlerts = () => loadAlerts().catch(() => {});
  window.addEventListener(ACKNOWLEDGED, reloadAlerts);
  ruleFilter.addEventListener("change", () => loadAlerts().catch(() => {}));
  statusFilter.addEventListener("change", () => loadAlerts().catch(() => {}));

  let stopPolling = () => {};
  (async () => {
    try {
      [cameras, modules, actions] = await Promise.all([fetchCameras(), fetchModules(), fetchActions()]);
      await loadRules();
      add.disabled = false;
    } catch (error) {
      problem.replaceChildren(errorBox(`Alert rules could not be loaded: ${error.message}`));
    }
    if (stopped) return;
    stopPolling = every(POLL_MS, async () => {
      try {
        await loadAlerts();
      } catch (error) {
        alertSummary.textContent = `Alerts could not be loaded: ${error.message}`;
      }
    });
    const eventId = hashParams().get("event");
    if (eventId) {
      try {
        openDetail(await fetchEvent(eventId));
      } catch (error) {
        problem.replaceChildren(errorBox(`Event ${eventId} could not be opened: ${error.message}`));
      }
    }
  })();

  return () => {
    stopped = true;
    stopPolling();
    window.removeEventListener(ACKNOWLEDGED, reloadAlerts);
  };
}
