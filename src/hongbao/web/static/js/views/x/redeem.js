// 核销: a merchant types the number and the redeem code a customer's coupon shows, and marks it used, once.

import { ApiError, post } from "../../api.js";
import { h, mount } from "../../dom.js";
import { extend, t } from "../../i18n.js";
import { errorLine } from "./kit.js";
import { explain } from "./manage-kit.js";

extend({
  zh: {
    rd_number: "券号",
    rd_code: "核销码（8 位数字）",
    rd_hint: "请顾客打开“我的优惠券”，读出券号和核销码",
    rd_btn: "核销",
    rd_bad: "券号是一串数字",
    rd_bad_code: "核销码是 8 位数字",
    rd_wrong_code: "核销码不对：请顾客再读一遍券号旁边的核销码",
    rd_too_many: "核销码输错太多次，请稍后再试（最多 15 分钟）",
    rd_done: "券号 {id} 已核销",
  },
  en: {
    rd_number: "Coupon number",
    rd_code: "Redeem code (8 digits)",
    rd_hint: "Ask the customer to open My coupons and read out the number and the redeem code",
    rd_btn: "Redeem",
    rd_bad: "A coupon number is digits only",
    rd_bad_code: "A redeem code is 8 digits",
    rd_wrong_code: "Wrong redeem code: ask the customer to read out the code beside the number again",
    rd_too_many: "Too many wrong codes: try again later (at most 15 minutes)",
    rd_done: "Coupon No. {id} redeemed",
  },
});

// Refusals of this page in the reader's language (the coupon's own ones are explained by manage-kit).
const REFUSED = { wrong_code: "rd_wrong_code", too_many_attempts: "rd_too_many", invalid_code: "rd_bad_code" };

const FULL_WIDTH = /[０-９]/g;
const ascii = (c) => String(c.charCodeAt(0) - 0xff10);

/** The coupon id in what was typed or pasted: "123", "No. 123", "#123", "券号 123" → "123". */
export function couponNumber(text) {
  const digits = String(text ?? "").replace(FULL_WIDTH, ascii).match(/\d+/g);
  return digits && digits.length === 1 && digits[0].length <= 18 ? digits[0].replace(/^0+(?=\d)/, "") : null;
}

/** The redeem code as a cashier types it: "1234 5678", "1234-5678", full-width digits → "12345678"; else null. */
export function redeemCode(text) {
  const code = String(text ?? "").replace(FULL_WIDTH, ascii).replace(/[\s\-‐‑‒–—―－]/g, "");
  return /^\d{8}$/.test(code) ? code : null;
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
  const code = h("input", {
    id: "rd-code",
    class: "code-input redeem-code",
    inputmode: "numeric",
    autocomplete: "off",
    maxlength: 32,
    placeholder: "1234 5678",
    "aria-describedby": "rd-hint",
  });
  const error = errorLine("rd-error");
  const done = h("div", { class: "result", id: "rd-result", role: "status" });
  const submit = h("button", { type: "submit", class: "primary wide", id: "rd-btn" }, t("rd_btn"));

  function refuse(field, key, why) {
    field.setAttribute("aria-invalid", "true");
    error.textContent = t(key);
    error.dataset.code = why;
    error.hidden = false;
    field.focus();
  }

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
        number.removeAttribute("aria-invalid");
        code.removeAttribute("aria-invalid");
        const id = couponNumber(number.value);
        if (!id) return refuse(number, "rd_bad", "invalid_number");
        const typed = redeemCode(code.value);
        if (!typed) return refuse(code, "rd_bad_code", "invalid_code");
        submit.disabled = true;
        try {
          // Redeeming moves no money and is once by nature: a retry gets coupon_redeemed.
          const reply = await post(`/v1/coupons/${id}/redeem`, { code: typed });
          mount(done, h("p", { class: "won", id: "rd-done" }, t("rd_done", { id: reply.id })));
          number.value = "";
          code.value = "";
        } catch (err) {
          const key = err instanceof ApiError ? REFUSED[err.code] : undefined;
          if (key) refuse(code, key, err.code);
          else explain(error, err);
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("label", { for: "rd-number" }, t("rd_number")),
    number,
    h("label", { for: "rd-code" }, t("rd_code")),
    code,
    h("p", { class: "hint", id: "rd-hint" }, t("rd_hint")),
    error,
    submit,
    done,
  );
  return { el: h("div", { class: "manage" }, form), title: t("feat_redeem"), back: "/app/x/merchant" };
}
