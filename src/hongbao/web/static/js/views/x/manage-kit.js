// What the business pages share (campaign, shake event, sponsor pool, merchant, redeem): words, branding and
// prize-table fields, datetime-local <-> ISO, whole-number checks, and refusals explained in the reader's language.

import { ApiError, capabilities, get } from "../../api.js";
import { h } from "../../dom.js";
import { extend, t } from "../../i18n.js";
import { parseYuan, yuan } from "../../money.js";
import { showError } from "./kit.js";

extend({
  zh: {
    feat_new_campaign: "发起企业红包",
    feat_new_event: "创建摇一摇活动",
    feat_new_pool: "赞助摇一摇奖池",
    feat_merchant: "我的商户",
    feat_redeem: "核销优惠券",
    m_name: "名称",
    m_name_missing: "请填写名称",
    m_logo: "Logo 图片地址（https，可选）",
    m_cover: "封面文字（可选）",
    m_budget: "预算（元）",
    m_budget_hint: "创建时从你的零钱转入预算；活动结束后未发完的退回",
    m_prizes: "奖品",
    m_prize: "奖品 {n}",
    m_prize_kind: "类型",
    m_cash: "现金",
    m_coupon: "优惠券",
    m_amount: "金额（元）",
    m_offer: "优惠",
    m_no_offers: "你还没有优惠：先在“我的商户”添加",
    m_weight: "权重",
    m_count: "数量上限（可选）",
    m_add_prize: "添加奖品",
    m_remove: "删除",
    m_bad_whole: "{field}：请输入正整数",
    m_need_prize: "至少需要一个奖品",
    m_budget_small: "预算不够发最小的现金奖品",
    m_budget_unused: "只有优惠券奖品时预算应为 0",
    m_bad_time: "请填写正确的时间",
    m_ends_before: "结束时间要晚于开始时间，且在将来",
    m_not_verified: "只有认证企业账号可以这样做（请联系管理员认证）",
    m_not_verified_note: "你的账号不是认证企业：提交会被拒绝",
    m_coupon_redeemed: "这张券已经核销过了",
    m_coupon_not_found: "没有这张券：券号不对，或不是你的商户发出的",
    m_coupon_expired: "这张券已过期",
    m_offer_not_found: "这个优惠不属于你的商户",
    m_insufficient: "零钱余额不足，请先充值",
    m_event_not_found: "没有这个摇一摇活动",
  },
  en: {
    feat_new_campaign: "New campaign",
    feat_new_event: "New shake event",
    feat_new_pool: "Sponsor a shake pool",
    feat_merchant: "My merchants",
    feat_redeem: "Redeem a coupon",
    m_name: "Name",
    m_name_missing: "Enter a name",
    m_logo: "Logo URL (https, optional)",
    m_cover: "Cover text (optional)",
    m_budget: "Budget (yuan)",
    m_budget_hint: "Moved from your wallet now; whatever is left comes back when it ends",
    m_prizes: "Prizes",
    m_prize: "Prize {n}",
    m_prize_kind: "Kind",
    m_cash: "Cash",
    m_coupon: "Coupon",
    m_amount: "Amount (yuan)",
    m_offer: "Offer",
    m_no_offers: "You have no offers yet: add one under My merchants",
    m_weight: "Weight",
    m_count: "At most (optional)",
    m_add_prize: "Add a prize",
    m_remove: "Remove",
    m_bad_whole: "{field}: enter a whole number, 1 or more",
    m_need_prize: "Add at least one prize",
    m_budget_small: "The budget does not cover the smallest cash prize",
    m_budget_unused: "With coupon prizes only, the budget is 0",
    m_bad_time: "Enter a date and time",
    m_ends_before: "The end must be after the start, and in the future",
    m_not_verified: "Only verified enterprise accounts may do this (ask an operator to verify yours)",
    m_not_verified_note: "Your account is not a verified enterprise: this will be refused",
    m_coupon_redeemed: "This coupon was already redeemed",
    m_coupon_not_found: "No such coupon: the number is wrong, or one of your merchants did not issue it",
    m_coupon_expired: "This coupon has expired",
    m_offer_not_found: "That offer is not one of your merchants'",
    m_insufficient: "Not enough in your wallet: top up first",
    m_event_not_found: "No such shake event",
  },
});

// Refusals worth saying in the reader's language; any other keeps the API's own detail.
const EXPLAINED = {
  not_verified: "m_not_verified",
  coupon_redeemed: "m_coupon_redeemed",
  coupon_not_found: "m_coupon_not_found",
  coupon_expired: "m_coupon_expired",
  offer_not_found: "m_offer_not_found",
  insufficient_funds: "m_insufficient",
  shake_event_not_found: "m_event_not_found",
};

/** Show `err` in the error line: a known refusal in the reader's language, else the API's problem detail. */
export function explain(line, err) {
  const key = err instanceof ApiError ? EXPLAINED[err.code] : undefined;
  if (key) {
    line.textContent = t(key);
    line.dataset.code = err.code;
    line.hidden = false;
  } else {
    delete line.dataset.code;
    showError(line, err);
  }
}

/**
 * A business page's form: on submit it hides `error`, disables `submit` (when given) while `act()` runs, and
 * explains a refusal in `error` in the reader's language.
 */
export function manageForm(attrs, { error, submit = null, act }, ...children) {
  return h(
    "form",
    {
      class: "card form",
      novalidate: true,
      ...attrs,
      async onsubmit(e) {
        e.preventDefault();
        error.hidden = true;
        if (submit) submit.disabled = true;
        try {
          await act();
        } catch (err) {
          explain(error, err);
        } finally {
          if (submit) submit.disabled = false;
        }
      },
    },
    ...children,
  );
}

/** A labelled field: [label, control]. */
export function field(label, control) {
  return [h("label", { for: control.id }, label), control];
}

export function textInput(id, { max = 64, placeholder = "", value = "", mode } = {}) {
  return h("input", { id, maxlength: max, autocomplete: "off", placeholder, value, inputmode: mode });
}

/** A whole number from a field (1 or more), null for an optional empty field; throws a message otherwise. */
export function wholeOf(input, label, { optional = false } = {}) {
  const text = input.value.trim();
  if (optional && !text) return null;
  if (!/^\d{1,9}$/.test(text) || Number.parseInt(text, 10) < 1) throw new Error(t("m_bad_whole", { field: label }));
  return Number.parseInt(text, 10);
}

/** A Date as a datetime-local input's value (the browser's local time, to the minute). */
export function localValue(date) {
  const p = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}`;
}

export function whenInput(id, date) {
  return h("input", { id, type: "datetime-local", value: date ? localValue(date) : "" });
}

/** A datetime-local field as an ISO instant with its zone (UTC), null for an optional empty field. */
export function isoOf(input, { optional = false } = {}) {
  if (optional && !input.value) return null;
  const at = new Date(input.value);
  if (!input.value || Number.isNaN(at.getTime())) throw new Error(t("m_bad_time"));
  return at.toISOString();
}

/** Name, logo URL and cover text: `read()` gives {name, logo_url?, cover_text?} or throws a message. */
export function brandingFields(prefix) {
  const name = textInput(`${prefix}-name`, { max: 64 });
  const logo = textInput(`${prefix}-logo`, { max: 512, placeholder: "https://", mode: "url" });
  const cover = textInput(`${prefix}-cover`, { max: 128, placeholder: "恭喜发财" }); // the server's default
  return {
    el: [field(t("m_name"), name), field(t("m_logo"), logo), field(t("m_cover"), cover)],
    read() {
      if (!name.value.trim()) throw new Error(t("m_name_missing"));
      const out = { name: name.value.trim() };
      if (logo.value.trim()) out.logo_url = logo.value.trim();
      if (cover.value.trim()) out.cover_text = cover.value.trim();
      return out;
    },
  };
}

/** Every offer of the caller's merchants, for coupon prizes ([] where the server has no GET /v1/merchants). */
export async function myOffers() {
  const caps = await capabilities();
  if (!caps.has("get", "/v1/merchants")) return [];
  const { merchants } = await get("/v1/merchants");
  return merchants.flatMap((m) => m.offers.map((o) => ({ ...o, merchant_name: m.name })));
}

let rowSeq = 0;

/** The prize table: rows of cash (amount) or coupon (one of `offers`), weight and optional count. */
export function prizeTable(offers) {
  const rows = h("div", { class: "prize-rows", id: "prizes" });
  const add = h("button", { type: "button", class: "secondary small", id: "add-prize", onclick: () => addRow() }, t("m_add_prize"));

  function renumber() {
    [...rows.children].forEach((row, i) => (row.querySelector("legend").textContent = t("m_prize", { n: i + 1 })));
    add.disabled = rows.children.length >= 20;
  }

  function addRow() {
    const n = ++rowSeq;
    const kind = h(
      "select",
      { id: `prize-kind-${n}`, class: "prize-kind" },
      h("option", { value: "cash" }, t("m_cash")),
      h("option", { value: "coupon", disabled: !offers.length }, t("m_coupon")),
    );
    const amount = h("input", { id: `prize-amount-${n}`, class: "prize-amount", inputmode: "decimal", autocomplete: "off", placeholder: "0.00" });
    const offer = h(
      "select",
      { id: `prize-offer-${n}`, class: "prize-offer" },
      offers.map((o) => h("option", { value: String(o.id) }, `${o.merchant_name} · ${o.title} · ${yuan(o.face_value_fen)}`)),
    );
    const weight = h("input", { id: `prize-weight-${n}`, class: "prize-weight", inputmode: "numeric", autocomplete: "off", value: "1" });
    const count = h("input", { id: `prize-count-${n}`, class: "prize-count", inputmode: "numeric", autocomplete: "off" });
    const cashPart = h("div", { class: "prize-cell" }, field(t("m_amount"), amount));
    const couponPart = h("div", { class: "prize-cell", hidden: true }, field(t("m_offer"), offer));
    const row = h(
      "fieldset",
      { class: "prize-row", dataset: { row: n } },
      h("legend", {}),
      h("div", { class: "prize-cell" }, field(t("m_prize_kind"), kind)),
      cashPart,
      couponPart,
      h("div", { class: "prize-cell" }, field(t("m_weight"), weight)),
      h("div", { class: "prize-cell" }, field(t("m_count"), count)),
      h(
        "button",
        {
          type: "button",
          class: "ghost small",
          "aria-label": `${t("m_remove")} ${n}`,
          onclick() {
            row.remove();
            renumber();
          },
        },
        t("m_remove"),
      ),
    );
    kind.addEventListener("change", () => {
      cashPart.hidden = kind.value !== "cash";
      couponPart.hidden = kind.value !== "coupon";
    });
    row.read = () => {
      const line = { kind: kind.value, weight: wholeOf(weight, t("m_weight")) };
      const most = wholeOf(count, t("m_count"), { optional: true });
      if (most !== null) line.count = most;
      if (kind.value === "cash") {
        const fen = parseYuan(amount.value);
        if (fen == null || fen <= 0) {
          amount.setAttribute("aria-invalid", "true");
          throw new Error(t("bad_amount"));
        }
        amount.removeAttribute("aria-invalid");
        line.amount_fen = fen;
      } else {
        line.offer_id = Number.parseInt(offer.value, 10);
      }
      return line;
    };
    rows.append(row);
    renumber();
  }

  addRow();
  return {
    el: h("fieldset", { class: "prize-table" }, h("legend", {}, t("m_prizes")), rows, add),
    read() {
      const prizes = [...rows.children].map((row) => row.read());
      if (!prizes.length) throw new Error(t("m_need_prize"));
      return prizes;
    },
  };
}

/** The budget in fen for this prize table: required and covering the smallest cash prize, 0 for coupons only. */
export function budgetOf(input, prizes) {
  const cash = prizes.filter((p) => p.kind === "cash").map((p) => p.amount_fen);
  const text = input.value.trim();
  const fen = text ? parseYuan(text) : cash.length ? null : 0;
  if (fen == null || (cash.length && fen <= 0)) {
    input.setAttribute("aria-invalid", "true");
    throw new Error(t("bad_amount"));
  }
  input.removeAttribute("aria-invalid");
  if (cash.length && fen < Math.min(...cash)) throw new Error(t("m_budget_small"));
  if (!cash.length && fen > 0) throw new Error(t("m_budget_unused"));
  return fen;
}

/** A note when the caller is not a verified enterprise (the server still decides: the form stays usable). */
export async function enterpriseNote(ctx) {
  const note = h("p", { class: "hint", id: "not-verified-note", hidden: true }, t("m_not_verified_note"));
  const id = ctx.me?.id;
  if (id) {
    get(`/v1/users/${id}/profile`)
      .then((p) => (note.hidden = p.verified_as === "enterprise"))
      .catch(() => {});
  }
  return note;
}
