// Nearby merchants' offers: where the browser is (navigator.geolocation), or coordinates typed by hand.

import { get, post } from "../../api.js";
import { h, mount, toast } from "../../dom.js";
import { extend, t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { dateTime } from "../common.js";
import { here } from "./secret.js";

extend({
  zh: {
    offer_take: "领取",
    offer_taken: "已领取，到「我的券」查看",
    offer_until: "有效期至 {when}",
    offer_left: "还剩 {left} 张 · 距你 {m} 米",
    offer_my_coupons: "我的券",
  },
  en: {
    offer_take: "Get the coupon",
    offer_taken: "Yours: see it in your coupons",
    offer_until: "Valid until {when}",
    offer_left: "{left} left · {m} m from you",
    offer_my_coupons: "My coupons",
  },
});

/** One offer: a row that opens to the whole title, the shop, the face value, its validity and a button to take it. */
function offerItem(o) {
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const done = h("p", { class: "won", hidden: true }, t("offer_taken"), " ", h("a", { class: "link", href: "/app/x/coupons" }, t("offer_my_coupons")));
  const take = h(
    "button",
    {
      type: "button",
      class: "primary wide take-coupon",
      "data-offer": o.offer_id,
      async onclick() {
        take.disabled = true;
        error.hidden = true;
        try {
          await post(`/v1/offers/${o.offer_id}/coupons`);
          take.hidden = true;
          done.hidden = false;
          toast(t("offer_taken"));
        } catch (err) {
          error.textContent = err.message;
          error.hidden = false;
          take.disabled = false;
        }
      },
    },
    t("offer_take"),
  );
  return h(
    "li",
    { class: "offer", "data-offer": o.offer_id },
    h(
      "details",
      {},
      h(
        "summary",
        { class: "offer-row" },
        h("span", { class: "row-main" }, h("span", { class: "row-title" }, `${o.merchant_name} · ${o.title}`), h("span", { class: "row-sub" }, t("offer_line", { m: Math.round(o.distance_m), left: o.left }))),
        h("span", { class: "claim-amount" }, yuan(o.face_value_fen)),
      ),
      h(
        "div",
        { class: "offer-detail" },
        h("h3", { class: "offer-title" }, o.title),
        h("p", {}, o.merchant_name),
        h("p", { class: "offer-value" }, yuan(o.face_value_fen)),
        h("p", { class: "hint" }, t("offer_left", { left: o.left, m: Math.round(o.distance_m) })),
        h("p", { class: "hint" }, t("offer_until", { when: dateTime(o.expires_at) })),
        take,
        done,
        error,
      ),
    ),
  );
}

export async function render() {
  const lat = h("input", { id: "lat", inputmode: "decimal", autocomplete: "off", placeholder: "39.9042" });
  const lng = h("input", { id: "lng", inputmode: "decimal", autocomplete: "off", placeholder: "116.4074" });
  const radius = h("input", { id: "radius", inputmode: "numeric", value: "1000" });
  const status = h("p", { class: "hint", id: "nearby-status", role: "status" });
  const list = h("ul", { class: "list", id: "offers", "aria-label": t("feat_nearby") });

  async function search(where) {
    const r = Number.parseInt(radius.value, 10) || 1000;
    try {
      const reply = await get(`/v1/shake/nearby?lat=${where.lat}&lng=${where.lng}&radius_m=${r}`);
      status.textContent = reply.offers.length ? "" : t("no_offers");
      mount(list, reply.offers.map(offerItem));
    } catch (err) {
      status.textContent = err.message;
    }
  }

  const locate = h(
    "button",
    {
      type: "button",
      class: "primary wide",
      id: "locate-btn",
      async onclick() {
        status.textContent = t("locating");
        const where = await here();
        if (!where) {
          status.textContent = t("no_location_manual");
          lat.focus();
          return;
        }
        lat.value = where.lat.toFixed(5);
        lng.value = where.lng.toFixed(5);
        search(where);
      },
    },
    t("use_my_location"),
  );
  const manual = h(
    "form",
    {
      class: "form",
      onsubmit(e) {
        e.preventDefault();
        const a = Number.parseFloat(lat.value);
        const b = Number.parseFloat(lng.value);
        if (!Number.isFinite(a) || !Number.isFinite(b)) {
          status.textContent = t("bad_location");
          return;
        }
        search({ lat: a, lng: b });
      },
    },
    h("label", { for: "lat" }, t("latitude")),
    lat,
    h("label", { for: "lng" }, t("longitude")),
    lng,
    h("label", { for: "radius" }, t("radius_m")),
    radius,
    h("button", { type: "submit", class: "secondary wide" }, t("search")),
  );
  const el = h("div", {}, h("section", { class: "card" }, locate, status, h("details", {}, h("summary", {}, t("enter_by_hand")), manual)), h("section", { class: "card" }, list));
  return { el, title: t("feat_nearby"), back: "/app/more" };
}
