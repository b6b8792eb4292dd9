// More: the other red-packet kinds (shown as the server offers them), language, log out.

import { capabilities, get } from "../api.js";
import { avatar, h } from "../dom.js";
import { lang, setLang, t } from "../i18n.js";
import { icon } from "../icons.js";
import "./x/manage-kit.js"; // the business tiles' titles (feat_new_campaign, feat_merchant, …)

// [page, icon, title key, endpoint that must exist]
export const FEATURES = [
  ["friends", "addfriend", "feat_friends", ["post", "/v1/friends/requests"]],
  ["groups", "people", "feat_groups", ["post", "/v1/groups"]],
  ["password", "key", "feat_password", ["post", "/v1/packets/password"]],
  ["claim-password", "keyboard", "feat_claim_password", ["post", "/v1/phrases/open"]],
  ["face-to-face", "people", "feat_face_to_face", ["post", "/v1/packets/face-to-face"]],
  ["code", "digits", "feat_code", ["post", "/v1/codes/open"]],
  ["relay", "link", "feat_relay", ["post", "/v1/relays"]],
  ["asks", "hand", "feat_asks", ["get", "/v1/asks"]],
  ["transfers", "transfer", "feat_transfers", ["get", "/v1/transfers"]],
  ["celebrity", "star", "feat_celebrity", ["get", "/v1/following"]],
  ["shake", "shake", "feat_shake", ["post", "/v1/shake/events/{event_id}/shake"]],
  ["nearby", "pin", "feat_nearby", ["get", "/v1/shake/nearby"]],
  ["campaign", "lantern", "feat_campaign", ["post", "/v1/campaigns/{campaign_id}/claim"]],
  ["coupons", "ticket", "feat_coupons", ["get", "/v1/coupons"]],
  ["report", "chart", "feat_report", ["get", "/v1/me/report"]],
  ["fairness", "chart", "feat_fairness", ["get", "/v1/fairness"]],
  // Business pages, each shown only to who can use it (GET /v1/me says who is verified, admin, a merchant).
  ["dashboard", "chart", "feat_dashboard", ["get", "/v1/campaigns/{campaign_id}/figures"], (me) => enterprise(me)],
  ["new-campaign", "lantern", "feat_new_campaign", ["post", "/v1/campaigns"], (me) => enterprise(me)],
  ["new-event", "shake", "feat_new_event", ["post", "/v1/shake/events"], (me) => enterprise(me) || me.is_admin],
  ["new-pool", "shake", "feat_new_pool", ["post", "/v1/shake/events/{event_id}/pools"], (me) => enterprise(me)],
  ["merchant", "pin", "feat_merchant", ["get", "/v1/merchants"], (me) => enterprise(me) || me.merchant],
  ["redeem", "ticket", "feat_redeem", ["post", "/v1/coupons/{coupon_id}/redeem"], (me) => me.merchant],
];

const enterprise = (me) => me.verified_as === "enterprise";

export async function render(ctx) {
  const [caps, fresh] = await Promise.all([capabilities(), get("/v1/me").catch(() => null)]);
  const me = fresh ?? ctx.me; // roles change (an admin verifies you): read them each time the page is drawn
  const available = FEATURES.filter(([, , , [m, p], may]) => caps.has(m, p) && (!may || may(me)));
  const el = h(
    "div",
    { class: "more" },
    h("section", { class: "card me" }, avatar(me.display_name ?? me.username, "big"), h("div", {}, h("p", { class: "row-title" }, me.display_name ?? me.username), h("p", { class: "row-sub" }, `@${me.username}`))),
    available.length
      ? h(
          "ul",
          { class: "grid", id: "features", "aria-label": t("more") },
          available.map(([page, glyph, key]) =>
            h("li", {}, h("a", { class: "tile", href: `/app/x/${page}`, "data-feature": page }, h("span", { class: "tile-icon" }, icon(glyph, { size: 30 })), h("span", {}, t(key)))),
          ),
        )
      : null,
    h(
      "section",
      { class: "card" },
      h("button", { type: "button", class: "secondary wide", onclick: () => setLang(lang() === "zh" ? "en" : "zh") }, t("lang_switch")),
      h("button", { type: "button", class: "ghost wide", id: "logout", onclick: () => ctx.logOut() }, t("log_out")),
    ),
  );
  return { el, title: t("more") };
}
