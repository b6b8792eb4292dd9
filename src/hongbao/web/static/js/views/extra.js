// The other kinds' pages (/app/x/<page>): each lives in its own module under views/x/.

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { reloadIfUpgraded } from "../version.js";

export async function render(ctx) {
  const [page] = ctx.params;
  let module;
  try {
    module = await import(`./x/${page}.js`);
  } catch {
    await reloadIfUpgraded(); // a module of an older release: the page reloads into the new one
    return { el: h("p", { class: "muted center pad" }, t("not_yet")), title: t("more"), back: "/app/more" };
  }
  return module.render(ctx);
}
