// One camera tile of the live wall: the face-blurred live view with overlays drawn by the
// server, name, online badge, frame rates and the last error when the camera is down.
import { liveFrameUrl, liveStreamUrl } from "./api.js";
import { h } from "./dom.js";
import { ageLabel } from "./health.js";
import { playOnClock } from "./rewind.js";

const TILE_WIDTH = 640;
const ENLARGED_WIDTH = 1280;
const FRAME_POLL_MS = 1000;
const RETRY_MS = 5000;

// A rewound wall shows recordings (multi-camera rewind): a few frames a second per tile keeps
// the server's face redaction of several cameras within real time. Each frame is the one at
// the wall's clock (rewind.js playOnClock), so a slow frame never makes a tile drift behind.
const PAST_FPS = 5;
const recordingUrl = (id, rest, params) =>
  `/api/recordings/${encodeURIComponent(id)}/${rest}?${new URLSearchParams(params)}`;

const fps = (value) => (typeof value === "number" ? value.toFixed(1) : "–");

export class CameraTile {
  /**
   * @param camera one item of GET /api/cameras
   * @param mjpeg  stream MJPEG (one long-lived connection) or poll single frames
   * @param onSelect called when the operator clicks the tile
   */
  constructor(camera, mjpeg, onSelect) {
    this.id = camera.id;
    this.mjpeg = mjpeg;
    this.enlarged = false;
    // idle: no request; running: a stream or frame poll is open; retrying: waiting after a failure.
    this.state = "idle";
    this.timer = null;
    this.past = null;  // {from, began} while the wall is rewound: the recording from `from` on

    this.image = h("img", { class: "tile-image", "data-testid": "camera-image", alt: "" });
    this.image.addEventListener("load", () => this.onFrame());
    this.image.addEventListener("error", () => this.onFail());
    this.placeholder = h("div", { class: "tile-placeholder" });
    this.media = h("div", { class: "tile-media" }, this.image, this.placeholder);
    this.name = h("span", { class: "tile-name" });
    this.badge = h("span", { class: "badge", "data-testid": "camera-status" });
    this.rates = h("span", { class: "tile-rates", title: "analysed fps / input fps" });
    this.error = h("p", { class: "tile-error", role: "status" });
    // How old the picture is, and why the tile is amber or red (GET /api/camera-health).
    this.age = h("span", { class: "tile-age", "data-testid": "picture-age" });
    this.reasons = h("p", { class: "tile-reasons", "data-testid": "tile-reasons" });
    this.pastBadge = h("span", { class: "badge tile-past", "data-testid": "tile-past",
      text: "recording", hidden: true });
    this.element = h("article", {
      class: "tile", "data-testid": "camera-tile", "data-camera-id": camera.id,
      tabindex: 0, role: "button", "aria-expanded": "false",
      onclick: () => onSelect(this),
      onkeydown: (key) => {
        if (key.key === "Enter" || key.key === " ") {
          key.preventDefault();
          onSelect(this);
        }
      },
    },
    this.media,
    h("footer", { class: "tile-bar" }, this.name, this.pastBadge, this.badge, this.age, this.rates),
    this.reasons, this.error);
    this.update(camera);
  }

  update(camera) {
    const status = camera.status ?? {};
    this.online = Boolean(status.online);
    this.name.textContent = camera.name || camera.id;
    this.image.alt = `Live view of ${camera.name || camera.id}`;
    this.element.title = camera.name || camera.id;
    this.badge.textContent = this.online ? "online" : camera.enabled === false ? "disabled" : "offline";
    this.badge.dataset.state = this.online ? "online" : "offline";
    const lag = typeof status.lag_ms === "number" ? ` · lag ${Math.round(status.lag_ms)} ms` : "";
    this.rates.textContent = `${fps(status.analysed_fps)} / ${fps(status.input_fps)} fps${lag}`;
    this.rates.title = status.decoder ? `analysed fps / input fps · decoder: ${status.decoder}` : "analysed fps / input fps";
    this.error.textContent = !this.online && status.last_error ? status.last_error : "";
    this.element.dataset.online = String(this.online);
    // Tiles take the camera's own shape, so the picture fills them without letterboxing.
    if (status.width > 0 && status.height > 0) {
      this.media.style.aspectRatio = `${status.width} / ${status.height}`;
    }
    if (!this.online) this.placeholder.textContent = "Camera offline";
    if ((this.online || this.past) && this.state === "idle") this.start();
    if (!this.online && !this.past) this.stop();
    if (this.health) this.setHealth(this.health);
  }

  /** One item of GET /api/camera-health: the picture's age and the tile's level. */
  setHealth(health) {
    this.health = health;
    this.element.dataset.level = health.level;
    this.age.textContent = ageLabel(health.picture_age_s);
    this.age.dataset.level = health.level;
    this.reasons.textContent = health.reasons.map((reason) => reason.text).join(" · ");
    if (health.level !== "ok" && this.online) {
      this.badge.textContent = health.level === "red" ? "behind" : "lagging";
      this.badge.dataset.state = health.level;
    }
  }

  setEnlarged(enlarged) {
    if (enlarged === this.enlarged) return;
    this.enlarged = enlarged;
    this.element.classList.toggle("enlarged", enlarged);
    this.element.setAttribute("aria-expanded", String(enlarged));
    // A larger view asks the server for more pixels; the stream restarts at the new width.
    if (this.state === "running") {
      this.stop();
      this.start();
    }
  }

  get width() {
    return this.enlarged ? ENLARGED_WIDTH : TILE_WIDTH;
  }

  /** Plays the recording from `ms` on (the wall rewound), or live again with null. */
  setPast(ms) {
    this.past = ms === null ? null : { from: ms, began: performance.now() };
    this.element.dataset.past = String(ms !== null);
    this.pastBadge.hidden = ms === null;
    this.stop();
    this.start();
  }

  /** The recorded moment a rewound tile shows now: it runs on in real time. */
  get pastMoment() {
    return Math.round(this.past.from + (performance.now() - this.past.began));
  }

  source() {
    return this.mjpeg
      ? liveStreamUrl(this.id, this.width)
      : liveFrameUrl(this.id, this.width, Date.now());
  }

  start() {
    clearTimeout(this.timer);
    if ((!this.online && !this.past) || document.hidden) return;
    this.state = "running";
    this.element.dataset.signal = "waiting";
    this.placeholder.textContent = this.past ? "Loading the recording…" : "Connecting…";
    if (this.past) {
      const url = (ms) => recordingUrl(this.id, "frame.jpg",
        { at: new Date(ms).toISOString(), width: this.width });
      this.stopPast = playOnClock(this.image, url, () => this.pastMoment, PAST_FPS,
        () => this.onFail());
      return;
    }
    this.image.src = this.source();
  }

  stop() {
    this.state = "idle";
    clearTimeout(this.timer);
    this.stopPast?.();
    this.stopPast = null;
    // Removing src aborts the request, which frees the connection an MJPEG stream holds.
    this.image.removeAttribute("src");
  }

  onFrame() {
    if (this.state !== "running") return;
    this.element.dataset.signal = "ok";
    if (!this.mjpeg && !this.past) {
      this.timer = setTimeout(() => {
        if (this.state === "running") this.image.src = this.source();
      }, FRAME_POLL_MS);
    }
  }

  onFail() {
    if (this.state !== "running") return;
    this.stop();
    this.state = "retrying";
    this.element.dataset.signal = "lost";
    this.placeholder.textContent = this.past ? "Nothing recorded here — retrying" : "No signal — retrying";
    this.timer = setTimeout(() => {
      this.state = "idle";
      this.start();
    }, RETRY_MS);
  }
}
