// Nearby merchants' offers: where the browser is (navigator.geolocation), or coordinates typed by hand.

import { get } from "../../api.js";
import { h, mount } from "../../dom.js";
import { t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { here } from "./secret.js";

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
      mount(
        list,
        reply.offers.map((o) =>
          h(
            "li",
            { class: "claim" },
            h("span", { class: "row-main" }, h("span", { class: "row-title" }, `${o.merchant_name} · ${o.title}`), h("span", { class: "row-sub" }, t("offer_line", { m: Math.round(o.distance_m), left: o.left }))),
            h("span", { class: "claim-amount" }, yuan(o.face_value_fen)),
          ),
        ),
      );
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
