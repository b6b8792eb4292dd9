// 面对面红包: enter the code the sender shows you (their QR leads to the same packet).

import { h } from "../../dom.js";
import { t } from "../../i18n.js";
import { claimForm } from "./secret.js";

export async function render(ctx) {
  const field = h("input", {
    id: "code",
    class: "code-input",
    inputmode: "numeric",
    autocomplete: "one-time-code",
    maxlength: 12,
    "aria-label": t("code"),
    placeholder: "••••••", // a code has 6 digits
    value: ctx.query.get("code") ?? "",
  });
  const form = claimForm(ctx, {
    field,
    label: t("feat_code"),
    hint: t("code_hint"),
    path: "/v1/codes/open",
    body: (code) => ({ code }),
  });
  return { el: h("div", { class: "envelope-stage" }, form), title: t("feat_code"), back: "/app/more" };
}
