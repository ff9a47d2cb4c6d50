// The alert routes of the REST API: rules (read and write), actions, fired alerts. Writes go
// through the session's sendJson, which carries the CSRF token.
import { getJson } from "./api.js";
import { sendJson } from "./login.js";

const rulePath = (id, rest = "") =>
  `/api/alert-rules/${encodeURIComponent(id)}${rest ? `/${rest}` : ""}`;

export const fetchRules = () => getJson("/api/alert-rules");
export const fetchActions = () => getJson("/api/alert-actions");
export const fetchAlerts = (params) => getJson("/api/alerts", params);
export const fetchEvent = (id) => getJson(`/api/events/${encodeURIComponent(id)}`);
export const createRule = (rule) => sendJson("POST", "/api/alert-rules", rule);
export const replaceRule = (id, rule) => sendJson("PUT", rulePath(id), rule);
export const deleteRule = (id) => sendJson("DELETE", rulePath(id));
export const testRule = (id) => sendJson("POST", rulePath(id, "test"));
export const previewRule = (rule) => sendJson("POST", "/api/alert-rules/preview", rule);
