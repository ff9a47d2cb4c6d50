// The page menu on a phone: collapsed behind a button in the header (CSS shows the button and
// hides the menu below 700 px), closed again once a page is chosen or on Escape.
import { h } from "./dom.js";

export function installMenu() {
  const nav = document.querySelector(".nav");
  nav.id ||= "pages-menu";
  const toggle = h("button", { class: "menu-toggle button", type: "button",
    "data-testid": "menu-toggle", "aria-controls": nav.id, "aria-expanded": "false",
    "aria-label": "Menu", text: "☰" });
  const set = (open) => {
    document.body.dataset.menu = open ? "open" : "closed";
    toggle.setAttribute("aria-expanded", String(open));
  };
  toggle.addEventListener("click", () => set(document.body.dataset.menu !== "open"));
  window.addEventListener("hashchange", () => set(false));
  document.addEventListener("keydown", (key) => {
    if (key.key === "Escape" && document.body.dataset.menu === "open") {
      set(false);
      toggle.focus();
    }
  });
  document.querySelector(".brand").after(toggle);
  set(false);
}
