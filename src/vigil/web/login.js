// The session: who is logged in (GET /api/auth/me), the login and first-run pages, the
// header's user menu and purpose field, and CSRF protection for every change the page makes.
import { errorBox, h } from "./dom.js";

let me = null;
const originalFetch = window.fetch.bind(window);
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** Pages and the permission each needs; pages not listed are shown to everyone logged in. */
const PAGE_PERMISSIONS = {
  live: "live", events: "events:read", counters: "stats:read", statistics: "stats:read",
  alerts: "alerts:read", search: "search", users: "users:manage", audit: "audit:read",
  playback: "media:read", review: "events:read", cameras: "config:write",
  // The map shows live events on their cameras.
  map: "events:read",
};

export const currentUser = () => me;
export const can = (permission) => Boolean(me?.permissions?.includes(permission));
export const pageAllowed = (page) => !(page in PAGE_PERMISSIONS) || can(PAGE_PERMISSIONS[page]);

/** The CSRF token of the session (double-submit cookie; the server checks it on writes). */
export function csrfToken() {
  const match = document.cookie.split("; ").find((item) => item.startsWith("vigil_csrf="));
  return match ? decodeURIComponent(match.slice("vigil_csrf=".length)) : "";
}

// Every same-origin change carries the CSRF header, whichever module sends it; a 401 from the
// API (an expired session) brings the login page back.
window.fetch = async (input, init = {}) => {
  const method = (init.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
  const url = new URL(input instanceof Request ? input.url : String(input), location.href);
  if (!SAFE.has(method) && url.origin === location.origin) {
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : {}));
    if (!headers.has("X-CSRF-Token")) headers.set("X-CSRF-Token", csrfToken());
    init = { ...init, headers };
  }
  const response = await originalFetch(input, init);
  if (response.status === 401 && me && url.origin === location.origin
      && url.pathname.startsWith("/api/") && !url.pathname.startsWith("/api/auth/login")) {
    me = null;
    showLogin(document.getElementById("page"), "Your session has ended; log in again.");
  }
  return response;
};

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

export async function sendJson(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { Accept: "application/json", ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? {} : await readJson(response);
  if (!response.ok) throw new Error(typeof data.detail === "string" ? data.detail : `${response.status} ${response.statusText}`);
  return data;
}

function setAnonymous(anonymous) {
  document.body.dataset.auth = anonymous ? "anonymous" : "user";
}

function loginForm(status, message) {
  const problem = h("div", { "data-testid": "login-problem" });
  if (message) problem.append(errorBox(message));
  const username = h("input", { name: "username", autocomplete: "username", required: true,
    "data-testid": "login-username", autofocus: true });
  const password = h("input", { name: "password", type: "password", required: true,
    autocomplete: "current-password", "data-testid": "login-password" });
  const form = h("form", { class: "auth-card", "data-testid": "login-form",
    onsubmit: async (submit) => {
      submit.preventDefault();
      problem.replaceChildren();
      try {
        await sendJson("POST", "/api/auth/login", { username: username.value, password: password.value });
        location.reload();
      } catch (error) {
        problem.append(errorBox(error.message));
      }
    } },
  h("h1", { text: "Log in to Vigil" }),
  h("label", { class: "field" }, h("span", { class: "field-label", text: "User name" }), username),
  h("label", { class: "field" }, h("span", { class: "field-label", text: "Password" }), password),
  problem,
  h("button", { class: "button primary", type: "submit", text: "Log in", "data-testid": "login-submit" }),
  status?.demo ? h("p", { class: "muted", text: "Demo: open the one-time login link printed in the "
    + "console where `vigil demo` runs, or log in as demo with the password printed there." }) : null,
  status?.setup_required && !status?.setup_here
    ? h("p", { class: "muted", text: "No administrator exists yet: run `vigil users create-admin` "
      + "on the server, or open this page on the server itself." }) : null);
  return form;
}

function setupForm() {
  const problem = h("div");
  const inputs = {
    code: h("input", { name: "code", required: true, autocomplete: "off", "data-testid": "setup-code" }),
    username: h("input", { name: "username", required: true, value: "admin", autocomplete: "username" }),
    password: h("input", { name: "password", type: "password", required: true, minlength: 12,
      autocomplete: "new-password", "data-testid": "setup-password" }),
    again: h("input", { name: "again", type: "password", required: true, autocomplete: "new-password" }),
  };
  return h("form", { class: "auth-card", "data-testid": "setup-form",
    onsubmit: async (submit) => {
      submit.preventDefault();
      problem.replaceChildren();
      if (inputs.password.value !== inputs.again.value) {
        problem.append(errorBox("The two passwords differ."));
        return;
      }
      try {
        await sendJson("POST", "/api/auth/setup", { code: inputs.code.value.trim(),
          username: inputs.username.value.trim(), password: inputs.password.value });
        location.reload();
      } catch (error) {
        problem.append(errorBox(error.message));
      }
    } },
  h("h1", { text: "Create the first administrator" }),
  h("p", { class: "muted", text: "Enter the one-time code printed in the server log. This page "
    + "works only on the server machine itself (127.0.0.1)." }),
  h("label", { class: "field" }, h("span", { class: "field-label", text: "Setup code" }), inputs.code),
  h("label", { class: "field" }, h("span", { class: "field-label", text: "User name" }), inputs.username),
  h("label", { class: "field" }, h("span", { class: "field-label", text: "Password (12+ characters)" }), inputs.password),
  h("label", { class: "field" }, h("span", { class: "field-label", text: "Password again" }), inputs.again),
  problem,
  h("button", { class: "button primary", type: "submit", text: "Create and log in" }));
}

async function showLogin(container, message = "") {
  setAnonymous(true);
  let status = {};
  try {
    status = await (await originalFetch("/api/auth/status")).json();
  } catch {
    // The form still works; only the hints are missing.
  }
  container.replaceChildren(status.setup_here ? setupForm() : loginForm(status, message));
  container.dataset.page = status.setup_here ? "setup" : "login";
  document.title = "Vigil · Log in";
}

function userMenu(user) {
  const items = [h("span", { class: "session-user", "data-testid": "session-user",
    text: `${user.username} · ${user.role ?? ""}${user.tenant ? ` · ${user.tenant}` : ""}` })];
  if (user.role === "investigator") {
    // Investigators state why they search and view; it is recorded with every access.
    const purpose = h("input", { class: "purpose", "data-testid": "session-purpose",
      placeholder: "Purpose (case number, reason)", value: user.purpose ?? "", maxlength: 512 });
    purpose.addEventListener("change", async () => {
      try {
        me = await sendJson("PUT", "/api/auth/purpose", { purpose: purpose.value });
      } catch (error) {
        purpose.setCustomValidity(error.message);
        purpose.reportValidity();
      }
    });
    items.push(purpose);
  }
  items.push(h("button", { class: "button", type: "button", text: "Log out",
    "data-testid": "logout", onclick: async () => {
      try {
        await sendJson("POST", "/api/auth/logout");
      } finally {
        location.hash = "";
        location.reload();
      }
    } }));
  return h("div", { class: "session", "data-testid": "session" }, items);
}

/** Find out who is logged in; show the login page if nobody is, else call `ready(user)`. */
export async function startSession(ready) {
  const container = document.getElementById("page");
  let response;
  try {
    response = await originalFetch("/api/auth/me", { headers: { Accept: "application/json" } });
  } catch {
    container.replaceChildren(errorBox("The Vigil server cannot be reached."));
    return;
  }
  if (!response.ok) {
    await showLogin(container);
    return;
  }
  me = await response.json();
  setAnonymous(false);
  document.body.dataset.role = me.role ?? "";
  for (const link of document.querySelectorAll(".nav a[data-page]")) {
    link.hidden = !pageAllowed(link.dataset.page);
  }
  // Only roles that may search see the search box (the server refuses the others anyway).
  document.querySelector(".header-search")?.toggleAttribute("hidden", !can("search"));
  document.querySelector(".topbar").append(userMenu(me));
  ready(me);
}
