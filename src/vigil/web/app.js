// Entry point: hash router and the header health indicator.
import { fetchHealth } from "./api.js";
import { pageAllowed, startSession } from "./login.js";
import { mountUsers } from "./users.js";
import { mountAudit } from "./audit.js";
import { every } from "./dom.js";
import { mountLive } from "./live.js";
import { mountEvents } from "./events.js";
import { mountCounters } from "./counters.js";
import { mountDashboard } from "./dashboard.js";
import { mountAlerts } from "./alerts.js";
import { installHeaderSearch, mountSearch } from "./search.js";
import { mountCameras } from "./cameras.js";
import { mountMap } from "./sitemap.js";
import { mountPlayback } from "./playback.js";
import { installAlertBanner } from "./banner.js";
import { installCameraHealth } from "./health.js";
import { mountReview } from "./review.js";
import { installMenu } from "./menu.js";

const PAGES = { live: mountLive, events: mountEvents, counters: mountCounters,
  statistics: mountDashboard, alerts: mountAlerts, users: mountUsers, audit: mountAudit };
PAGES.search = mountSearch;  // opened from the header search box
PAGES.cameras = mountCameras;  // site setup (administrators)
PAGES.map = mountMap;  // the site map
PAGES.playback = mountPlayback;
PAGES.review = mountReview;
const HEALTH_POLL_MS = 5000;

let unmountPage = () => {};

function currentPage() {
  const name = location.hash.replace(/^#\/?/, "").split(/[/?]/)[0];
  if (name in PAGES && pageAllowed(name)) return name;
  // The first page this role may open (a viewer: live; an auditor: audit).
  return Object.keys(PAGES).find(pageAllowed) ?? "live";
}

function route() {
  const name = currentPage();
  // Pages hold open streams (MJPEG, SSE) and pollers; they must be released before the next
  // page opens, or the browser's six connections per host run out.
  unmountPage();
  document.querySelector("dialog.detail").close();
  const container = document.getElementById("page");
  container.replaceChildren();
  container.dataset.page = name;
  for (const link of document.querySelectorAll(".nav a")) {
    if (link.dataset.page === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `Vigil · ${name[0].toUpperCase()}${name.slice(1)}`;
  unmountPage = PAGES[name](container);
}

function watchHealth() {
  const box = document.querySelector(".health");
  const text = box.querySelector(".health-text");
  every(HEALTH_POLL_MS, async () => {
    try {
      const health = await fetchHealth();
      const { cameras = 0, online = 0 } = health;
      text.textContent = `${online}/${cameras} online`;
      if (cameras === 0) box.dataset.state = "idle";
      else box.dataset.state = online === cameras ? "ok" : online > 0 ? "degraded" : "down";
    } catch {
      text.textContent = "server unreachable";
      box.dataset.state = "down";
    }
  });
}

// Nothing is shown before the session is known: anonymous visitors get the login page.
installHeaderSearch();
startSession(() => {
  window.addEventListener("hashchange", route);
  route();
  watchHealth();
  installAlertBanner();
  installCameraHealth();
  installMenu();
});
