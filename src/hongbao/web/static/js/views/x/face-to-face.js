// Send a 面对面红包: the code and its QR shown big, for the people in the room.

import { h, mount, toast } from "../../dom.js";
import { labelled, t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { authedImage, copyLink, splitForm } from "../splitform.js";
import { here } from "./secret.js";

export async function render(ctx) {
  const root = h("div", { class: "send" });
  const near = h("input", { type: "checkbox", id: "near-only", class: "check" });
  const radius = h("input", { id: "radius", inputmode: "numeric", value: "200", "aria-label": t("radius_m") });
  const form = splitForm({
    path: "/v1/packets/face-to-face",
    shares: 5,
    fields: [
      h("label", { class: "check-row", for: "near-only" }, near, h("span", {}, t("near_only"))),
      h("div", { class: "inline" }, h("label", { for: "radius" }, t("radius_m")), radius),
    ],
    async extend(body) {
      if (!near.checked) return body;
      const where = await here();
      if (!where) return { problem: t("no_location") };
      const r = Number.parseInt(radius.value, 10);
      return { ...body, ...where, radius_m: Number.isFinite(r) ? r : 200 };
    },
    async sent(reply) {
      toast(t("sent_ok"));
      const qr = await authedImage(`/v1/packets/${reply.id}/qr.png`, t("qr_alt"), "qr");
      mount(
        root,
        h(
          "section",
          { class: "card center", id: "code-sent" },
          h("h2", {}, t("show_code")),
          h("p", { class: "big-code", id: "sent-code", "aria-label": labelled(t("code"), reply.code.split("").join(" ")) }, reply.code),
          h("p", { class: "hint" }, `${yuan(reply.total_fen)} · ${reply.shares_count} ${t("shares_unit")}`),
          qr,
          h("p", { class: "hint" }, t("qr_hint")),
          reply.share_url ? copyLink(reply.share_url) : null,
          h("a", { class: "primary wide", href: `/app/packet/${reply.id}?view=detail` }, t("see_details")),
        ),
      );
    },
  });
  mount(root, form);
  return { el: root, title: t("feat_face_to_face"), back: "/app/more" };
}
