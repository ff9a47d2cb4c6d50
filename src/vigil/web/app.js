// Entry point: hash router and the header health indicator.
import { fetchHealth } from "./api.js";
import { every } from "./dom.js";
import { mountLive } from "./live.js";
import { mountEvents } from "./events.js";
import { mountCounters } from "./counters.js";
import { mountDashboard } from "./dashboard.js";

const PAGES = { live: mountLive, events: mountEvents, counters: mountCounters,
  statistics: mountDashboard };
const HEALTH_POLL_MS = 5000;

let unmountPage = () => {};

function currentPage() {
  const name = location.hash.replace(/^#\/?/, "").split(/[/?]/)[0];
  return name in PAGES ? name : "live";
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

window.addEventListener("hashchange", route);
route();
watchHealth();
