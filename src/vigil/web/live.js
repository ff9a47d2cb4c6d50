// Live page: the camera wall beside the live event feed.
import { fetchCameras } from "./api.js";
import { every, errorBox, h } from "./dom.js";
import { createFeed } from "./feed.js";
import { onCameraHealth } from "./health.js";
import { can } from "./login.js";
import { createRewind } from "./rewind.js";
import { CameraTile } from "./tile.js";

const STATUS_POLL_MS = 3000;
// Browsers allow six HTTP/1.1 connections per host and an MJPEG stream holds one for good.
// Up to this many cameras stream; beyond it tiles poll single frames, so the event stream and
// API calls always have connections left.
const MJPEG_MAX_CAMERAS = 4;

export function mountLive(container) {
  const tiles = new Map();
  const wall = h("div", { class: "wall", "data-testid": "camera-wall" });
  const message = h("div", { class: "wall-message" });
  const feed = createFeed();
  // Going back in time shows recordings: only for roles that may see recorded media.
  const rewind = can("media:read")
    ? createRewind((ms) => { for (const tile of tiles.values()) tile.setPast(ms); })
    : null;
  container.append(h("div", { class: "live-layout" },
    h("section", { class: "wall-panel", "aria-label": "Cameras" }, rewind?.element, message, wall),
    feed.element));

  let mjpeg = null;

  function select(tile) {
    const enlarge = !tile.enlarged;
    for (const other of tiles.values()) other.setEnlarged(false);
    tile.setEnlarged(enlarge);
    wall.classList.toggle("has-enlarged", enlarge);
    if (enlarge) tile.element.scrollIntoView({ block: "nearest" });
  }

  function sync(cameras) {
    const wantMjpeg = cameras.length <= MJPEG_MAX_CAMERAS;
    if (wantMjpeg !== mjpeg) {
      // Crossing the limit changes how every tile fetches images: rebuild them all.
      for (const tile of tiles.values()) tile.stop();
      tiles.clear();
      wall.replaceChildren();
      mjpeg = wantMjpeg;
    }
    const seen = new Set();
    for (const camera of cameras) {
      seen.add(camera.id);
      const tile = tiles.get(camera.id);
      if (tile) {
        tile.update(camera);
      } else {
        const created = new CameraTile(camera, mjpeg, select);
        tiles.set(camera.id, created);
        if (rewind?.current() != null) created.setPast(rewind.current());
        wall.append(created.element);
        // `#/live?camera=<id>` (from an event's detail) opens that camera enlarged.
        if (new URLSearchParams(location.hash.split("?")[1] ?? "").get("camera") === camera.id) select(created);
      }
    }
    for (const [id, tile] of tiles) {
      if (!seen.has(id)) {
        tile.stop();
        tile.element.remove();
        tiles.delete(id);
      }
    }
    message.replaceChildren(...(cameras.length ? [] : [h("p", { class: "empty",
      text: "No cameras yet. Administrators add them on the Cameras page (or in the config file, or with POST /api/cameras)." })]));
  }

  const stopHealth = onCameraHealth((page) => {
    for (const item of page.items) tiles.get(item.camera_id)?.setHealth(item);
  });

  const stopPolling = every(STATUS_POLL_MS, async () => {
    try {
      sync(await fetchCameras());
    } catch (error) {
      message.replaceChildren(errorBox(`Cameras could not be loaded: ${error.message}`));
    }
  });

  // A hidden tab keeps no streams open: bandwidth matters with dozens of cameras.
  const onVisibility = () => {
    for (const tile of tiles.values()) {
      if (document.hidden) tile.stop();
      else tile.start();
    }
  };
  document.addEventListener("visibilitychange", onVisibility);

  const onKey = (key) => {
    const open = [...tiles.values()].find((tile) => tile.enlarged);
    if (key.key === "Escape" && open) select(open);
  };
  document.addEventListener("keydown", onKey);

  return () => {
    stopPolling();
    stopHealth();
    feed.stop();
    rewind?.stop();
    for (const tile of tiles.values()) tile.stop();
    document.removeEventListener("visibilitychange", onVisibility);
    document.removeEventListener("keydown", onKey);
  };
}
