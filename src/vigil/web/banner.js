// Alerts that demand attention, on every page: a banner while alerts are firing (fired in the
// last 24 hours and not acknowledged), an optional sound when a new one fires (remembered in
// this browser), a desktop notification while the page is hidden, and the acknowledge dialog
// (with a note) that the Alerts page uses too. Shown to roles that may read alerts.
import { getJson } from "./api.js";
import { every, formatTime, h, typeLabel } from "./dom.js";
import { can, sendJson } from "./login.js";

const POLL_MS = 5000;
const SHOWN = 3; // firing alerts listed in the banner; the Alerts page has them all
const SOUND_KEY = "vigil.alert-sound";
export const ACKNOWLEDGED = "vigil:alert-acknowledged"; // window event after an acknowledgement

const fetchFiring = () => getJson("/api/alerts/firing", { limit: SHOWN });
const acknowledge = (id, note) =>
  sendJson("POST", `/api/alerts/${encodeURIComponent(id)}/acknowledge`, { note });
const eventLink = (alert) => `#/alerts?event=${encodeURIComponent(alert.event_id)}`;

/** The acknowledge dialog for one alert; resolves true once it is acknowledged. A modal
 * dialog keeps the focus inside and closes on Escape. */
export function askAcknowledgement(alert) {
  return new Promise((resolve) => {
    const note = h("textarea", { name: "note", rows: 3, maxlength: 1000, id: "ack-note",
      placeholder: "What was done or found (optional)" });
    const problem = h("p", { class: "error-box", role: "alert", hidden: true });
    const confirm = h("button", { class: "button primary", type: "submit", text: "Acknowledge" });
    let acknowledged = false;
    const dialog = h("dialog", { class: "ack-dialog", "data-testid": "ack-dialog",
      "aria-labelledby": "ack-title" },
    h("form", { class: "ack-form", onsubmit: async (submit) => {
      submit.preventDefault();
      confirm.disabled = true;
      try {
        await acknowledge(alert.id, note.value);
        acknowledged = true;
        window.dispatchEvent(new CustomEvent(ACKNOWLEDGED, { detail: { id: alert.id } }));
        dialog.close();
      } catch (error) {
        problem.textContent = `Not acknowledged: ${error.message}`;
        problem.hidden = false;
      } finally {
        confirm.disabled = false;
      }
    } },
    h("h2", { id: "ack-title", text: `Acknowledge: ${alert.rule_name}` }),
    h("p", { class: "muted", text: `${typeLabel(alert.event_type)} on ${alert.camera_name ?? alert.camera_id}, ${formatTime(alert.fired_ms)}` }),
    h("label", { for: "ack-note", text: "Note" }), note, problem,
    h("div", { class: "form-buttons" }, confirm,
      h("button", { class: "button", type: "button", text: "Cancel", onclick: () => dialog.close() }))));
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(acknowledged);
    });
    document.body.append(dialog);
    dialog.showModal();
    note.focus();
  });
}

/** A short two-tone chime through Web Audio (no file to fetch). Browsers only let a page
 * make sound after the user interacted with it; turning the sound on is such an interaction. */
class Chime {
  constructor() {
    this.context = null;
  }

  unlock() {
    this.context ??= new AudioContext();
    if (this.context.state === "suspended") this.context.resume();
  }

  play() {
    if (!this.context || this.context.state !== "running") return false;
    const start = this.context.currentTime;
    for (const [offset, frequency] of [[0, 880], [0.18, 660]]) {
      const tone = this.context.createOscillator();
      const gain = this.context.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.2, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.001, start + offset + 0.16);
      tone.connect(gain).connect(this.context.destination);
      tone.start(start + offset);
      tone.stop(start + offset + 0.17);
    }
    return true;
  }
}

function notify(alert) {
  if (!("Notification" in window) || Notification.permission !== "granted") return false;
  const note = new Notification(`Vigil alert: ${alert.rule_name}`, {
    body: `${typeLabel(alert.event_type)} on ${alert.camera_name}, ${formatTime(alert.fired_ms)}`,
    tag: alert.id,
  });
  note.onclick = () => {
    window.focus();
    location.hash = eventLink(alert);
  };
  return true;
}

/** Put the banner under the header and keep it current; nothing for roles without alerts. */
export function installAlertBanner() {
  if (!can("alerts:read")) return;
  const chime = new Chime();
  let soundOn = localStorage.getItem(SOUND_KEY) === "on";
  let seen = null; // alert ids already announced; null until the first answer
  const headline = h("strong", { class: "banner-headline", "aria-live": "polite" });
  const list = h("ul", { class: "banner-list" });
  const sound = h("button", { class: "button", type: "button", "data-testid": "alert-sound",
    "aria-pressed": String(soundOn), onclick: () => {
      soundOn = !soundOn;
      localStorage.setItem(SOUND_KEY, soundOn ? "on" : "off");
      sound.setAttribute("aria-pressed", String(soundOn));
      sound.textContent = soundOn ? "Sound on" : "Sound off";
      if (soundOn) chime.unlock();
    } });
  sound.textContent = soundOn ? "Sound on" : "Sound off";
  const desktop = h("button", { class: "button", type: "button", "data-testid": "alert-desktop",
    text: "Desktop notifications", onclick: async () => {
      await Notification.requestPermission();
      desktop.hidden = Notification.permission !== "default";
    } });
  desktop.hidden = !("Notification" in window) || Notification.permission !== "default";
  const banner = h("section", { class: "alert-banner", "data-testid": "alert-banner",
    "aria-label": "Firing alerts", hidden: true },
  h("span", { class: "banner-icon", "aria-hidden": "true", text: "!" }),
  h("div", { class: "banner-body" }, headline, list),
  h("div", { class: "banner-controls" }, sound, desktop,
    h("a", { class: "button", href: "#/alerts", text: "All alerts" })));
  document.querySelector(".topbar").after(banner);
  // A sound chosen earlier may play once the user touches the page (browser rule).
  document.addEventListener("pointerdown", () => soundOn && chime.unlock(), { once: true });

  function item(alert) {
    const ack = can("alerts:ack") ? h("button", { class: "button", type: "button",
      "data-testid": "banner-ack", text: "Acknowledge",
      onclick: async () => { if (await askAcknowledgement(alert)) refresh(); } }) : null;
    return h("li", { "data-testid": "banner-alert", "data-alert-id": alert.id },
      h("a", { href: eventLink(alert), class: "banner-rule", text: alert.rule_name }),
      h("span", { class: "muted", text: ` ${typeLabel(alert.event_type)} · ${alert.camera_name} · ${formatTime(alert.fired_ms)}` }),
      alert.escalated ? h("span", { class: "escalated-badge", text: "escalated" }) : null,
      ack);
  }

  function announce(fresh) {
    if (!fresh.length) return;
    if (soundOn && chime.play()) banner.dataset.chimed = String(Number(banner.dataset.chimed ?? 0) + 1);
    if (document.hidden) {
      for (const alert of fresh) {
        if (notify(alert)) banner.dataset.notified = String(Number(banner.dataset.notified ?? 0) + 1);
      }
    }
  }

  async function refresh() {
    let firing;
    try {
      firing = await fetchFiring();
    } catch {
      return; // the header's health indicator says when the server is unreachable
    }
    banner.hidden = firing.count === 0;
    banner.dataset.count = String(firing.count);
    headline.textContent = `${firing.count} alert${firing.count === 1 ? "" : "s"} need${firing.count === 1 ? "s" : ""} attention`;
    list.replaceChildren(...firing.items.map(item));
    if (firing.count > firing.items.length) {
      list.append(h("li", { class: "muted", text: `and ${firing.count - firing.items.length} more on the Alerts page` }));
    }
    const fresh = seen === null ? [] : firing.items.filter((alert) => !seen.has(alert.id));
    seen = new Set([...(seen ?? []), ...firing.items.map((alert) => alert.id)]);
    announce(fresh);
  }

  every(POLL_MS, refresh);
  window.addEventListener(ACKNOWLEDGED, () => refresh());
}
