// 口令红包: type the phrase you were given to open the packet.

import { h } from "../../dom.js";
import { t } from "../../i18n.js";
import { claimForm } from "./secret.js";

export async function render(ctx) {
  const field = h("input", { id: "phrase", maxlength: 64, autocomplete: "off", "aria-label": t("phrase"), placeholder: t("phrase_placeholder"), value: ctx.query.get("phrase") ?? "" });
  const form = claimForm(ctx, {
    field,
    label: t("feat_claim_password"),
    hint: t("phrase_hint"),
    path: "/v1/phrases/open",
    body: (phrase) => ({ phrase }),
  });
  return { el: h("div", { class: "envelope-stage" }, form), title: t("feat_claim_password"), back: "/app/more" };
}
