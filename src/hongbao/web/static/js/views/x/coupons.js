// My coupons (won in campaigns and shakes), newest first.

import { get } from "../../api.js";
import { h } from "../../dom.js";
import { t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { shortTime } from "../common.js";

export async function render() {
  const { coupons } = await get("/v1/coupons");
  const list = h(
    "ul",
    { class: "list", id: "coupons" },
    coupons.length
      ? coupons.map((c) =>
          h(
            "li",
            { class: "claim", "data-coupon": c.id },
            h("span", { class: "row-main" }, h("span", { class: "row-title" }, `${c.merchant_name} · ${c.title}`), h("span", { class: "row-sub" }, `${t(`coupon_${c.status}`)} · ${t("until", { when: shortTime(c.expires_at) })}`)),
            h("span", { class: "claim-amount" }, yuan(c.face_value_fen)),
          ),
        )
      : h("li", { class: "muted center pad" }, t("nothing_yet")),
  );
  return { el: h("div", {}, h("section", { class: "card" }, list)), title: t("feat_coupons"), back: "/app/more" };
}
