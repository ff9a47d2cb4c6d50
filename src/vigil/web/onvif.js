// ONVIF panel of the add/edit camera page: find cameras on the network, read a camera's
// profiles with its credentials, and use a profile's stream as the analysed (sub) or main
// stream; for PTZ cameras, list presets, go to one, save the current position as one.
import { sendJson } from "./login.js";
import { errorBox, h } from "./dom.js";

/** The RTSP URI with the credentials put in (cameras want them in the URL). */
function withCredentials(uri, username, password) {
  if (!username) return uri;
  const url = new URL(uri);
  url.username = username;
  url.password = password;
  return url.toString();
}

/**
 * @param useStream called with (kind: "url" | "main_url", uri) when a profile is chosen
 */
export function createOnvifPanel(useStream) {
  const problem = h("div", { "data-testid": "onvif-problem" });
  const found = h("ul", { class: "onvif-found", "data-testid": "onvif-found" });
  const profiles = h("div", { class: "onvif-profiles", "data-testid": "onvif-profiles" });
  const inputs = {
    address: h("input", { placeholder: "whole network", "aria-label": "Discovery address", "data-testid": "onvif-address" }),
    udpPort: h("input", { type: "number", value: 3702, min: 1, max: 65535, "aria-label": "Discovery port", "data-testid": "onvif-udp-port" }),
    host: h("input", { placeholder: "192.168.1.20", "aria-label": "ONVIF host", "data-testid": "onvif-host" }),
    port: h("input", { type: "number", value: 80, min: 1, max: 65535, "aria-label": "ONVIF port", "data-testid": "onvif-port" }),
    username: h("input", { autocomplete: "off", "aria-label": "ONVIF user name", "data-testid": "onvif-username" }),
    password: h("input", { type: "password", autocomplete: "new-password", "aria-label": "ONVIF password", "data-testid": "onvif-password" }),
  };
  const field = (text, control) => h("label", { class: "field" }, h("span", { class: "field-label", text }), control);
  const device = () => ({ host: inputs.host.value.trim(), port: Number(inputs.port.value),
    username: inputs.username.value, password: inputs.password.value });

  const run = async (work) => {
    problem.replaceChildren();
    try {
      await work();
    } catch (error) {
      problem.append(errorBox(error.message));
    }
  };

  const discover = () => run(async () => {
    found.replaceChildren(h("li", { class: "muted", text: "Looking…" }));
    const body = { timeout_s: 3, ...(inputs.address.value.trim() ? { address: inputs.address.value.trim(), port: Number(inputs.udpPort.value) } : {}) };
    const cameras = await sendJson("POST", "/api/onvif/discover", body);
    found.replaceChildren(...(cameras.length ? cameras.map((camera) => h("li", { "data-testid": "onvif-camera" },
      h("b", { text: camera.name ?? camera.endpoint }), ` ${camera.host}:${camera.port} `,
      camera.hardware ? h("span", { class: "muted", text: camera.hardware }) : null, " ",
      h("button", { class: "button", type: "button", text: "Choose", onclick: () => {
        inputs.host.value = camera.host;
        inputs.port.value = camera.port;
        inputs.username.focus();
      } }))) : [h("li", { class: "muted", text: "No ONVIF camera answered." })]));
  });

  function presetList(profile) {
    const list = h("span", { class: "presets" });
    const ptz = { ...device(), profile: profile.token };
    const load = () => run(async () => {
      const presets = await sendJson("POST", "/api/onvif/ptz/presets", ptz);
      list.replaceChildren(...presets.map((preset) => h("button", { class: "button", type: "button", "data-testid": "onvif-preset",
        text: `Go to ${preset.name || preset.token}`,
        onclick: () => run(() => sendJson("POST", "/api/onvif/ptz/goto", { ...ptz, preset: preset.token })) })),
      h("button", { class: "button", type: "button", text: "Save position as preset…", onclick: () => {
        const name = prompt("Name of the new preset");
        if (name) run(async () => { await sendJson("POST", "/api/onvif/ptz/save", { ...ptz, name }); await load(); });
      } }));
    });
    load();
    return list;
  }

  const readProfiles = () => run(async () => {
    const info = await sendJson("POST", "/api/onvif/device", device());
    const { username, password } = device();
    profiles.replaceChildren(h("p", { text: `${info.manufacturer} ${info.model} · firmware ${info.firmware} · serial ${info.serial}` }),
      ...info.profiles.map((profile) => h("div", { class: "onvif-profile", "data-testid": "onvif-profile", "data-token": profile.token },
        h("b", { text: profile.name }),
        ` ${profile.width ?? "?"}×${profile.height ?? "?"} ${profile.encoding ?? ""} `,
        profile.stream_uri ? [
          h("button", { class: "button", type: "button", text: "Analyse this stream", "data-testid": "use-as-url",
            onclick: () => useStream("url", withCredentials(profile.stream_uri, username, password)) }),
          h("button", { class: "button", type: "button", text: "Record this stream",
            onclick: () => useStream("main_url", withCredentials(profile.stream_uri, username, password)) }),
        ] : h("span", { class: "muted", text: "no RTSP stream" }),
        profile.ptz ? presetList(profile) : null)));
  });

  return h("details", { class: "admin-section onvif", "data-testid": "onvif-panel" },
    h("summary", { class: "section-title", text: "Find an ONVIF camera" }),
    h("div", { class: "toolbar" }, field("Discover at", inputs.address), field("UDP port", inputs.udpPort),
      h("button", { class: "button", type: "button", text: "Discover", "data-testid": "onvif-discover", onclick: discover })),
    found,
    h("div", { class: "toolbar" }, field("Host", inputs.host), field("Port", inputs.port),
      field("User", inputs.username), field("Password", inputs.password),
      h("button", { class: "button", type: "button", text: "Read profiles", "data-testid": "onvif-read", onclick: readProfiles })),
    problem, profiles);
}
