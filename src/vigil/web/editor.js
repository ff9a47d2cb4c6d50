// Drawing editor: zones, counting lines with their in/out sides, privacy masks and the four
// ground calibration points, drawn on the camera's face-blurred frame. Coordinates are pixels
// of the camera image, exactly what the config file holds; the server validates them with the
// same code (a crossing polygon or a zero-length line comes back as a problem on its field).
import { h, s } from "./dom.js";

const TOOLS = [
  ["select", "Edit", "Drag corners and ends; click a shape's name to rename it"],
  ["zone", "Zone", "Click each corner; click the first corner or press Enter to close"],
  ["line", "Line", "Click the start, then the end"],
  ["mask", "Privacy mask", "Click each corner; click the first corner or press Enter to close"],
  ["calibration", "Calibration", "Click four points on the ground, then type where they lie in metres"],
];
const KINDS = { zone: "zones", line: "lines", mask: "privacy_masks" };
const HANDLE_PX = 7;  // handle radius in screen pixels, whatever the image is scaled to

const clone = (value) => JSON.parse(JSON.stringify(value));
const round = (value) => Math.round(value * 10) / 10;
const csv = (text) => text.split(",").map((item) => item.trim()).filter(Boolean);

/** A fresh name of the form "zone-3" that no shape of that kind has. */
function freshName(items, prefix) {
  const names = new Set(items.map((item) => item.name));
  for (let n = 1; ; n += 1) if (!names.has(`${prefix}-${n}`)) return `${prefix}-${n}`;
}

/**
 * @param geometry {zones, lines, privacy_masks, calibration} of a camera (copied, not changed)
 * @param onChange called after every change (the page marks itself unsaved)
 */
export function createEditor(geometry, onChange = () => {}) {
  let state = clone({
    zones: geometry.zones ?? [], lines: geometry.lines ?? [],
    privacy_masks: geometry.privacy_masks ?? [], calibration: geometry.calibration ?? null,
  });
  const history = [];
  let tool = "select";
  let draft = [];  // vertices placed so far by the drawing tool
  let size = { width: 0, height: 0 };
  let drag = null;

  const image = h("img", { class: "editor-image", alt: "Camera frame (faces blurred)", "data-testid": "editor-image" });
  const svg = s("svg", { class: "editor-overlay", "data-testid": "editor-canvas", role: "application",
    "aria-label": "Drawing area: zones, lines, masks and calibration points" });
  const stage = h("div", { class: "editor-stage", hidden: true }, image, svg);
  const waiting = h("p", { class: "editor-waiting muted", "data-testid": "editor-waiting",
    text: "Test the connection to draw on the camera's frame." });
  const hint = h("p", { class: "muted editor-hint" });
  const undoButton = h("button", { class: "button", type: "button", text: "Undo", "data-testid": "editor-undo",
    title: "Undo the last change (Ctrl+Z)", onclick: () => undo() });
  const toolButtons = TOOLS.map(([name, label, help]) => h("button", {
    class: "button tool", type: "button", text: label, "data-tool": name, title: help,
    onclick: () => setTool(name),
  }));
  const list = h("div", { class: "shape-list", "data-testid": "shape-list" });
  const element = h("section", { class: "editor", "data-testid": "editor" },
    h("div", { class: "editor-tools" }, toolButtons, undoButton), hint,
    h("div", { class: "editor-body" }, h("div", {}, stage, waiting), list));

  function changed() {
    draw();
    renderList();
    onChange();
  }

  function remember() {
    history.push(clone(state));
    if (history.length > 100) history.shift();
  }

  function undo() {
    if (draft.length) {
      draft.pop();
      draw();
      return;
    }
    const previous = history.pop();
    if (previous) {
      state = previous;
      changed();
    }
  }

  function setTool(name) {
    tool = name;
    draft = [];
    for (const button of toolButtons) button.setAttribute("aria-pressed", String(button.dataset.tool === name));
    hint.textContent = TOOLS.find(([toolName]) => toolName === name)[2];
    draw();
  }

  /** Image pixel under a pointer event. */
  function imagePoint(event) {
    const point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    const local = point.matrixTransform(svg.getScreenCTM().inverse());
    return [round(Math.min(Math.max(local.x, 0), size.width)), round(Math.min(Math.max(local.y, 0), size.height))];
  }

  const scale = () => (svg.getBoundingClientRect().width ? size.width / svg.getBoundingClientRect().width : 1);

  function finishPolygon() {
    if (draft.length < 3) return;
    remember();
    const key = KINDS[tool];
    const prefix = tool === "mask" ? "mask" : "zone";
    state[key].push(tool === "mask"
      ? { name: freshName(state[key], prefix), polygon: draft }
      : { name: freshName(state[key], prefix), polygon: draft, classes: null });
    draft = [];
    changed();
  }

  function place(point) {
    if (tool === "zone" || tool === "mask") {
      const first = draft[0];
      const near = first && Math.hypot(first[0] - point[0], first[1] - point[1]) <= HANDLE_PX * 1.5 * scale();
      if (near && draft.length >= 3) finishPolygon();
      else draft.push(point);
    } else if (tool === "line") {
      draft.push(point);
      if (draft.length === 2) {
        remember();
        state.lines.push({ name: freshName(state.lines, "line"), start: draft[0], end: draft[1], classes: null });
        draft = [];
        changed();
        return;
      }
    } else if (tool === "calibration") {
      draft.push(point);
      if (draft.length === 4) {
        remember();
        const ground = state.calibration?.ground_points ?? [[0, 0], [10, 0], [10, 10], [0, 10]];
        state.calibration = { image_points: draft, ground_points: ground };
        draft = [];
        changed();
        return;
      }
    }
    draw();
  }

  svg.addEventListener("pointerdown", (event) => {
    const handle = event.target.closest?.("[data-handle]");
    if (handle && tool === "select") {
      remember();
      drag = JSON.parse(handle.dataset.handle);
      svg.setPointerCapture(event.pointerId);
      event.preventDefault();
      return;
    }
    if (tool !== "select") place(imagePoint(event));
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const point = imagePoint(event);
    const { key, index, field, vertex } = drag;
    const target = key === "calibration" ? state.calibration : state[key][index];
    if (vertex === undefined) target[field] = point;
    else target[field][vertex] = point;
    draw();
  });
  const endDrag = () => {
    if (drag) {
      drag = null;
      changed();
    }
  };
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);
  element.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && draft.length) finishPolygon();
    if (event.key === "Escape") { draft = []; draw(); }
    if ((event.ctrlKey || event.metaKey) && event.key === "z") { event.preventDefault(); undo(); }
  });
  element.tabIndex = -1;

  function handle(x, y, ref, label) {
    return s("circle", { class: "handle", cx: x, cy: y, r: HANDLE_PX * scale(), "data-handle": JSON.stringify(ref),
      "aria-label": label });
  }

  /** The in/out arrows of a line: crossing from its right-hand side to its left-hand side
   * (looking from start to end) counts "in", as the line module counts. */
  function directionMarks(line) {
    const [x1, y1] = line.start;
    const [x2, y2] = line.end;
    const length = Math.hypot(x2 - x1, y2 - y1) || 1;
    const [nx, ny] = [(y2 - y1) / length, -(x2 - x1) / length];  // left-hand normal
    const [mx, my] = [(x1 + x2) / 2, (y1 + y2) / 2];
    const reach = 28 * scale();
    const arrow = (sign, text) => {
      const [ax, ay] = [mx - sign * nx * reach, my - sign * ny * reach];
      const [bx, by] = [mx + sign * nx * reach, my + sign * ny * reach];
      return [
        s("line", { class: `direction direction-${text}`, x1: ax, y1: ay, x2: bx, y2: by, "marker-end": "url(#arrowhead)" }),
        s("text", { class: "direction-label", x: bx + sign * nx * 14 * scale(), y: by + sign * ny * 14 * scale() + 5 * scale(),
          "text-anchor": "middle",
          "font-size": 13 * scale(), text }),
      ];
    };
    // Arrows side by side along the line: "in" towards the left-hand side, "out" away from it.
    const [dx, dy] = [(x2 - x1) / length * 14 * scale(), (y2 - y1) / length * 14 * scale()];
    const shift = (nodes, ox, oy) => s("g", { transform: `translate(${ox} ${oy})` }, nodes);
    return [shift(arrow(1, "in"), -dx, -dy), shift(arrow(-1, "out"), dx, dy)];
  }

  function draw() {
    if (!size.width) return;
    svg.setAttribute("viewBox", `0 0 ${size.width} ${size.height}`);
    const shapes = [s("defs", {}, s("marker", { id: "arrowhead", viewBox: "0 0 10 10", refX: 8, refY: 5,
      markerWidth: 5, markerHeight: 5, orient: "auto-start-reverse" }, s("path", { d: "M0 0L10 5L0 10z", class: "arrowhead" })))];
    const points = (vertices) => vertices.map(([x, y]) => `${x},${y}`).join(" ");
    state.privacy_masks.forEach((mask, index) => {
      shapes.push(s("polygon", { class: "shape mask", points: points(mask.polygon), "data-name": mask.name }));
      mask.polygon.forEach(([x, y], vertex) =>
        shapes.push(handle(x, y, { key: "privacy_masks", index, field: "polygon", vertex }, `${mask.name} corner ${vertex + 1}`)));
    });
    state.zones.forEach((zone, index) => {
      const [lx, ly] = zone.polygon[0];
      shapes.push(s("polygon", { class: "shape zone", points: points(zone.polygon), "data-name": zone.name }),
        s("text", { class: "shape-label", x: lx + 6 * scale(), y: ly + 16 * scale(), "font-size": 14 * scale(), text: zone.name }));
      zone.polygon.forEach(([x, y], vertex) =>
        shapes.push(handle(x, y, { key: "zones", index, field: "polygon", vertex }, `${zone.name} corner ${vertex + 1}`)));
    });
    state.lines.forEach((line, index) => {
      shapes.push(s("line", { class: "shape counting-line", x1: line.start[0], y1: line.start[1], x2: line.end[0], y2: line.end[1],
        "data-name": line.name }), ...directionMarks(line),
      s("text", { class: "shape-label", x: line.start[0] + 6 * scale(), y: line.start[1] - 6 * scale(), "font-size": 14 * scale(), text: line.name }),
      handle(...line.start, { key: "lines", index, field: "start" }, `${line.name} start`),
      handle(...line.end, { key: "lines", index, field: "end" }, `${line.name} end`));
    });
    state.calibration?.image_points.forEach(([x, y], vertex) => {
      shapes.push(handle(x, y, { key: "calibration", field: "image_points", vertex }, `calibration point ${vertex + 1}`),
        s("text", { class: "shape-label calibration-label", x: x + 9 * scale(), y: y - 9 * scale(), "font-size": 14 * scale(), text: `P${vertex + 1}` }));
    });
    if (draft.length) {
      shapes.push(s("polyline", { class: "shape draft", points: points(draft) }));
      draft.forEach(([x, y]) => shapes.push(s("circle", { class: "draft-point", cx: x, cy: y, r: HANDLE_PX * scale() })));
    }
    svg.replaceChildren(...shapes);
    undoButton.disabled = !history.length && !draft.length;
  }

  function edit(mutate) {
    remember();
    mutate();
    changed();
  }

  /** One row per shape: its name, which classes count, its problems, delete. */
  function renderList() {
    const rows = [];
    const row = (key, index, item, extras) => h("div", { class: "shape-row", "data-field": `${key}.${index}`,
      "data-testid": `${key}-row` },
    h("span", { class: "kind", text: { zones: "zone", lines: "line", privacy_masks: "mask" }[key] }),
    h("input", { value: item.name, "aria-label": "Name", "data-field": `${key}.${index}.name`,
      onchange: (change) => edit(() => { item.name = change.target.value.trim(); }) }),
    extras,
    h("button", { class: "button danger", type: "button", text: "Delete",
      onclick: () => edit(() => state[key].splice(index, 1)) }),
    h("span", { class: "field-error", "data-error-for": `${key}.${index}` }));
    const classes = (item, key, index) => h("input", { value: (item.classes ?? []).join(", "), placeholder: "all classes",
      "aria-label": "Classes that count", "data-field": `${key}.${index}.classes`, class: "classes-input",
      onchange: (change) => edit(() => { const list = csv(change.target.value); item.classes = list.length ? list : null; }) });
    state.zones.forEach((zone, index) => rows.push(row("zones", index, zone, [classes(zone, "zones", index),
      h("span", { class: "field-error", "data-error-for": `zones.${index}.polygon` })])));
    state.lines.forEach((line, index) => rows.push(row("lines", index, line, [classes(line, "lines", index),
      h("button", { class: "button", type: "button", text: "Swap in/out", title: "Swap which side counts in",
        onclick: () => edit(() => { [line.start, line.end] = [line.end, line.start]; }) })])));
    state.privacy_masks.forEach((mask, index) => rows.push(row("privacy_masks", index, mask,
      h("span", { class: "field-error", "data-error-for": `privacy_masks.${index}.polygon` }))));
    if (state.calibration) {
      const ground = state.calibration.ground_points.map((point, vertex) => h("label", { class: "ground-point" },
        `P${vertex + 1} (m)`,
        ...[0, 1].map((axis) => h("input", { type: "number", step: "any", value: point[axis], "aria-label": `P${vertex + 1} ${axis ? "y" : "x"} in metres`,
          onchange: (change) => edit(() => { point[axis] = Number(change.target.value); }) }))));
      rows.push(h("div", { class: "shape-row calibration-row", "data-field": "calibration" },
        h("span", { class: "kind", text: "calibration" }), ground,
        h("button", { class: "button danger", type: "button", text: "Delete", onclick: () => edit(() => { state.calibration = null; }) }),
        h("span", { class: "field-error", "data-error-for": "calibration" })));
    }
    list.replaceChildren(...(rows.length ? rows : [h("p", { class: "muted", text: "Nothing drawn yet: pick a tool above." })]));
  }

  image.addEventListener("load", () => {
    size = { width: image.naturalWidth, height: image.naturalHeight };
    stage.hidden = false;
    waiting.hidden = true;
    element.dataset.ready = "true";
    draw();
  });
  new ResizeObserver(() => draw()).observe(svg);
  setTool("select");
  renderList();

  return {
    element,
    /** Show this image (a data: or same-origin URL) as the frame to draw on. */
    setImage(url) { image.src = url; },
    value: () => clone(state),
    /** Edit other geometry (a PTZ camera's other preset): undo starts afresh. */
    load(next) {
      state = clone({ zones: next.zones ?? [], lines: next.lines ?? [],
        privacy_masks: next.privacy_masks ?? [], calibration: next.calibration ?? null });
      history.length = 0;
      draft = [];
      draw();
      renderList();
    },
    /** Size of the frame drawn on: the pixel space of every coordinate in value(). */
    frameSize: () => ({ ...size }),
  };
}
