// 核销: a merchant types (or pastes) the number on a customer's coupon and marks it used, once.

import { post } from "../../api.js";
import { h, mount } from "../../dom.js";
import { extend, t } from "../../i18n.js";
import { errorLine } from "./kit.js";
import { explain } from "./manage-kit.js";

extend({
  zh: {
    rd_number: "券号",
    rd_hint: "请顾客打开“我的优惠券”，读出或粘贴券号",
    rd_btn: "核销",
    rd_bad: "券号是一串数字",
    rd_done: "券 No. {id} 已核销",
  },
  en: {
    rd_number: "Coupon number",
    rd_hint: "Ask the customer to open My coupons and read out (or paste) the number",
    rd_btn: "Redeem",
    rd_bad: "A coupon number is digits only",
    rd_done: "Coupon No. {id} redeemed",
  },
});

/** The coupon id in what was typed or pasted: "123", "No. 123", "#123", "券号 123" → "123". */
export function couponNumber(text) {
  const digits = String(text ?? "").replace(/[０-９]/g, (c) => String(c.charCodeAt(0) - 0xff10)).match(/\d+/g);
  return digits && digits.length === 1 && digits[0].length <= 18 ? digits[0].replace(/^0+(?=\d)/, "") : null;
}

export async function render(ctx) {
  const number = h("input", {
    id: "rd-number",
    class: "code-input",
    inputmode: "numeric",
    autocomplete: "off",
    maxlength: 32,
    "aria-describedby": "rd-hint",
    value: ctx.query.get("coupon") ?? "",
  });
  const error = errorLine("rd-error");
  const done = h("div", { class: "result", id: "rd-result", role: "status" });
  const submit = h("button", { type: "submit", class: "primary wide", id: "rd-btn" }, t("rd_btn"));
  const form = h(
    "form",
    {
      class: "card form",
      id: "redeem-form",
      novalidate: true,
      async onsubmit(e) {
        e.preventDefault();
        error.hidden = true;
        mount(done);
        const id = couponNumber(number.value);
        if (!id) {
          number.setAttribute("aria-invalid", "true");
          error.textContent = t("rd_bad");
          error.hidden = false;
          return;
        }
        number.removeAttribute("aria-invalid");
        submit.disabled = true;
        try {
          // Redeeming moves no money and is once by nature: a retry gets coupon_redeemed.
          const reply = await post(`/v1/coupons/${id}/redeem`);
          mount(done, h("p", { class: "won", id: "rd-done" }, t("rd_done", { id: reply.id })));
          number.value = "";
        } catch (err) {
          explain(error, err);
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("label", { for: "rd-number" }, t("rd_number")),
    number,
    h("p", { class: "hint", id: "rd-hint" }, t("rd_hint")),
    error,
    submit,
    done,
  );
  return { el: h("div", { class: "manage" }, form), title: t("feat_redeem"), back: "/app/x/merchant" };
}
