// Search page: plain-language search over events (GET /api/search). Each result shows its
// face-blurred snapshot with the object's box, and why it matched; facets and a timeline strip
// narrow the matches; a result opens the event detail with its context (the camera's other
// events within two minutes). Never offered: finding or identifying a person.
import { fetchEvents, getJson, snapshotUrl } from "./api.js";
import { openDetail } from "./detail.js";
import { errorBox, formatDateTime, formatTime, h, placeLabel, s, typeLabel } from "./dom.js";

const PAGE_SIZE = 24;
const NEIGHBOUR_MS = 120_000;
const FACETS = [["camera", "Camera"], ["class", "Class"], ["type", "Type"], ["color", "Colour"]];
const EXPLICIT = ["camera", "class", "type", "color", "start", "end"];
const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const EXAMPLES = ["white van in the loading zone last night", "people crossing the line today",
  "person loitering at night", "red car in the last 2 hours"];

const hashParams = () => new URLSearchParams(location.hash.split("?")[1] ?? "");
const iso = (ms) => new Date(ms).toISOString();

/** The header's search box: on every page; Enter opens the results page. */
export function installHeaderSearch() {
  const form = document.querySelector("form.header-search");
  if (!form) return;
  form.addEventListener("submit", (submit) => {
    submit.preventDefault();
    const q = form.elements.q.value.trim();
    if (!q) return;
    const params = new URLSearchParams({ q });
    const target = `#/search?${params}`;
    if (location.hash === target) window.dispatchEvent(new HashChangeEvent("hashchange"));
    else location.hash = target;
  });
  const sync = () => {
    if (location.hash.startsWith("#/search")) form.elements.q.value = hashParams().get("q") ?? "";
  };
  window.addEventListener("hashchange", sync);
  sync();
}

/** A snapshot with the object's box drawn over it (box in pixels of the frame_size frame). */
export function boxedSnapshot(event, extraClass = "") {
  const url = event.snapshot ? snapshotUrl(event) : null;
  const size = event.attributes?.frame_size;
  const box = event.object?.box;
  const wrap = h("div", { class: `boxed ${extraClass}`.trim() });
  if (Array.isArray(size) && size.length === 2 && size[0] > 0 && size[1] > 0) {
    wrap.style.aspectRatio = `${size[0]} / ${size[1]}`;
  }
  if (!url) {
    wrap.append(h("div", { class: "boxed-empty", text: "No snapshot" }));
    return wrap;
  }
  const image = h("img", { src: url, alt: "Face-blurred snapshot", loading: "lazy",
    decoding: "async" });
  image.addEventListener("error", () => image.replaceWith(
    h("div", { class: "boxed-empty", text: "Snapshot no longer stored" })), { once: true });
  wrap.append(image);
  if (Array.isArray(size) && Array.isArray(box) && box.length === 4) {
    const [x1, y1, x2, y2] = box;
    wrap.append(s("svg", { class: "box-overlay", viewBox: `0 0 ${size[0]} ${size[1]}`,
      preserveAspectRatio: "xMidYMid meet", "aria-hidden": "true", "data-testid": "box-overlay" },
    s("rect", { class: "box-rect", x: x1, y: y1, width: Math.max(1, x2 - x1),
      height: Math.max(1, y2 - y1) })));
  }
  return wrap;
}

function signedSeconds(ms) {
  const seconds = Math.round(ms / 1000);
  return seconds === 0 ? "same time" : `${seconds > 0 ? "+" : "−"}${Math.abs(seconds)} s`;
}

/** The event detail panel, with the box on its snapshot, the caption and reason of the
 *  match, and the same camera's events within ±2 minutes. */
export function openWithContext(event, match = {}) {
  openDetail(event);
  const dialog = document.querySelector("dialog.detail");
  const image = dialog.querySelector(".detail-image");
  if (image) image.replaceWith(boxedSnapshot(event, "detail-image"));
  const list = h("ol", { class: "context-list", "data-testid": "context-neighbours" },
    h("li", { class: "muted", text: "Loading…" }));
  const section = h("section", { class: "search-context", "data-testid": "search-context" },
    match.caption ? h("p", { class: "context-caption", text: match.caption }) : null,
    match.reason ? h("p", { class: "context-reason", text: `Why: ${match.reason}` }) : null,
    h("h3", { text: `${event.camera_name || event.camera_id}: other events within 2 minutes` }),
    list);
  dialog.append(section);
  fetchEvents({ camera: event.camera_id, start: iso(event.start_ms - NEIGHBOUR_MS),
    end: iso(event.start_ms + NEIGHBOUR_MS + 1), limit: 50 })
    .then((page) => {
      const others = page.items.filter((other) => other.id !== event.id)
        .sort((a, b) => a.start_ms - b.start_ms);
      list.replaceChildren(...(others.length ? others.map((other) => h("li", {},
        h("button", { class: "context-item", type: "button", "data-testid": "context-item",
          onclick: () => openWithContext(other) },
        h("span", { class: "context-offset", text: signedSeconds(other.start_ms - event.start_ms) }),
        h("span", { text: `${typeLabel(other.type)} · ${other.object?.class_name ?? ""}` }),
        h("span", { class: "muted", text: placeLabel(other) }))))
        : [h("li", { class: "muted", text: "No other events of this camera within 2 minutes." })]));
    })
    .catch((error) => list.replaceChildren(h("li", { class: "error-box",
      text: `Neighbouring events could not be loaded: ${error.message}` })));
}

function resultCard(item) {
  const event = item.event;
  const open = () => openWithContext(event, item);
  return h("article", { class: "result-card", tabindex: 0, "data-testid": "search-result",
    "data-event-id": event.id, onclick: open,
    onkeydown: (key) => key.key === "Enter" && open() },
  boxedSnapshot(event, "result-image"),
  h("div", { class: "result-body" },
    h("div", { class: "result-title" },
      h("span", { class: "type-badge", "data-module": event.module, text: typeLabel(event.type) }),
      h("span", { class: "event-class", text: event.object?.class_name ?? "" })),
    h("div", { class: "event-time", text: `${formatDateTime(event.start_ms)} · ${event.camera_name}` }),
    h("p", { class: "result-reason", "data-testid": "search-reason", title: item.caption,
      text: item.reason })));
}

function timelineStrip(timeline, onPick) {
  const counts = timeline.counts ?? [];
  if (!counts.length || !timeline.bucket_ms) return h("div", { class: "timeline-strip empty" });
  const max = Math.max(...counts, 1);
  const width = counts.length * 10;
  const bars = counts.map((count, i) => {
    const start = timeline.start_ms + i * timeline.bucket_ms;
    const height = count ? Math.max(2, (count / max) * 40) : 0;
    return s("rect", { class: "timeline-bar", x: i * 10 + 1, y: 44 - height, width: 8, height,
      "data-count": count, onclick: () => count && onPick(start, start + timeline.bucket_ms) },
    s("title", { text: `${formatDateTime(start)}: ${count}` }));
  });
  return h("div", { class: "timeline-strip", "data-testid": "search-timeline" },
    s("svg", { viewBox: `0 0 ${width} 46`, preserveAspectRatio: "none", role: "img",
      "aria-label": "Matches over time" }, bars),
    h("div", { class: "timeline-axis" },
      h("span", { text: formatTime(timeline.start_ms) }),
      h("span", { text: formatTime(timeline.end_ms) })));
}

/** The query without one filter's words ("more than 10 people"), spaces tidied. */
function withoutWords(query, words) {
  const escaped = words.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return query.replace(new RegExp(`(^|\\W)${escaped}(?=\\W|$)`, "i"), "$1")
    .replace(/\s+/g, " ").trim();
}

export function mountSearch(container) {
  const params = hashParams();
  const q = (params.get("q") ?? "").trim();
  const explicit = Object.fromEntries(EXPLICIT.filter((key) => params.get(key))
    .map((key) => [key, params.get(key)]));
  let cursor = null;
  let alive = true;

  const summary = h("p", { class: "result-summary", role: "status", "aria-live": "polite" });
  const chips = h("div", { class: "search-chips", "data-testid": "search-filters" });
  const facets = h("aside", { class: "search-facets", "data-testid": "search-facets" });
  const timeline = h("div");
  const grid = h("div", { class: "result-grid", "data-testid": "search-results" });
  const problem = h("div");
  const more = h("button", { class: "button", type: "button", hidden: true, text: "Load more",
    "data-testid": "search-more", onclick: () => load(false) });
  container.append(
    h("header", { class: "search-head" }, summary, chips),
    problem,
    h("div", { class: "search-layout" }, facets,
      h("section", { class: "search-main" }, timeline, grid,
        h("footer", { class: "results-foot" }, more))));

  const go = (changes) => {
    const next = new URLSearchParams({ q });
    for (const [key, value] of Object.entries({ ...explicit, ...changes })) {
      if (value) next.set(key, value);
    }
    location.hash = `#/search?${next}`;
  };

  if (!q) {
    summary.textContent = "Type what you are looking for in the search box above.";
    grid.append(h("ul", { class: "search-examples" }, EXAMPLES.map((text) => h("li", {},
      h("a", { href: `#/search?${new URLSearchParams({ q: text })}`, text })))),
    h("p", { class: "muted", text: "Search finds events by what happened: class, colour, "
      + "place, time and event type. It never finds or identifies a person." }));
    return () => {};
  }

  function renderFilters(body) {
    // Each filter the query became is a chip that removes its words from the query.
    const items = body.query.filters.map((item) => h("button", { class: "chip chip-explicit",
      type: "button", "data-testid": "query-filter", "data-kind": item.kind,
      title: `Remove "${item.words}" from the search`,
      onclick: () => { location.hash = `#/search?${new URLSearchParams({ ...explicit,
        q: withoutWords(q, item.words) })}`; },
      text: `${item.kind}: ${item.meaning} ×` }));
    for (const [key, value] of Object.entries(explicit)) {
      const label = key === "start" || key === "end" ? formatDateTime(Date.parse(value)) : value;
      items.push(h("button", { class: "chip chip-explicit", type: "button",
        title: "Remove this filter", onclick: () => go({ [key]: "" }),
        text: `${key}: ${label} ×` }));
    }
    const notes = body.query.notes.map((note) => h("span", { class: "chip chip-note", text: note }));
    // Every word accounted for: a filter, used for ranking, or ignored, with why on hover.
    const words = (body.query.words ?? []).map((word) => h("span", { class: "chip word-chip",
      "data-testid": "word-chip", "data-role": word.role, title: word.why,
      "aria-label": `${word.word}: ${word.role}, ${word.why}`, text: `${word.word} · ${word.role}` }));
    chips.replaceChildren(...items, ...notes, ...words,
      h("span", { class: "muted chip-zone", text: `times in ${body.query.tz}` }));
  }

  function renderFacets(body) {
    facets.replaceChildren(...FACETS.map(([key, title]) => {
      const values = body.facets[key] ?? [];
      return h("section", { class: "facet", "data-facet": key },
        h("h3", { text: title }),
        values.length ? h("ul", {}, values.slice(0, 12).map((facet) => h("li", {},
          h("button", { type: "button", class: "facet-value",
            "aria-pressed": explicit[key] === facet.value ? "true" : "false",
            onclick: () => go({ [key]: explicit[key] === facet.value ? "" : facet.value }) },
          h("span", { text: key === "type" ? typeLabel(facet.label) : facet.label }),
          h("span", { class: "num muted", text: facet.count })))))
          : h("p", { class: "muted", text: "—" }));
    }));
  }

  async function load(fresh) {
    more.disabled = true;
    if (fresh) summary.textContent = "Searching…";
    try {
      const body = await getJson("/api/search", { q, tz: ZONE, limit: PAGE_SIZE,
        cursor: fresh ? null : cursor, ...explicit });
      if (!alive) return;
      problem.replaceChildren();
      if (fresh) {
        renderFilters(body);
        renderFacets(body);
        timeline.replaceChildren(timelineStrip(body.timeline,
          (start, end) => go({ start: iso(start), end: iso(end) })));
        grid.replaceChildren();
      }
      grid.append(...body.items.map(resultCard));
      cursor = body.next_cursor ?? null;
      more.hidden = !cursor;
      summary.textContent = body.total === 0 ? "No events match."
        : `${body.total} match${body.total === 1 ? "" : "es"} · ${grid.children.length} shown`
          + ` · ${Math.round(body.took_ms)} ms`;
      // A dead end says which nearby query has results (the server tried them).
      if (fresh && body.total === 0 && body.suggestions?.length) {
        summary.append(" Try: ", ...body.suggestions.map((suggestion) => h("a", {
          class: "chip", "data-testid": "search-suggestion",
          href: `#/search?${new URLSearchParams({ q: suggestion.q })}`,
          title: `without ${suggestion.dropped}`,
          text: `${suggestion.q} (${suggestion.total})` })));
      }
    } catch (error) {
      if (!alive) return;
      summary.textContent = "";
      problem.replaceChildren(errorBox(error.message));
      problem.firstChild.dataset.testid = "search-error";
    } finally {
      more.disabled = false;
    }
  }

  load(true);
  return () => { alive = false; };
}
