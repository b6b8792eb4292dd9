// 我的商户: register a merchant where it stands, see its coupon offers (issued, redeemed), add an offer.

import { Attempt, get, post } from "../../api.js";
import { h, mount, toast } from "../../dom.js";
import { extend, t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { shortTime } from "../common.js";
import { errorLine, fenOf } from "./kit.js";
import { field, isoOf, manageForm, textInput, whenInput, wholeOf } from "./manage-kit.js";
import { here } from "./secret.js";

extend({
  zh: {
    mc_register: "登记商户",
    mc_register_btn: "登记",
    mc_registered: "商户已登记",
    mc_mine: "我的商户",
    mc_none: "你还没有商户",
    mc_offer_add: "添加优惠券",
    mc_offer_for: "商户",
    mc_title: "优惠名称",
    mc_title_missing: "请填写优惠名称",
    mc_face: "面值（元）",
    mc_stock: "数量",
    mc_expires: "有效期至",
    mc_offer_btn: "添加",
    mc_offer_added: "优惠已添加",
    mc_no_offers: "还没有优惠",
    mc_offer_line: "{face} · 已发 {issued}/{stock} · 已核销 {redeemed} · 至 {when}",
    mc_where: "纬度 {lat}，经度 {lng}",
    mc_redeem: "核销顾客的券",
  },
  en: {
    mc_register: "Register a merchant",
    mc_register_btn: "Register",
    mc_registered: "Merchant registered",
    mc_mine: "My merchants",
    mc_none: "You have no merchants yet",
    mc_offer_add: "Add a coupon offer",
    mc_offer_for: "Merchant",
    mc_title: "Title",
    mc_title_missing: "Enter a title",
    mc_face: "Face value (yuan)",
    mc_stock: "How many",
    mc_expires: "Valid until",
    mc_offer_btn: "Add",
    mc_offer_added: "Offer added",
    mc_no_offers: "No offers yet",
    mc_offer_line: "{face} · issued {issued}/{stock} · redeemed {redeemed} · until {when}",
    mc_where: "lat {lat}, lng {lng}",
    mc_redeem: "Redeem a customer's coupon",
  },
});

const MONTH_MS = 30 * 24 * 3600 * 1000;
const COORD = /^-?\d{1,3}(?:\.\d{1,12})?$/;

/** A coordinate from a field within ±limit, or throws the location message. */
function coordinate(input, limit) {
  const text = input.value.trim();
  const value = COORD.test(text) ? Number.parseFloat(text) : Number.NaN;
  if (!(Math.abs(value) <= limit)) {
    input.setAttribute("aria-invalid", "true");
    throw new Error(t("bad_location"));
  }
  input.removeAttribute("aria-invalid");
  return value;
}

export async function render() {
  // Register
  const name = textInput("m-name", { max: 64 });
  const lat = textInput("m-lat", { max: 20, placeholder: "39.9042", mode: "decimal" });
  const lng = textInput("m-lng", { max: 20, placeholder: "116.4074", mode: "decimal" });
  const locStatus = h("p", { class: "hint", id: "m-loc-status", role: "status" });
  const regError = errorLine("m-error");
  const locate = h(
    "button",
    {
      type: "button",
      class: "secondary wide",
      id: "m-locate",
      async onclick() {
        locStatus.textContent = t("locating");
        const where = await here();
        if (!where) {
          locStatus.textContent = t("no_location_manual");
          lat.focus();
          return;
        }
        lat.value = where.lat.toFixed(6);
        lng.value = where.lng.toFixed(6);
        locStatus.textContent = "";
      },
    },
    t("use_my_location"),
  );
  const registering = new Attempt(); // a double tap or a retry after no answer registers one shop
  const register = manageForm(
    { id: "merchant-form" },
    {
      error: regError,
      async act() {
        if (!name.value.trim()) throw new Error(t("m_name_missing"));
        const body = { name: name.value.trim(), lat: coordinate(lat, 90), lng: coordinate(lng, 180) };
        await registering.send("/v1/merchants", body);
        toast(t("mc_registered"));
        name.value = "";
        await load();
      },
    },
    h("h2", {}, t("mc_register")),
    field(t("m_name"), name),
    locate,
    locStatus,
    field(t("latitude"), lat),
    field(t("longitude"), lng),
    regError,
    h("button", { type: "submit", class: "primary wide", id: "m-register" }, t("mc_register_btn")),
  );

  // Add an offer
  const pickMerchant = h("select", { id: "o-merchant" });
  const title = textInput("o-title", { max: 64 });
  const face = h("input", { id: "o-face", inputmode: "decimal", autocomplete: "off", placeholder: "0.00" });
  const stock = h("input", { id: "o-stock", inputmode: "numeric", autocomplete: "off", value: "100" });
  const expires = whenInput("o-expires", new Date(Date.now() + MONTH_MS));
  const offerError = errorLine("o-error");
  const offerForm = manageForm(
    { id: "offer-form", hidden: true },
    {
      error: offerError,
      async act() {
        if (!title.value.trim()) throw new Error(t("mc_title_missing"));
        const fen = parseFace();
        const body = { title: title.value.trim(), face_value_fen: fen, stock: wholeOf(stock, t("mc_stock")), expires_at: isoOf(expires) };
        if (Date.parse(body.expires_at) <= Date.now()) throw new Error(t("m_ends_before"));
        await post(`/v1/merchants/${pickMerchant.value}/offers`, body); // moves no money
        toast(t("mc_offer_added"));
        title.value = "";
        face.value = "";
        await load();
      },
    },
    h("h2", {}, t("mc_offer_add")),
    field(t("mc_offer_for"), pickMerchant),
    field(t("mc_title"), title),
    field(t("mc_face"), face),
    field(t("mc_stock"), stock),
    field(t("mc_expires"), expires),
    offerError,
    h("button", { type: "submit", class: "primary wide", id: "o-add" }, t("mc_offer_btn")),
  );

  function parseFace() {
    try {
      const fen = fenOf(face);
      face.removeAttribute("aria-invalid");
      return fen;
    } catch (err) {
      face.setAttribute("aria-invalid", "true");
      throw err;
    }
  }

  // My merchants
  const list = h("div", { id: "merchants", "aria-label": t("mc_mine") });

  async function load() {
    const { merchants } = await get("/v1/merchants");
    const chosen = pickMerchant.value;
    mount(pickMerchant, merchants.map((m) => h("option", { value: String(m.id), selected: String(m.id) === chosen }, m.name)));
    offerForm.hidden = !merchants.length;
    mount(
      list,
      merchants.length
        ? merchants.map((m) =>
            h(
              "section",
              { class: "card", "data-merchant": m.id },
              h("h2", {}, m.name),
              h("p", { class: "hint" }, t("mc_where", { lat: m.lat, lng: m.lng })),
              h(
                "ul",
                { class: "list", "aria-label": m.name },
                m.offers.length
                  ? m.offers.map((o) =>
                      h(
                        "li",
                        { class: "claim", "data-offer": o.id },
                        h(
                          "span",
                          { class: "row-main" },
                          h("span", { class: "row-title" }, o.title),
                          h("span", { class: "row-sub" }, t("mc_offer_line", { face: yuan(o.face_value_fen), issued: o.issued, stock: o.stock, redeemed: o.redeemed, when: shortTime(o.expires_at) })),
                        ),
                      ),
                    )
                  : h("li", { class: "muted center pad" }, t("mc_no_offers")),
              ),
            ),
          )
        : h("p", { class: "muted center pad" }, t("mc_none")),
    );
  }

  await load();
  const el = h(
    "div",
    { class: "manage" },
    register,
    offerForm,
    h("h2", { class: "section" }, t("mc_mine")),
    list,
    h("p", { class: "center" }, h("a", { class: "link", id: "m-redeem", href: "/app/x/redeem" }, t("mc_redeem"))),
  );
  return { el, title: t("feat_merchant"), back: "/app/more", refresh: load };
}
