// The event detail's evidence actions: add the event to a case (an evidence lock that keeps it
// and its media past retention; an open case of the tenant, or a new one with its purpose) and
// export its recording as a face-blurred MP4 whose SHA-256 the server audits (issue 14's
// export, over the event's span with 5 s either side, at most 10 minutes).
import { getJson } from "./api.js";
import { errorBox, h } from "./dom.js";
import { can, sendJson } from "./login.js";

const MARGIN_MS = 5_000;
const MAX_EXPORT_MS = 10 * 60_000;
const iso = (ms) => new Date(ms).toISOString();

function caseForm(event, status, close) {
  const choice = h("select", { name: "case", "aria-label": "Case" },
    h("option", { value: "", text: "New case…" }));
  const name = h("input", { name: "case_name", "aria-label": "Case name", placeholder: "Case name", maxlength: 256 });
  const purpose = h("input", { name: "case_purpose", "aria-label": "Purpose of the case",
    placeholder: "Why the evidence is kept", maxlength: 512 });
  const fresh = h("span", { class: "case-new" }, name, purpose);
  choice.addEventListener("change", () => { fresh.hidden = choice.value !== ""; });
  getJson("/api/cases").then((cases) => {
    choice.append(...cases.filter((item) => !item.released)
      .map((item) => h("option", { value: item.id, text: item.name })));
  }, () => {});
  return h("form", { class: "case-form", "data-testid": "case-form",
    onsubmit: async (submit) => {
      submit.preventDefault();
      status.replaceChildren();
      try {
        const saved = choice.value
          ? await sendJson("POST", `/api/cases/${encodeURIComponent(choice.value)}/events`,
            { event_ids: [event.id] })
          : await sendJson("POST", "/api/cases", { name: name.value.trim(),
            purpose: purpose.value.trim(), event_ids: [event.id] });
        status.textContent = `Added to case "${saved.name}".`;
        close();
      } catch (error) {
        status.replaceChildren(errorBox(`Not added to a case: ${error.message}`));
      }
    } },
  choice, fresh, h("button", { class: "button", type: "submit", text: "Add" }));
}

async function exportEvent(event, status, button) {
  const end = Math.min(Math.max(event.end_ms ?? event.updated_ms, event.start_ms) + MARGIN_MS,
    event.start_ms - MARGIN_MS + MAX_EXPORT_MS);
  button.disabled = true;
  status.replaceChildren(h("progress", { "aria-label": "Exporting" }), " exporting…");
  try {
    const response = await fetch(`/api/recordings/${encodeURIComponent(event.camera_id)}/export`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ start: iso(event.start_ms - MARGIN_MS), end: iso(end) }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error(typeof body.detail === "string" ? body.detail : response.statusText);
    }
    const sha256 = response.headers.get("X-Vigil-SHA256") ?? "";
    const link = h("a", { href: URL.createObjectURL(await response.blob()),
      download: `${event.camera_id}-${event.id}.mp4`, text: "Download" });
    status.replaceChildren(link, ` SHA-256 ${sha256}`);
    status.dataset.sha256 = sha256;
    link.click();
  } catch (error) {
    status.replaceChildren(errorBox(`Export failed: ${error.message}`));
  } finally {
    button.disabled = false;
  }
}

/** "Add to case" and "Export" for the detail's action bar (each only for roles that may). */
export function evidenceActions(event) {
  const status = h("output", { class: "detail-evidence-status", "data-testid": "detail-evidence-status" });
  const slot = h("div", { class: "detail-case-slot" });
  const addToCase = can("cases") ? h("button", { class: "button", type: "button",
    "data-testid": "detail-add-to-case", text: "Add to case",
    onclick: () => slot.replaceChildren(caseForm(event, status, () => slot.replaceChildren())) }) : null;
  const exportButton = can("export") ? h("button", { class: "button", type: "button",
    "data-testid": "detail-export", text: "Export" }) : null;
  exportButton?.addEventListener("click", () => exportEvent(event, status, exportButton));
  if (!addToCase && !exportButton) return null;
  return h("span", { class: "detail-evidence" }, addToCase, exportButton, slot, status);
}
