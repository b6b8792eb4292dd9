// 企业红包: a company's campaign page with its branding, and the button that draws a prize.

import { Attempt, get } from "../../api.js";
import { h, mount } from "../../dom.js";
import { t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { errorLine, showError } from "./kit.js";

export async function render(ctx) {
  const id = ctx.query.get("id");
  const token = ctx.query.get("token");
  if (!id) return pick(ctx);
  const c = await get(`/v1/campaigns/${encodeURIComponent(id)}${token ? `?token=${encodeURIComponent(token)}` : ""}`);
  const result = h("div", { class: "result", id: "campaign-result", role: "status" });
  const error = errorLine("campaign-error");
  const attempt = new Attempt();
  const button = h(
    "button",
    {
      type: "button",
      class: "coin big",
      id: "campaign-claim",
      "aria-label": t("campaign_claim"),
      async onclick() {
        error.hidden = true;
        button.disabled = true;
        try {
          const r = await attempt.send(`/v1/campaigns/${c.id ?? id}/claim`, token ? { token } : undefined);
          mount(
            result,
            r.kind === "cash"
              ? h("p", { class: "won", id: "campaign-won" }, t("shake_cash", { name: c.name, amount: yuan(r.amount_fen) }))
              : h("p", { class: "won", id: "campaign-won" }, t("shake_coupon", { name: c.name }), " ", h("a", { class: "link", href: "/app/x/coupons" }, t("feat_coupons"))),
          );
        } catch (err) {
          showError(error, err);
        } finally {
          button.disabled = false;
        }
      },
    },
    t("open_btn"),
  );
  const el = h(
    "div",
    { class: "envelope-stage" },
    h(
      "section",
      { class: "envelope", "aria-labelledby": "campaign-name" },
      h("div", { class: "flap", "aria-hidden": "true" }),
      h(
        "div",
        { class: "envelope-head" },
        c.logo_url ? h("img", { src: c.logo_url, alt: "", class: "logo" }) : null,
        h("h2", { id: "campaign-name" }, c.name),
        c.cover_text ? h("p", { class: "envelope-greeting" }, c.cover_text) : null,
        c.ends_at ? h("p", { class: "hint light" }, t("campaign_until", { when: new Date(c.ends_at).toLocaleString() })) : null,
      ),
      button,
      error,
      result,
    ),
  );
  return { el, title: t("feat_campaign"), back: "/app/more" };
}

function pick(ctx) {
  const field = h("input", { id: "campaign-id", inputmode: "numeric", autocomplete: "off" });
  const form = h(
    "form",
    {
      class: "card form",
      onsubmit(e) {
        e.preventDefault();
        if (/^\d+$/.test(field.value.trim())) ctx.go(`/app/x/campaign?id=${field.value.trim()}`);
      },
    },
    h("label", { for: "campaign-id" }, t("campaign_id")),
    field,
    h("p", { class: "hint" }, t("campaign_id_hint")),
    h("button", { type: "submit", class: "primary wide" }, t("go")),
  );
  return { el: h("div", {}, form), title: t("feat_campaign"), back: "/app/more" };
}
