// My coupons (won in campaigns and shakes), newest first, each with its number shown big to read out at the till.

import { get } from "../../api.js";
import { h } from "../../dom.js";
import { extend, t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { shortTime } from "../common.js";

extend({
  zh: { coupon_number: "券号" },
  en: { coupon_number: "Coupon No." },
});

export async function render() {
  const { coupons } = await get("/v1/coupons");
  const list = h(
    "ul",
    { class: "list", id: "coupons" },
    coupons.length
      ? coupons.map((c) =>
          h(
            "li",
            { class: `claim coupon ${c.status}`, "data-coupon": c.id },
            h(
              "span",
              { class: "row-main" },
              h("span", { class: "row-title" }, `${c.merchant_name} · ${c.title}`),
              h("span", { class: "row-sub" }, `${t(`coupon_${c.status}`)} · ${t("until", { when: shortTime(c.expires_at) })}`),
              h("span", { class: "coupon-number" }, h("small", {}, t("coupon_number")), " ", h("b", { class: "coupon-id", "data-coupon-id": c.id }, String(c.id))),
            ),
            h("span", { class: "claim-amount" }, yuan(c.face_value_fen)),
          ),
        )
      : h("li", { class: "muted center pad" }, t("nothing_yet")),
  );
  return { el: h("div", {}, h("section", { class: "card" }, list)), title: t("feat_coupons"), back: "/app/more" };
}
