// The event detail panel (a <dialog>), opened from the live feed and the events table.
import { snapshotUrl } from "./api.js";
import { detailActions, detailContext } from "./detail-actions.js";
import { formatDateTime, formatDuration, h, placeLabel, typeLabel } from "./dom.js";

/** What an operator reads first: what, where, when, how long, which camera. */
function humanFields(event) {
  const object = event.object ?? {};
  const seconds = event.dwell_s ?? (event.end_ms ? (event.end_ms - event.start_ms) / 1000 : null);
  return [
    ["What", [object.class_name, typeLabel(event.type)].filter(Boolean).join(" · ")],
    ["Where", placeLabel(event)],
    ["When", formatDateTime(event.start_ms)],
    ["How long", seconds ? formatDuration(seconds) : event.state === "active" ? "still going on" : null],
    ["Camera", event.camera_name || event.camera_id],
  ].filter(([, value]) => value !== null && value !== undefined && value !== "");
}

function fields(event) {
  const object = event.object ?? {};
  const rows = [
    ["Type", typeLabel(event.type)],
    ["State", event.state],
    ["Camera", `${event.camera_name} (${event.camera_id})`],
    ["Module", event.module],
    ["Zone", event.zone],
    ["Line", event.line],
    ["Direction", event.direction],
    ["Dwell", formatDuration(event.dwell_s)],
    ["Started", formatDateTime(event.start_ms)],
    ["Ended", event.end_ms ? formatDateTime(event.end_ms) : null],
    ["Updated", formatDateTime(event.updated_ms)],
    ["Class", object.class_name],
    ["Class id", object.class_id],
    ["Track id", object.track_id],
    ["Score", typeof object.score === "number" ? object.score.toFixed(2) : null],
    ["Box", object.box ? object.box.map((v) => Math.round(v)).join(", ") : null],
    ["Colour", object.color],
    ["Tenant", event.tenant],
    ["Event id", event.id],
    ["Schema", event.schema_version],
  ];
  for (const [key, value] of Object.entries(event.attributes ?? {})) {
    rows.push([key, typeof value === "object" ? JSON.stringify(value) : value]);
  }
  return rows.filter(([, value]) => value !== null && value !== undefined && value !== "");
}

export function openDetail(event) {
  const dialog = document.querySelector("dialog.detail");
  const close = h("button", { class: "icon-button", type: "button", "aria-label": "Close",
    text: "×", onclick: () => dialog.close() });
  const media = event.snapshot
    ? h("img", { class: "detail-image", src: snapshotUrl(event), alt: "Face-blurred snapshot" })
    : h("div", { class: "detail-image detail-empty", text: "No snapshot for this event" });
  const rows = (pairs) => pairs.map(([label, value]) => [h("dt", { text: label }), h("dd", { text: value })]);
  // Internal fields (ids, scores, boxes) stay behind "Details".
  const list = h("div", { class: "detail-side" },
    h("dl", { class: "detail-fields", "data-testid": "detail-human" }, rows(humanFields(event))),
    h("details", { class: "detail-more" }, h("summary", { text: "Details" }),
      h("dl", { class: "detail-fields" }, rows(fields(event)))),
    detailActions(event, openDetail), detailContext(event, openDetail));
  dialog.replaceChildren(
    h("header", { class: "detail-head" },
      h("h2", { text: `${typeLabel(event.type)} · ${event.object?.class_name ?? ""}` }), close),
    h("div", { class: "detail-body" }, media, list),
  );
  if (!dialog.open) dialog.showModal();
}

// Clicking the backdrop (the dialog element itself, outside its content) closes it.
document.querySelector("dialog.detail").addEventListener("click", (click) => {
  if (click.target === click.currentTarget) click.currentTarget.close();
});
