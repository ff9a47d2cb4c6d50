// Review page: events grouped into review items (one per incident: a track's events together,
// or a burst on one camera), newest first, with severity, snapshot and clip, and whether
// someone of the tenant reviewed it (GET/PUT /api/review). Keyboard: j / ↓ next, k / ↑
// previous, r mark reviewed (and go to the next), u unreviewed, Enter open the event, c clip.
import { fetchCameras, getJson, snapshotUrl } from "./api.js";
import { field, select, setOptions } from "./controls.js";
import { openDetail } from "./detail.js";
import { errorBox, formatDuration, formatTime, h, typeLabel } from "./dom.js";
import { can, sendJson } from "./login.js";

const SEVERITIES = [["alert", "Alerts"], ["detection", "Detections"], ["info", "Info"]];
const fetchReview = (params) => getJson("/api/review", params);
const markReviewed = (id, reviewed) =>
  sendJson("PUT", `/api/review/${encodeURIComponent(id)}`, { reviewed });
// The clip route belongs to the recordings work (issue 14); the link is offered to roles that
// may open media.
const clipUrl = (event) => `/api/events/${encodeURIComponent(event.id)}/clip`;

function summary(item) {
  const kinds = item.types.map(typeLabel).join(", ");
  const what = item.classes.length ? `${item.classes.join(", ")} · ` : "";
  const where = item.places.length ? ` · ${item.places.join(", ")}` : "";
  return `${what}${kinds}${where}`;
}

export function mountReview(container) {
  const mayMark = can("alerts:ack");
  const unreviewedOnly = h("input", { type: "checkbox", name: "unreviewed", checked: true });
  const severity = select("severity", "Any severity", SEVERITIES);
  const camera = select("camera", "All cameras", []);
  const counts = h("p", { class: "result-summary", role: "status", "data-testid": "review-count" });
  const problem = h("div");
  const list = h("ol", { class: "review-list", "data-testid": "review-list",
    "aria-label": "Review items, newest first" });
  const help = h("p", { class: "muted review-keys", text: "Keys: j / ↓ next · k / ↑ previous · r reviewed · u unreviewed · Enter open · c clip" });
  container.append(
    h("section", { class: "review-page" },
      h("div", { class: "section-head" }, h("h2", { text: "Review" }),
        h("form", { class: "toolbar", onsubmit: (submit) => submit.preventDefault() },
          h("label", { class: "check" }, unreviewedOnly, h("span", { text: "Unreviewed only" })),
          field("Severity", severity), field("Camera", camera))),
      help, counts, problem, list));

  let items = [];
  let stopped = false;

  function focusAt(index) {
    const rows = [...list.querySelectorAll("[data-testid=review-item]")];
    if (!rows.length) return;
    rows[Math.max(0, Math.min(index, rows.length - 1))].focus();
  }

  async function setReviewed(item, row, reviewed) {
    try {
      const mark = await markReviewed(item.id, reviewed);
      item.reviewed = mark;
      const index = [...list.children].indexOf(row);
      if (reviewed && unreviewedOnly.checked) {
        row.remove();
        focusAt(index);
      } else {
        row.replaceWith(itemRow(item));
        focusAt(index);
      }
      counts.textContent = countText(items.filter((i) => !i.reviewed).length);
    } catch (error) {
      problem.replaceChildren(errorBox(`Not marked: ${error.message}`));
    }
  }

  function itemRow(item) {
    const cover = item.cover;
    const image = snapshotUrl(cover) && cover.snapshot
      ? h("img", { class: "review-thumb", src: snapshotUrl(cover), alt: `Face-blurred snapshot: ${typeLabel(cover.type)}`, loading: "lazy" })
      : h("div", { class: "review-thumb thumb-empty", "aria-hidden": "true" });
    const duration = (item.end_ms - item.start_ms) / 1000;
    const row = h("li", { class: "review-item", tabindex: 0, "data-testid": "review-item",
      "data-item-id": item.id, "data-severity": item.severity,
      "data-reviewed": String(Boolean(item.reviewed)), "data-end-ms": item.end_ms,
      onkeydown: (key) => {
        if (key.target !== row) return;
        const index = [...list.children].indexOf(row);
        if (key.key === "j" || key.key === "ArrowDown") focusAt(index + 1);
        else if (key.key === "k" || key.key === "ArrowUp") focusAt(index - 1);
        else if (key.key === "Enter") openDetail(cover);
        else if (key.key === "r" && mayMark) setReviewed(item, row, true);
        else if (key.key === "u" && mayMark) setReviewed(item, row, false);
        else if (key.key === "c" && can("media:read")) location.assign(clipUrl(cover));
        else return;
        key.preventDefault();
      } },
    image,
    h("div", { class: "review-body" },
      h("div", { class: "review-line" },
        h("span", { class: "severity", "data-severity": item.severity, text: item.severity }),
        h("strong", { text: item.camera_name }),
        h("span", { class: "muted", text: `${formatTime(item.start_ms)}${duration >= 1 ? ` · ${formatDuration(duration)}` : ""} · ${item.count} event${item.count === 1 ? "" : "s"}` })),
      h("p", { class: "review-summary", text: summary(item) }),
      item.reviewed ? h("p", { class: "ack-by", "data-testid": "reviewed-by",
        text: `reviewed by ${item.reviewed.by}, ${formatTime(Date.parse(item.reviewed.at))}` }) : null),
    h("div", { class: "review-actions" },
      h("button", { class: "button", type: "button", text: "Open", onclick: () => openDetail(cover) }),
      can("media:read") ? h("a", { class: "button", href: clipUrl(cover), text: "Clip" }) : null,
      mayMark ? h("button", { class: "button", type: "button", "data-testid": "review-mark",
        text: item.reviewed ? "Unreviewed" : "Reviewed",
        onclick: () => setReviewed(item, row, !item.reviewed) }) : null));
    return row;
  }

  const countText = (open) => `${items.length} item${items.length === 1 ? "" : "s"} in the last 24 hours, ${open} not reviewed`;

  async function load() {
    try {
      const page = await fetchReview({ severity: severity.value, camera: camera.value,
        reviewed: unreviewedOnly.checked ? "false" : "", limit: 200 });
      if (stopped) return;
      items = page.items;
      problem.replaceChildren();
      list.replaceChildren(...items.map(itemRow));
      counts.textContent = countText(page.unreviewed);
      if (!items.length) list.append(h("li", { class: "empty", text: "Nothing to review." }));
    } catch (error) {
      problem.replaceChildren(errorBox(`Review items could not be loaded: ${error.message}`));
    }
  }

  for (const control of [unreviewedOnly, severity, camera]) control.addEventListener("change", load);
  fetchCameras().then((cameras) => setOptions(camera, "All cameras",
    cameras.map((item) => [item.id, item.name || item.id]))).catch(() => {});
  load().then(() => focusAt(0));
  return () => { stopped = true; };
}
