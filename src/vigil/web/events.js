// Events page: filtered search over stored events, paged with next_cursor, CSV export.
import { eventsCsvUrl, fetchCameras, fetchEvents, fetchModules, getJson } from "./api.js";
import { field, periodPicker, select, setOptions } from "./controls.js";
import { openDetail } from "./detail.js";
import { errorBox, formatDateTime, formatDuration, h, placeLabel, typeLabel } from "./dom.js";
import { thumbnail } from "./feed.js";

const PAGE_SIZE = 50;
const COMMON_CLASSES = ["person", "bicycle", "car", "motorcycle", "bus", "truck"];
const FILTERS = ["camera", "class", "module", "zone", "line", "state"];

/** Filters live in the hash (#/events?camera=…) so a search can be bookmarked or shared. */
const hashParams = () => new URLSearchParams(location.hash.split("?")[1] ?? "");

function resultRow(event) {
  return h("tr", {
    class: "result-row", "data-testid": "event-result", "data-event-id": event.id,
    "data-camera-id": event.camera_id, tabindex: 0,
    onclick: () => openDetail(event),
    onkeydown: (key) => key.key === "Enter" && openDetail(event),
  },
  h("td", { class: "cell-thumb" }, thumbnail(event)),
  h("td", { class: "cell-time", text: formatDateTime(event.start_ms) }),
  h("td", { class: "cell-camera", text: event.camera_name || event.camera_id }),
  h("td", {}, h("span", { class: "type-badge", "data-module": event.module, text: typeLabel(event.type) })),
  h("td", { text: event.object?.class_name ?? "" }),
  h("td", { text: placeLabel(event) }),
  h("td", { class: "num", text: formatDuration(event.dwell_s) }),
  h("td", {}, h("span", { class: "state", "data-state": event.state, text: event.state })));
}

/** Zone and line names of the chosen camera, or of all cameras. */
function places(cameras, cameraId, kind) {
  const names = cameras.filter((camera) => !cameraId || camera.id === cameraId)
    .flatMap((camera) => (camera[kind] ?? []).map((item) => item.name));
  return [...new Set(names)].sort();
}

export function mountEvents(container) {
  const initial = hashParams();
  let cameras = [];
  let query = {};
  let cursor = null;
  // Each search bumps the generation; answers to older searches are dropped.
  let generation = 0;
  let mounted = true;

  const period = periodPicker({
    period: initial.get("period") ?? "24h", from: initial.get("from") ?? "",
    to: initial.get("to") ?? "", onChange: () => search(),
  });
  const controls = {
    camera: select("camera", "All cameras", []),
    class: h("input", { name: "class", list: "class-options", placeholder: "any",
      autocomplete: "off", value: initial.get("class") ?? "" }),
    module: select("module", "All types", []),
    zone: select("zone", "Any zone", []),
    line: select("line", "Any line", []),
    state: select("state", "Any state", ["active", "ended"], initial.get("state") ?? ""),
  };
  const classOptions = h("datalist", { id: "class-options" },
    COMMON_CLASSES.map((name) => h("option", { value: name })));
  const csv = h("a", { class: "button", "data-testid": "download-csv", download: "vigil-events.csv",
    text: "Download CSV" });
  const summary = h("p", { class: "result-summary", role: "status", "aria-live": "polite" });
  const body = h("tbody", { "data-testid": "event-results" });
  const more = h("button", { class: "button", type: "button", hidden: true, text: "Load more",
    "data-testid": "load-more", onclick: () => load(false) });
  const problem = h("div");

  const form = h("form", { class: "toolbar", "data-testid": "event-filters",
    onsubmit: (submit) => { submit.preventDefault(); search(); } },
  period.element,
  field("Camera", controls.camera), field("Class", controls.class), field("Type", controls.module),
  field("Zone", controls.zone), field("Line", controls.line), field("State", controls.state),
  classOptions,
  h("span", { class: "toolbar-end" }, csv));

  container.append(form, problem,
    h("div", { class: "table-wrap" },
      h("table", { class: "results" },
        h("thead", {}, h("tr", {}, ["", "Time", "Camera", "Type", "Class", "Place", "Dwell", "State"]
          .map((label) => h("th", { scope: "col", text: label })))),
        body)),
    h("footer", { class: "results-foot" }, summary, more));

  function filters() {
    const values = Object.fromEntries(FILTERS.map((key) => [key, controls[key].value.trim()]));
    return { ...period.range(), ...values };
  }

  function refreshPlaces(zone = controls.zone.value, line = controls.line.value) {
    const cameraId = controls.camera.value;
    setOptions(controls.zone, "Any zone", places(cameras, cameraId, "zones"), zone);
    setOptions(controls.line, "Any line", places(cameras, cameraId, "lines"), line);
  }

  function remember() {
    // A page left while its data was loading must not pull the address back to itself.
    if (!mounted) return;
    const params = new URLSearchParams();
    const { period: chosen, from, to } = period.value;
    params.set("period", chosen);
    if (chosen === "custom") {
      params.set("from", from);
      params.set("to", to);
    }
    for (const key of FILTERS) if (controls[key].value) params.set(key, controls[key].value.trim());
    history.replaceState(null, "", `#/events?${params}`);
  }

  let total = Promise.resolve(null);

  async function load(fresh) {
    const mine = fresh ? ++generation : generation;
    if (fresh) {
      // Frozen for "Load more": a relative period must not slide between pages.
      query = filters();
      cursor = null;
      csv.href = eventsCsvUrl(query);
      remember();
      summary.textContent = "Loading…";
    }
    more.disabled = true;
    // All pages together, asked once per search (GET /api/event-count).
    if (fresh) total = getJson("/api/event-count", query).then((answer) => answer.total, () => null);
    try {
      const page = await fetchEvents({ ...query, limit: PAGE_SIZE, cursor });
      if (mine !== generation) return;
      problem.replaceChildren();
      if (fresh) body.replaceChildren();
      body.append(...page.items.map(resultRow));
      cursor = page.next_cursor ?? null;
      const shown = body.rows.length;
      const all = await total;
      if (mine !== generation) return;
      summary.textContent = shown === 0 ? "No events match these filters."
        : `${shown} of ${all ?? "?"} event${all === 1 ? "" : "s"} shown${cursor ? " · more available" : ""}`;
      more.hidden = !cursor;
    } catch (error) {
      if (mine !== generation) return;
      problem.replaceChildren(errorBox(`Events could not be loaded: ${error.message}`));
      summary.textContent = "";
    } finally {
      more.disabled = false;
    }
  }

  const search = () => load(true);

  for (const key of FILTERS) {
    controls[key].addEventListener("change", () => {
      if (key === "camera") refreshPlaces();
      search();
    });
  }

  (async () => {
    try {
      const [cameraList, modules] = await Promise.all([fetchCameras(), fetchModules()]);
      cameras = cameraList;
      setOptions(controls.camera, "All cameras",
        cameras.map((camera) => [camera.id, camera.name || camera.id]), initial.get("camera") ?? "");
      // Only the types this tenant's cameras can produce: those of the modules they run.
      const running = new Set(cameras.flatMap((camera) => Object.keys(camera.modules ?? {})));
      setOptions(controls.module, "All types", modules.filter((module) => running.has(module.name))
        .map((module) => [module.name, module.name]), initial.get("module") ?? "");
      refreshPlaces(initial.get("zone") ?? "", initial.get("line") ?? "");
    } catch (error) {
      problem.replaceChildren(errorBox(`Filters could not be loaded: ${error.message}`));
    }
    if (mounted) search();
  })();

  return () => {
    mounted = false;
    generation += 1;
  };
}
