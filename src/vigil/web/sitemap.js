// Map page: the site's floor plan (uploaded, works offline) or tile map (through the server's
// tile proxy), each camera placed with its viewing direction and field of view, and events
// flashing on their camera as they happen. Administrators upload the plan, set the tile URL
// and place cameras; everyone else who sees cameras sees the map.
import { eventStreamUrl, fetchCameras, getJson, liveFrameUrl } from "./api.js";
import { can, sendJson } from "./login.js";
import { errorBox, formatTime, h, placeLabel, typeLabel } from "./dom.js";

const LEAFLET = "/static/vendor/leaflet/leaflet-src.esm.js";
const LEAFLET_CSS = "/static/vendor/leaflet/leaflet.css";
const PLAN_MAX_SIDE = 2048;  // plans are scaled down in the browser: requests are at most 1 MB
const FLASH_MS = 4000;
const EVENT_ROWS = 12;
const METRES_PER_DEGREE = 111320;
const WEDGE_STEPS = 16;

function loadLeafletCss() {
  if (document.querySelector(`link[href="${LEAFLET_CSS}"]`)) return;
  document.head.append(h("link", { rel: "stylesheet", href: LEAFLET_CSS }));
}

/** The image file as a JPEG data: URL no larger than PLAN_MAX_SIDE on its long side. */
async function planDataUrl(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, PLAN_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = h("canvas", { width: Math.round(bitmap.width * scale), height: Math.round(bitmap.height * scale) });
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL("image/jpeg", 0.85);
}

export function mountMap(container) {
  const admin = can("config:write");
  const problem = h("div", { "data-testid": "map-problem" });
  const mapBox = h("div", { class: "site-map", "data-testid": "site-map" });
  const side = h("aside", { class: "map-side" });
  const events = h("ol", { class: "map-events", "data-testid": "map-events" });
  container.append(problem, h("div", { class: "map-layout" }, mapBox, side));
  let stopped = false;
  let source = null;
  let map = null;
  let L = null;
  let site = null;
  let cameras = [];
  let placing = null;  // camera id waiting for a click on the map
  let selected = null;
  const markers = new Map();  // camera id → { marker, wedge }

  const fail = (error) => problem.replaceChildren(errorBox(error.message));

  // Plan pixels (x right, y down) ↔ Leaflet's CRS.Simple (lat up): lat = -y, lng = x.
  const toLatLng = (place) => (site.plan ? L.latLng(-place.y, place.x) : L.latLng(place.y, place.x));
  const fromLatLng = (latlng) => (site.plan ? { x: latlng.lng, y: -latlng.lat } : { x: latlng.lng, y: latlng.lat });

  /** The field of view as a polygon: apex at the camera, arc at `range`. */
  function wedge(place) {
    const points = [toLatLng(place)];
    for (let step = 0; step <= WEDGE_STEPS; step += 1) {
      const angle = ((place.direction_deg - place.fov_deg / 2 + (place.fov_deg * step) / WEDGE_STEPS) * Math.PI) / 180;
      if (site.plan) {
        points.push(L.latLng(-(place.y - Math.cos(angle) * place.range), place.x + Math.sin(angle) * place.range));
      } else {
        const lat = place.y + (Math.cos(angle) * place.range) / METRES_PER_DEGREE;
        const lng = place.x + (Math.sin(angle) * place.range) / (METRES_PER_DEGREE * Math.cos((place.y * Math.PI) / 180));
        points.push(L.latLng(lat, lng));
      }
    }
    return points;
  }

  function popupFor(place) {
    return h("div", { class: "map-popup" }, h("b", { text: place.name }),
      can("live") ? h("img", { src: liveFrameUrl(place.camera_id, 320, Date.now()), alt: `Live view of ${place.name}`, class: "map-popup-image" }) : null,
      h("div", {}, can("live") ? h("a", { href: "#/live", text: "Live wall" }) : null, " ",
        can("events:read") ? h("a", { href: `#/events?camera=${encodeURIComponent(place.camera_id)}`, text: "Events" }) : null));
  }

  function drawPlaces() {
    for (const { marker, wedge: shape } of markers.values()) {
      marker.remove();
      shape.remove();
    }
    markers.clear();
    for (const place of site.places) {
      const shape = L.polygon(wedge(place), { className: "fov", interactive: false }).addTo(map);
      const marker = L.marker(toLatLng(place), {
        draggable: admin, title: place.name, keyboard: true,
        icon: L.divIcon({ className: "camera-marker", html: "", iconSize: [16, 16] }),
      }).addTo(map);
      marker.getElement().dataset.cameraId = place.camera_id;
      marker.getElement().dataset.testid = "map-camera";
      marker.bindPopup(() => popupFor(place));
      marker.on("click", () => { selected = place.camera_id; renderSide(); });
      marker.on("dragend", () => savePlace(place.camera_id, fromLatLng(marker.getLatLng())));
      markers.set(place.camera_id, { marker, wedge: shape });
    }
  }

  // Changes are sent one after another, each on top of the place as the last answer left it,
  // so that quick edits of two fields do not undo each other.
  let saving = Promise.resolve();
  function savePlace(id, patch) {
    saving = saving.then(() => putPlace({ ...site.places.find((item) => item.camera_id === id), camera_id: id, ...patch }));
    return saving;
  }

  async function putPlace(place) {
    try {
      const { camera_id: id, x, y, direction_deg, fov_deg, range } = place;
      const wasPlaced = site.places.some((item) => item.camera_id === id);
      site = await sendJson("PUT", `/api/site/cameras/${encodeURIComponent(id)}`, { x, y, direction_deg, fov_deg, range });
      drawPlaces();
      // The side panel is rebuilt only when a camera was newly placed: rebuilding it on every
      // change would replace the field being typed in.
      if (!wasPlaced) renderSide();
    } catch (error) {
      fail(error);
    }
  }

  function buildMap() {
    map?.remove();
    markers.clear();
    mapBox.replaceChildren();
    if (!site.plan && !site.tile_url) {
      mapBox.append(h("p", { class: "empty", "data-testid": "map-empty",
        text: admin ? "No map yet: upload a floor plan or set a tile URL on the right." : "No site map has been set up yet." }));
      map = null;
      return;
    }
    if (site.plan) {
      map = L.map(mapBox, { crs: L.CRS.Simple, minZoom: -5, attributionControl: false });
      const bounds = [[-site.height, 0], [0, site.width]];
      L.imageOverlay(`/api/site/plan?t=${Date.now()}`, bounds, { className: "plan-image" }).addTo(map);
      map.fitBounds(bounds);
    } else {
      map = L.map(mapBox);
      L.tileLayer("/api/site/tiles/{z}/{x}/{y}", { maxZoom: 22, attribution: "Tiles: the configured tile server" }).addTo(map);
      map.setView(site.center ?? [0, 0], site.zoom ?? 17);
    }
    map.on("click", (event) => {
      if (!placing) return;
      const id = placing;
      placing = null;
      mapBox.classList.remove("placing");
      const fallbackRange = site.plan ? Math.max(site.width, site.height) / 8 : 30;
      const current = site.places.find((item) => item.camera_id === id);
      savePlace(id, { direction_deg: 0, fov_deg: 90, range: fallbackRange, ...current, ...fromLatLng(event.latlng) });
      selected = id;
    });
    drawPlaces();
  }

  function renderSide() {
    const placed = new Set(site.places.map((place) => place.camera_id));
    const parts = [h("h2", { class: "section-title", text: "Cameras" })];
    const list = h("ul", { class: "map-cameras" }, cameras.map((camera) => h("li", {},
      h("span", { text: camera.name || camera.id }),
      placed.has(camera.id) ? h("button", { class: "button", type: "button", text: "Show", onclick: () => {
        selected = camera.id;
        markers.get(camera.id)?.marker.openPopup();
        renderSide();
      } }) : null,
      admin && map ? h("button", { class: "button", type: "button", "data-testid": "place-camera", "data-camera-id": camera.id,
        text: placed.has(camera.id) ? "Move" : "Place",
        onclick: () => { placing = camera.id; mapBox.classList.add("placing"); problem.replaceChildren(h("p", { class: "muted", text: `Click the map where ${camera.name || camera.id} stands.` })); } }) : null)));
    parts.push(list);
    const place = site.places.find((item) => item.camera_id === selected);
    if (admin && place) {
      const number = (name, text, attrs) => h("label", { class: "field" }, h("span", { class: "field-label", text }),
        h("input", { type: "number", step: "any", value: place[name], name, "data-testid": `place-${name}`, ...attrs,
          onchange: (change) => savePlace(place.camera_id, { [name]: Number(change.target.value) }) }));
      parts.push(h("div", { class: "place-form", "data-testid": "place-form" }, h("h3", { text: place.name }),
        number("direction_deg", "Direction (° clockwise from up)", { min: 0, max: 359 }),
        number("fov_deg", "Field of view (°)", { min: 1, max: 360 }),
        number("range", site.plan ? "Range (plan pixels)" : "Range (m)", { min: 1 }),
        h("button", { class: "button danger", type: "button", text: "Take off the map", onclick: async () => {
          try { site = await sendJson("DELETE", `/api/site/cameras/${encodeURIComponent(place.camera_id)}`); drawPlaces(); renderSide(); } catch (error) { fail(error); }
        } })));
    }
    if (can("events:read")) parts.push(h("h2", { class: "section-title", text: "Live events" }), events);
    if (admin) {
      const file = h("input", { type: "file", accept: "image/png,image/jpeg", "data-testid": "plan-file" });
      const tileUrl = h("input", { value: site.tile_url ?? "", placeholder: "https://tile.example.org/{z}/{x}/{y}.png", name: "tile_url" });
      const center = h("input", { value: site.center ? site.center.join(", ") : "", placeholder: "lat, lon", name: "center" });
      const zoom = h("input", { type: "number", min: 0, max: 22, value: site.zoom ?? "", name: "zoom" });
      parts.push(h("details", { class: "map-settings", open: !site.plan && !site.tile_url },
        h("summary", { text: "Map settings" }),
        h("label", { class: "field" }, h("span", { class: "field-label", text: "Floor plan or site image" }), file),
        h("button", { class: "button", type: "button", text: "Upload plan", "data-testid": "upload-plan", onclick: async () => {
          if (!file.files[0]) return;
          try {
            site = await sendJson("PUT", "/api/site/plan", { image: await planDataUrl(file.files[0]) });
            buildMap();
            renderSide();
          } catch (error) { fail(error); }
        } }),
        site.plan ? h("button", { class: "button danger", type: "button", text: "Remove plan", onclick: async () => {
          try { site = await sendJson("DELETE", "/api/site/plan"); buildMap(); renderSide(); } catch (error) { fail(error); }
        } }) : null,
        h("label", { class: "field" }, h("span", { class: "field-label", text: "Tile URL (used without a plan)" }), tileUrl),
        h("label", { class: "field" }, h("span", { class: "field-label", text: "Centre" }), center),
        h("label", { class: "field" }, h("span", { class: "field-label", text: "Zoom" }), zoom),
        h("button", { class: "button", type: "button", text: "Save map settings", onclick: async () => {
          const coordinates = center.value.split(",").map((item) => Number(item.trim())).filter((n) => !Number.isNaN(n));
          try {
            site = await sendJson("PUT", "/api/site/settings", { tile_url: tileUrl.value.trim() || null,
              center: coordinates.length === 2 ? coordinates : null, zoom: zoom.value === "" ? null : Number(zoom.value) });
            buildMap();
            renderSide();
          } catch (error) { fail(error); }
        } })));
    }
    side.replaceChildren(...parts);
  }

  const shown = new Set();
  function showEvent(message) {
    const event = JSON.parse(message.data);
    if (shown.has(event.id)) return;  // a lasting event's end, after its start
    shown.add(event.id);
    const name = cameras.find((camera) => camera.id === event.camera_id)?.name ?? event.camera_id;
    const what = [typeLabel(event.type), event.object?.class_name, placeLabel(event)].filter(Boolean).join(" · ");
    events.prepend(h("li", { "data-testid": "map-event", "data-camera-id": event.camera_id },
      h("span", { class: "muted", text: formatTime(event.start_ms) }), " ", h("b", { text: name }), ` ${what}`));
    while (events.children.length > EVENT_ROWS) events.lastChild.remove();
    const element = markers.get(event.camera_id)?.marker.getElement();
    if (element) {
      element.classList.add("flash");
      element.dataset.lastEvent = what;
      setTimeout(() => element.classList.remove("flash"), FLASH_MS);
    }
  }

  (async () => {
    loadLeafletCss();
    [L, site, cameras] = await Promise.all([import(LEAFLET), getJson("/api/site"), fetchCameras()]);
    if (stopped) return;
    buildMap();
    renderSide();
    if (can("events:read")) {
      source = new EventSource(eventStreamUrl());
      // Instantaneous events (line crossings) arrive once, as "end"; lasting ones start first.
      for (const phase of ["start", "end"]) source.addEventListener(phase, showEvent);
    }
  })().catch(fail);

  return () => {
    stopped = true;
    source?.close();
    map?.remove();
  };
}
