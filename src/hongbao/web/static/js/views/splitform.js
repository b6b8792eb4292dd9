// The shares-and-amount fields every multi-share packet form has (lucky or equal), as one reusable form.

import { Attempt, ApiError, session } from "../api.js";
import { h, toast } from "../dom.js";
import { t } from "../i18n.js";
import { parseYuan, yuan } from "../money.js";

/**
 * A form for a packet with shares: `fields` are extra nodes shown first, `extend(body)` adds to the body
 * (or returns {problem}), `path` is where it is POSTed, `sent(reply)` is called on success.
 */
export function splitForm({ path, fields = [], extend = (b) => b, sent, shares = 5, submitText = t("put_money") }) {
  let mode = "lucky";
  const error = h("p", { class: "error", role: "alert", id: "send-error", hidden: true });
  const amount = h("input", { id: "amount", inputmode: "decimal", autocomplete: "off", placeholder: "0.00", "aria-describedby": "amount-hint" });
  const count = h("input", { id: "shares", inputmode: "numeric", autocomplete: "off", value: String(shares) });
  const greeting = h("input", { id: "greeting", maxlength: 64, placeholder: t("greeting_default"), autocomplete: "off" });
  const algorithm = h(
    "select",
    { id: "algorithm" },
    h("option", { value: "double_mean" }, `${t("split_double_mean")} (double_mean)`),
    h("option", { value: "line_cut" }, `${t("split_line_cut")} (line_cut)`),
  );
  const algoRow = h("div", { class: "algo" }, h("label", { for: "algorithm" }, t("split_algorithm")), algorithm);
  const amountLabel = h("label", { for: "amount" }, t("total_amount"));
  const total = h("p", { class: "send-total", id: "send-total", "aria-live": "polite" }, yuan(0));
  const submit = h("button", { type: "submit", class: "primary wide", id: "send-btn" }, submitText);
  const attempt = new Attempt();

  const n = () => (/^\d{1,6}$/.test(count.value.trim()) ? Number.parseInt(count.value.trim(), 10) : null);
  function update() {
    const fen = parseYuan(amount.value);
    const k = n();
    total.textContent = yuan(fen == null || k == null ? 0 : mode === "equal" ? fen * k : fen);
  }

  function body() {
    const fen = parseYuan(amount.value);
    if (fen == null || fen <= 0) return { problem: t("bad_amount") };
    const k = n();
    if (k == null || k < 1) return { problem: t("bad_count") };
    const base = { split: mode === "equal" ? "equal" : algorithm.value, shares_count: k, greeting: greeting.value.trim() || t("greeting_default") };
    if (mode === "equal") base.amount_each_fen = fen;
    else base.total_fen = fen;
    return extend(base);
  }

  const form = h(
    "form",
    {
      class: "card form send-form",
      novalidate: true,
      oninput: update,
      async onsubmit(e) {
        e.preventDefault();
        error.hidden = true;
        const built = await body();
        if (built.problem) {
          error.textContent = built.problem;
          error.hidden = false;
          return;
        }
        submit.disabled = true;
        try {
          const reply = await attempt.send(path, built);
          await sent(reply);
        } catch (err) {
          error.textContent = err instanceof ApiError && err.status === 0 ? t("error_network") : err.message;
          error.hidden = false;
        } finally {
          submit.disabled = false;
        }
      },
    },
    fields,
    modeSegments(mode, amountLabel, algoRow, (m) => {
      mode = m;
      update();
    }),
    h("label", { for: "shares" }, t("shares_count")),
    count,
    amountLabel,
    amount,
    h("p", { class: "hint", id: "amount-hint" }, t("amount_hint")),
    algoRow,
    h("label", { for: "greeting" }, t("greeting")),
    greeting,
    total,
    error,
    submit,
  );
  return form;
}

/**
 * The lucky/equal choice: picking a mode relabels `amountLabel` (total or each), shows `algoRow` only for
 * lucky packets, then calls `picked(mode)`.
 */
export function modeSegments(mode, amountLabel, algoRow, picked) {
  return h(
    "fieldset",
    { class: "segmented" },
    h("legend", { class: "sr-only" }, t("send_packet")),
    ["lucky", "equal"].map((m) =>
      h(
        "label",
        { class: "segment" },
        h("input", {
          type: "radio",
          name: "mode",
          value: m,
          id: `mode-${m}`,
          checked: m === mode,
          onchange() {
            amountLabel.textContent = m === "equal" ? t("amount_each") : t("total_amount");
            algoRow.hidden = m === "equal";
            picked(m);
          },
        }),
        h("span", {}, m === "lucky" ? t("lucky_packet") : t("equal_packet")),
      ),
    ),
  );
}

/** An image the API serves behind the bearer token (an <img src> cannot send it): fetched as a blob. */
export async function authedImage(path, alt, cls) {
  const img = h("img", { class: cls, alt });
  const reply = await fetch(path, { headers: { Authorization: `Bearer ${session.token}` } });
  if (reply.ok) img.src = URL.createObjectURL(await reply.blob());
  return img;
}

/** A read-only link with a copy button. */
export function copyLink(url) {
  const field = h("input", { class: "copy-field", readonly: true, value: url, "aria-label": t("share_link"), id: "share-link" });
  return h(
    "div",
    { class: "inline" },
    field,
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        async onclick() {
          try {
            await navigator.clipboard.writeText(url);
          } catch {
            field.select();
            document.execCommand?.("copy");
          }
          toast(t("copied"));
        },
      },
      t("copy"),
    ),
  );
}
