// Users page (tenant admins and system administrators): users and their roles, camera
// groups, and the tenant's privacy and retention settings. Every change is audited.
import { sendJson, currentUser } from "./login.js";
import { errorBox, formatDateTime, h } from "./dom.js";

const ROLES = ["admin", "operator", "investigator", "viewer", "auditor"];
const SYSTEM_ROLES = [...ROLES, "sysadmin"];

const getJson = (path) => sendJson("GET", path);

function section(title, ...children) {
  return h("section", { class: "admin-section" }, h("h2", { class: "section-title", text: title }), children);
}

export function mountUsers(container) {
  const me = currentUser();
  const system = me?.role === "sysadmin";
  const problem = h("div", { "data-testid": "users-problem" });
  const body = h("tbody", { "data-testid": "user-rows" });
  const groupsBody = h("tbody", { "data-testid": "group-rows" });
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

  function userRow(user) {
    const state = user.disabled ? "disabled" : user.locked ? "locked" : "active";
    const actions = h("td", { class: "row-actions" },
      h("button", { class: "button", type: "button", text: user.disabled ? "Enable" : "Disable",
        disabled: user.username === me?.username,
        onclick: () => act(() => sendJson("PATCH", `/api/users/${user.id}`, { disabled: !user.disabled })) }),
      h("button", { class: "button", type: "button", text: "Reset password",
        onclick: () => {
          const password = prompt(`New password for ${user.username} (12+ characters)`);
          if (password) act(() => sendJson("POST", `/api/users/${user.id}/password`, { password }));
        } }),
      user.locked ? h("button", { class: "button", type: "button", text: "Unlock",
        onclick: () => act(() => sendJson("POST", `/api/users/${user.id}/unlock`)) }) : null,
      h("button", { class: "button danger", type: "button", text: "Delete",
        disabled: user.username === me?.username,
        onclick: () => {
          if (confirm(`Delete ${user.username}, with their sessions and tokens?`)) {
            act(() => sendJson("DELETE", `/api/users/${user.id}`));
          }
        } }));
    const role = h("select", { "aria-label": `Role of ${user.username}`, disabled: user.username === me?.username,
      onchange: (change) => act(() => sendJson("PATCH", `/api/users/${user.id}`, { role: change.target.value })) },
    (system ? SYSTEM_ROLES : ROLES).map((name) => h("option", { value: name, text: name, selected: name === user.role })));
    return h("tr", { "data-testid": "user-row", "data-username": user.username },
      h("td", { text: user.username }), h("td", {}, role),
      h("td", { text: user.tenant ?? "(system)" }), h("td", { text: user.camera_groups.join(", ") }),
      h("td", {}, h("span", { class: "state", "data-state": state, text: state })),
      h("td", { text: user.last_login ? formatDateTime(Date.parse(user.last_login)) : "never" }),
      actions);
  }

  const inputs = {
    username: h("input", { name: "username", required: true, autocomplete: "off", "data-testid": "new-username" }),
    password: h("input", { name: "password", type: "password", required: true, minlength: 12,
      autocomplete: "new-password", "data-testid": "new-password" }),
    role: h("select", { name: "role", "data-testid": "new-role" },
      (system ? SYSTEM_ROLES : ROLES).map((name) => h("option", { value: name, text: name }))),
    tenant: h("input", { name: "tenant", placeholder: system ? "tenant id" : me?.tenant ?? "", disabled: !system }),
    groups: h("input", { name: "groups", placeholder: "all cameras" }),
  };
  const label = (text, control) => h("label", { class: "field" }, h("span", { class: "field-label", text }), control);
  const create = h("form", { class: "toolbar", "data-testid": "create-user",
    onsubmit: (submit) => {
      submit.preventDefault();
      const groups = inputs.groups.value.split(",").map((item) => item.trim()).filter(Boolean);
      act(async () => {
        await sendJson("POST", "/api/users", { username: inputs.username.value.trim(),
          password: inputs.password.value, role: inputs.role.value,
          tenant: system ? inputs.tenant.value.trim() || null : null, camera_groups: groups });
        create.reset();
      });
    } },
  label("User name", inputs.username), label("Password", inputs.password), label("Role", inputs.role),
  label("Tenant", inputs.tenant), label("Camera groups", inputs.groups),
  h("span", { class: "toolbar-end" }, h("button", { class: "button primary", type: "submit", text: "Create user" })));

  const groupName = h("input", { name: "group", required: true, pattern: "[a-z0-9][a-z0-9_-]*", placeholder: "name" });
  const groupCameras = h("input", { name: "cameras", placeholder: "camera ids, comma-separated" });
  const groupForm = h("form", { class: "toolbar",
    onsubmit: (submit) => {
      submit.preventDefault();
      const cameras = groupCameras.value.split(",").map((item) => item.trim()).filter(Boolean);
      act(() => sendJson("PUT", `/api/groups/${encodeURIComponent(groupName.value)}`, { cameras }));
    } },
  label("Group", groupName), label("Cameras", groupCameras),
  h("span", { class: "toolbar-end" }, h("button", { class: "button", type: "submit", text: "Save group" })));

  const colors = h("input", { type: "checkbox", "data-testid": "person-colors",
    onchange: (change) => act(() => sendJson("PUT", "/api/settings/privacy", { person_colors: change.target.checked })) });
  const eventsDays = h("input", { type: "number", min: 1, step: "any", name: "events_days" });
  const mediaHours = h("input", { type: "number", min: 1, step: "any", name: "media_hours" });
  const retentionNote = h("p", { class: "muted" });
  const settings = h("form", { class: "toolbar",
    onsubmit: (submit) => {
      submit.preventDefault();
      act(() => sendJson("PUT", "/api/retention", {
        events_days: eventsDays.value ? Number(eventsDays.value) : null,
        media_hours: mediaHours.value ? Number(mediaHours.value) : null,
      }));
    } },
  h("label", { class: "field check" }, colors, h("span", { text: "Keep colours of people (off by default; audited)" })),
  label("Events kept (days)", eventsDays), label("Snapshots kept (hours)", mediaHours),
  h("span", { class: "toolbar-end" }, h("button", { class: "button", type: "submit", text: "Save retention" })));

  container.append(problem,
    section("Users", create, h("div", { class: "table-wrap" }, h("table", { class: "results" },
      h("thead", {}, h("tr", {}, ["User", "Role", "Tenant", "Camera groups", "State", "Last login", ""]
        .map((text) => h("th", { text })))), body))),
    system ? null : section("Camera groups", groupForm, h("div", { class: "table-wrap" },
      h("table", { class: "results" }, h("thead", {}, h("tr", {}, ["Group", "Cameras", ""].map((text) => h("th", { text })))),
        groupsBody))),
    system ? null : section("Privacy and retention", settings, retentionNote));

  async function refresh() {
    const users = await getJson("/api/users");
    if (stopped) return;
    body.replaceChildren(...users.map(userRow));
    if (system) return;
    const [groups, privacy, retention] = await Promise.all([
      getJson("/api/groups"), getJson("/api/settings/privacy"), getJson("/api/retention")]);
    if (stopped) return;
    groupsBody.replaceChildren(...groups.map((group) => h("tr", {},
      h("td", { text: group.name }), h("td", { text: group.cameras.join(", ") }),
      h("td", { class: "row-actions" }, h("button", { class: "button danger", type: "button", text: "Delete",
        onclick: () => act(() => sendJson("DELETE", `/api/groups/${encodeURIComponent(group.name)}`)) })))));
    colors.checked = privacy.person_colors;
    eventsDays.placeholder = String(retention.global.events_days);
    mediaHours.placeholder = String(retention.global.media_hours);
    eventsDays.value = retention.tenant_override.events_days ?? "";
    mediaHours.value = retention.tenant_override.media_hours ?? "";
    retentionNote.textContent = `Global defaults: events ${retention.global.events_days} days, `
      + `snapshots ${retention.global.media_hours} hours`
      + (retention.media_quota_mb ? `, media quota ${retention.media_quota_mb} MB` : "")
      + ". Cameras may override these in their settings; open cases keep their evidence.";
  }

  refresh().catch((error) => problem.append(errorBox(error.message)));
  return () => { stopped = true; };
}
