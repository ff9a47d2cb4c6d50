// Audit page (auditors): who did what, when and why; export as CSV; verify the hash chain.
import { sendJson } from "./login.js";
import { errorBox, formatDateTime, h } from "./dom.js";

const PAGE = 100;

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  return search.toString();
}

export function mountAudit(container) {
  const problem = h("div");
  const body = h("tbody", { "data-testid": "audit-rows" });
  const actor = h("input", { name: "actor", placeholder: "any user" });
  const action = h("input", { name: "action", placeholder: "e.g. auth. or media.view" });
  const verdict = h("p", { class: "result-summary", "data-testid": "audit-verify", role: "status" });
  const more = h("button", { class: "button", type: "button", hidden: true, text: "Load more",
    onclick: () => load(false) });
  const csv = h("a", { class: "button", download: "vigil-audit.csv", text: "Download CSV",
    "data-testid": "audit-csv" });
  let before = null;
  let stopped = false;

  const filters = () => ({ actor: actor.value.trim(), action: action.value.trim() });

  async function load(fresh) {
    problem.replaceChildren();
    if (fresh) {
      before = null;
      body.replaceChildren();
    }
    csv.href = `/api/audit?${query({ ...filters(), format: "csv" })}`;
    try {
      const page = await sendJson("GET", `/api/audit?${query({ ...filters(), limit: PAGE, before })}`);
      if (stopped) return;
      body.append(...page.items.map((record) => h("tr", { "data-testid": "audit-row", "data-seq": record.seq },
        h("td", { class: "num", text: record.seq }),
        h("td", { class: "cell-time", text: formatDateTime(record.ts_ms) }),
        h("td", { text: record.actor }), h("td", { text: record.role }),
        h("td", { text: record.tenant ?? "" }), h("td", { text: record.action }),
        h("td", { class: "cell-target", text: record.target }), h("td", { text: record.purpose }),
        h("td", {}, h("span", { class: "state", "data-state": record.outcome, text: record.outcome })))));
      before = page.next_before;
      more.hidden = before === null;
    } catch (error) {
      problem.append(errorBox(error.message));
    }
  }

  const verify = h("button", { class: "button", type: "button", text: "Verify chain",
    "data-testid": "verify-chain", onclick: async () => {
      verdict.textContent = "verifying…";
      try {
        const result = await sendJson("GET", "/api/audit/verify");
        verdict.dataset.ok = String(result.ok);
        verdict.textContent = result.ok
          ? `Chain intact: ${result.checked} records, head ${result.head_seq}:${result.head_hash.slice(0, 16)}…`
          : `Chain broken at record ${result.first_bad_seq}: ${result.problem}`;
      } catch (error) {
        verdict.textContent = error.message;
      }
    } });

  const form = h("form", { class: "toolbar", onsubmit: (submit) => { submit.preventDefault(); load(true); } },
    h("label", { class: "field" }, h("span", { class: "field-label", text: "User" }), actor),
    h("label", { class: "field" }, h("span", { class: "field-label", text: "Action" }), action),
    h("button", { class: "button", type: "submit", text: "Filter" }),
    h("span", { class: "toolbar-end" }, verify, " ", csv));

  container.append(form, verdict, problem,
    h("div", { class: "table-wrap" }, h("table", { class: "results" },
      h("thead", {}, h("tr", {}, ["#", "Time", "User", "Role", "Tenant", "Action", "Target", "Purpose", "Outcome"]
        .map((text) => h("th", { text })))), body)),
    h("div", { class: "results-foot" }, more));
  load(true);
  return () => { stopped = true; };
}
