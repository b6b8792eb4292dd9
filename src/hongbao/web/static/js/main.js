// The app's shell: routes /app/... to pages, the top bar, the tab bar, the language switch, live updates.

import { ApiError, api, session, whenUnauthorized } from "./api.js";
import { h, mount, toast } from "./dom.js";
import { lang, onLangChange, setLang, t } from "./i18n.js";
import { icon } from "./icons.js";
import { onLive, startLive, stopLive } from "./live.js";
import { reloadIfUpgraded } from "./version.js";

// [pattern, module, tab]: a module exports `render(ctx)` -> {el, title, back?, refresh?(event), dispose?()}.
const ROUTES = [
  [/^\/app\/login$/, "login", null],
  [/^\/(?:app\/?)?$/, "home", "home"],
  [/^\/app\/c\/(\d+)$/, "chat", "home"],
  [/^\/app\/group\/(\d+)$/, "group", "home"],
  [/^\/app\/packet\/(\d+)$/, "packet", "home"],
  [/^\/app\/send\/(group|friend)\/(\d+)$/, "send", "home"],
  [/^\/app\/wallet$/, "wallet", "wallet"],
  [/^\/app\/more$/, "more", "more"],
  [/^\/app\/x\/([\w-]+)(?:\/([\w-]+))?$/, "extra", "more"],
];
const PUBLIC = new Set(["login", "extra"]);

const view = document.getElementById("view");
const title = document.getElementById("title");
const back = document.getElementById("back");
const tabs = document.getElementById("tabs");
let current = null;
let rendering = 0;

export function go(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  route();
}

function match(pathname) {
  for (const [pattern, name, tab] of ROUTES) {
    const m = pattern.exec(pathname);
    if (m) return { name, tab, params: m.slice(1) };
  }
  return null;
}

async function route({ keepFocus = false } = {}) {
  const found = match(location.pathname);
  if (!found) return go("/app", { replace: true });
  if (!session.token && !PUBLIC.has(found.name)) {
    const next = location.pathname + location.search;
    return go(`/app/login${next.startsWith("/app/") && next !== "/app/login" ? `?next=${encodeURIComponent(next)}` : ""}`, {
      replace: true,
    });
  }
  const ticket = ++rendering;
  current?.dispose?.();
  current = null;
  tabs.hidden = !session.token || !found.tab;
  for (const a of tabs.querySelectorAll("a")) {
    if (a.dataset.tab === found.tab) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const ctx = {
    params: found.params,
    query: new URLSearchParams(location.search),
    go,
    loggedIn,
    logOut,
    errorBox,
    me: session.user,
    setTitle(text) {
      title.textContent = text;
      document.title = `${text} · ${t("app_name")}`;
    },
  };
  let page;
  try {
    const module = await import(`./views/${found.name}.js`);
    page = await module.render(ctx);
  } catch (err) {
    if (err instanceof TypeError && (await reloadIfUpgraded())) return; // a module of an older release
    page = { el: errorBox(err), title: t("app_name") };
  }
  if (ticket !== rendering) return page?.dispose?.(); // a newer navigation won
  current = page;
  ctx.setTitle(page.title ?? t("app_name"));
  back.hidden = !page.back;
  back.onclick = () => (history.length > 1 && history.state !== "first" ? history.back() : go(page.back));
  mount(view, page.el);
  if (!keepFocus) title.focus({ preventScroll: true });
}

export function errorBox(err) {
  const text = err instanceof ApiError ? err.message : String(err?.message ?? err);
  return h("p", { class: "error", role: "alert" }, text);
}

// Same-origin links under /app are handled here, without reloading the page.
document.addEventListener("click", (e) => {
  const a = e.target.closest?.("a[href]");
  if (!a || a.target || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !(url.pathname === "/" || url.pathname.startsWith("/app"))) return;
  e.preventDefault();
  go(url.pathname + url.search);
});
window.addEventListener("popstate", () => route());

const langBtn = document.getElementById("lang");
function paintLang() {
  langBtn.textContent = t("lang_switch");
  langBtn.setAttribute("aria-label", t("lang_switch_label"));
  back.setAttribute("aria-label", t("back"));
  tabs.setAttribute("aria-label", t("home"));
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
}
langBtn.addEventListener("click", () => setLang(lang() === "zh" ? "en" : "zh"));
onLangChange(() => {
  paintLang();
  route({ keepFocus: true });
});

// Live updates: the current page reloads what it shows (debounced: a burst of claims is one fetch).
let pending = null;
let busy = false;
onLive((event) => {
  if (!current?.refresh) return;
  clearTimeout(pending);
  pending = setTimeout(async () => {
    if (busy || !current?.refresh) return;
    busy = true;
    try {
      await current.refresh(event);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) console.warn("refresh failed", err);
    } finally {
      busy = false;
    }
  }, 120);
});

whenUnauthorized(() => {
  if (!session.token) return;
  session.clear();
  stopLive();
  toast(t("session_expired"), "error");
  go("/app/login", { replace: true });
});

export function loggedIn(token, user, expiresAt) {
  session.save(token, user, expiresAt);
  startLive();
}

export function logOut() {
  api("DELETE", "/v1/sessions/current").catch(() => {});
  session.clear();
  stopLive();
  go("/app/login", { replace: true });
}

// Logged out (or in as another user) in another tab of this device: this tab follows.
session.onChange(() => {
  stopLive();
  if (session.token) {
    startLive();
    route();
  } else {
    go("/app/login", { replace: true });
  }
});

for (const el of document.querySelectorAll("[data-icon]")) el.append(icon(el.dataset.icon));
paintLang();
history.replaceState("first", "");
if (session.token) startLive();
route();
