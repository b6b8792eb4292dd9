// A tiny element builder: h("button", {class: "x", onclick: fn, "aria-label": "…"}, "text", child).

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name in el && !name.includes("-") && typeof value !== "string") el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A polite live region message (screen readers hear it, everyone sees it). */
export function toast(text, kind = "ok") {
  const box = document.getElementById("toast");
  if (!box) return;
  box.textContent = text;
  box.className = `toast show ${kind}`;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.className = "toast"), 2600);
}

export function initials(name) {
  const s = String(name ?? "?").trim();
  // A Chinese name shows its last character (as chat apps do); a Latin one its first letter.
  const han = s.match(/[\u4e00-\u9fff]/g);
  return han ? han[han.length - 1] : s.slice(0, 1).toUpperCase();
}

export function avatar(name, size = "") {
  return h("span", { class: `avatar ${size}`, "aria-hidden": "true" }, initials(name));
}
