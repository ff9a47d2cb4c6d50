// The Vigil REST API, same origin. Every URL is built here so the pages never concatenate
// user-supplied ids into paths unescaped.

import { can } from "./login.js";

class ApiError extends Error {}

/** A path with a query string; empty and missing values are left out. */
function apiUrl(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

function describeDetail(detail) {
  // FastAPI validation errors arrive as a list of {loc, msg}; others as a string.
  if (Array.isArray(detail)) return detail.map((item) => item.msg ?? JSON.stringify(item)).join("; ");
  return typeof detail === "string" ? detail : JSON.stringify(detail);
}

export async function getJson(path, params = {}) {
  let response;
  try {
    response = await fetch(apiUrl(path, params), { headers: { Accept: "application/json" } });
  } catch {
    throw new ApiError("The Vigil server cannot be reached.");
  }
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body?.detail) detail = describeDetail(body.detail);
    } catch {
      // The body was not JSON; the status line says enough.
    }
    throw new ApiError(detail);
  }
  return response.json();
}

const cameraPath = (id, rest) => `/api/cameras/${encodeURIComponent(id)}/${rest}`;

export const fetchHealth = () => getJson("/healthz");
export const fetchCameras = () => getJson("/api/cameras");
export const fetchModules = () => getJson("/api/modules");
export const fetchStats = (cameraId) => getJson(cameraPath(cameraId, "stats"));
export const fetchEvents = (filters) => getJson("/api/events", { ...filters, format: "json" });
export const fetchCounts = (params) => getJson("/api/counts", params);
export const fetchSeries = (params) => getJson("/api/series", { ...params, format: "json" });
export const seriesCsvUrl = (params) => apiUrl("/api/series", { ...params, format: "csv" });

export const eventsCsvUrl = (filters) => apiUrl("/api/events", { ...filters, format: "csv" });
export const eventStreamUrl = (params = {}) => apiUrl("/api/events/stream", params);
export const liveStreamUrl = (id, width) =>
  apiUrl(cameraPath(id, "live.mjpeg"), { overlay: true, fps: 5, width });
export const liveFrameUrl = (id, width, nonce) =>
  apiUrl(cameraPath(id, "live.jpg"), { overlay: true, width, t: nonce });
// Roles without media:read (operators, viewers) get no snapshot URL: no image is requested.
export const snapshotUrl = (event) =>
  can("media:read") ? `/api/events/${encodeURIComponent(event.id)}/snapshot.jpg` : null;
