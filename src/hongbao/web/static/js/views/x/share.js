// A share link opened inside the app (/app/x/share?t=<token>&platform=…): claim through the link.

import { h } from "../../dom.js";
import { t } from "../../i18n.js";
import { claimForm } from "./secret.js";

export async function render(ctx) {
  const token = ctx.query.get("t") ?? "";
  const platform = ctx.query.get("platform");
  const field = h("input", { id: "secret", maxlength: 64, autocomplete: "off", "aria-label": t("share_secret"), placeholder: t("share_secret") });
  const form = claimForm(ctx, {
    field,
    optional: true,
    label: t("share_title"),
    hint: t("share_hint"),
    path: `/v1/shares/${encodeURIComponent(token)}/open`,
    body: (secret) => ({ secret: secret || null, platform: platform || null }),
  });
  return { el: h("div", { class: "envelope-stage" }, form), title: t("share_title"), back: "/app" };
}
