// Send a 口令红包: anyone who types the phrase may open it; the card image carries the phrase.

import { h, mount, toast } from "../../dom.js";
import { t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { authedImage, copyLink, splitForm } from "../splitform.js";
import { shareButton } from "./sharesheet.js";

export async function render(ctx) {
  const root = h("div", { class: "send" });
  const phrase = h("input", { id: "phrase", maxlength: 32, autocomplete: "off", required: true, placeholder: "马到成功" });
  const form = splitForm({
    path: "/v1/packets/password",
    fields: [h("label", { for: "phrase" }, t("phrase")), phrase, h("p", { class: "hint" }, t("phrase_send_hint"))],
    extend(body) {
      const text = phrase.value.trim();
      if (!text) return { problem: t("phrase_missing") };
      return { ...body, phrase: text };
    },
    async sent(reply) {
      toast(t("sent_ok"));
      const card = await authedImage(`/v1/packets/${reply.id}/card.png`, t("card_alt", { phrase: reply.phrase }), "card-image");
      mount(
        root,
        h(
          "section",
          { class: "card center", id: "password-sent" },
          h("h2", {}, t("phrase")),
          h("p", { class: "big-code phrase-big", id: "sent-phrase" }, reply.phrase),
          h("p", { class: "hint" }, `${yuan(reply.total_fen)} · ${reply.shares_count} ${t("shares_unit")}`),
          card,
          h("p", { class: "hint" }, t("card_hint")),
          reply.share_url ? copyLink(reply.share_url) : null,
          shareButton({ ...reply, kind: "password" }),
          h("a", { class: "primary wide", href: `/app/packet/${reply.id}?view=detail` }, t("see_details")),
        ),
      );
    },
  });
  mount(root, form);
  return { el: root, title: t("feat_password"), back: "/app/more" };
}
