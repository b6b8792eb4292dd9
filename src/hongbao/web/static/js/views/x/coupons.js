// My coupons (won in campaigns and shakes), newest first, each with its number and its redeem code shown big: the
// cashier types both, and only the holder sees the code (the number alone is guessable and redeems nothing).

import { get } from "../../api.js";
import { h } from "../../dom.js";
import { extend, labelled, t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { shortTime } from "../common.js";

extend({
  zh: { coupon_number: "券号", coupon_code: "核销码", coupon_code_hint: "核销时把券号和核销码给店员看" },
  en: { coupon_number: "Coupon No.", coupon_code: "Redeem code", coupon_code_hint: "Show the number and the code at the till" },
});

/** "12345678" → "1234 5678": easier to read out and to type. */
export function grouped(code) {
  return String(code).replace(/(\d{4})(?=\d)/g, "$1 ");
}

/** The redeem code, big, for a coupon still to be used (a used or expired one has nothing to show). */
function codeOf(c) {
  if (c.status !== "held" || !c.redeem_code) return null;
  const spelled = c.redeem_code.split("").join(" ");
  return h(
    "span",
    { class: "coupon-number" },
    h("small", {}, t("coupon_code")),
    " ",
    h("b", { class: "coupon-code", "data-redeem-code": c.id, "aria-label": labelled(t("coupon_code"), spelled) }, grouped(c.redeem_code)),
  );
}

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
              h(
                "span",
                { class: "coupon-numbers" },
                h("span", { class: "coupon-number" }, h("small", {}, t("coupon_number")), " ", h("b", { class: "coupon-id", "data-coupon-id": c.id }, String(c.id))),
                codeOf(c),
              ),
            ),
            h("span", { class: "claim-amount" }, yuan(c.face_value_fen)),
          ),
        )
      : h("li", { class: "muted center pad" }, t("nothing_yet")),
  );
  const hint = coupons.some((c) => c.status === "held") ? h("p", { class: "hint center", id: "coupons-hint" }, t("coupon_code_hint")) : null;
  return { el: h("div", {}, h("section", { class: "card" }, hint, list)), title: t("feat_coupons"), back: "/app/more" };
}
