// The camera's live tile on its edit page, showing the geometry being edited before it is saved.
// Saved geometry is drawn by the server (with the tracks); while the editor holds unsaved
// changes the server would draw the old shapes, so the tile asks for the bare (still blurred and
// masked) frame and draws the edited zones, lines and masks itself, in the editor's pixel
// coordinates. After Save the server's drawing takes over again. Frames are loaded only by the
// page's poll, which knows whether the camera has one (just after Save it is restarting).
import { liveFrameUrl } from "./api.js";
import { h, s } from "./dom.js";

const points = (vertices) => vertices.map(([x, y]) => `${x},${y}`).join(" ");

/** SVG shapes of zones, lines and masks (not interactive: the editor is where they change). */
function shapes(geometry) {
  const nodes = [];
  for (const mask of geometry.privacy_masks) {
    nodes.push(s("polygon", { class: "shape mask", points: points(mask.polygon), "data-name": mask.name }));
  }
  for (const zone of geometry.zones) {
    const [x, y] = zone.polygon[0];
    nodes.push(s("polygon", { class: "shape zone", points: points(zone.polygon), "data-name": zone.name }),
      s("text", { class: "shape-label", x: x + 6, y: y + 18, "font-size": 16, text: zone.name }));
  }
  for (const line of geometry.lines) {
    nodes.push(s("line", { class: "shape counting-line", x1: line.start[0], y1: line.start[1], x2: line.end[0], y2: line.end[1],
      "data-name": line.name }),
    s("text", { class: "shape-label", x: line.start[0] + 6, y: line.start[1] - 6, "font-size": 16, text: line.name }));
  }
  return nodes;
}

/** @param cameraPath (id, rest) => the camera's API path */
export function createLivePreview(cameraId, cameraPath) {
  let draft = null;  // { geometry, size } while the editor has unsaved changes
  const image = h("img", { class: "live-check", alt: "Live view with the zones and lines", "data-testid": "camera-live" });
  const overlay = s("svg", { "data-testid": "live-preview-overlay", preserveAspectRatio: "none", "aria-hidden": "true" });
  const note = h("p", { class: "live-preview-note", "data-testid": "live-preview-note", hidden: true,
    text: "Preview of the unsaved zones, lines and masks: the camera analyses the saved ones until you save." });
  const element = h("div", {}, h("div", { class: "live-preview", "data-testid": "live-preview" }, image, overlay), note);

  function draw() {
    overlay.replaceChildren();
    if (!draft?.size.width) return;
    overlay.setAttribute("viewBox", `0 0 ${draft.size.width} ${draft.size.height}`);
    overlay.replaceChildren(...shapes(draft.geometry));
  }

  return {
    element,
    /** Load the current frame: bare while a draft is shown, with the server's drawing otherwise. */
    refresh() {
      image.src = draft
        ? cameraPath(cameraId, `/live.jpg?overlay=false&width=640&t=${Date.now()}`)
        : liveFrameUrl(cameraId, 640, Date.now());
    },
    /** Show these unsaved shapes; `size` is the frame size their pixel coordinates refer to. */
    showDraft(geometry, size) {
      draft = { geometry, size };
      element.dataset.draft = "true";
      note.hidden = false;
      draw();
    },
    /** The draft was saved (or dropped): back to the server's drawing of the saved geometry. */
    clearDraft() {
      draft = null;
      delete element.dataset.draft;
      note.hidden = true;
      draw();
    },
  };
}
