// Send dialogs: a personal packet to a friend, a group packet (lucky: double mean / line cut; or equal).

import { Attempt, ApiError, get } from "../api.js";
import { h, toast } from "../dom.js";
import { t } from "../i18n.js";
import { parseYuan, yuan } from "../money.js";
import { modeSegments } from "./splitform.js";

export async function render(ctx) {
  const [target, rawId] = ctx.params;
  const targetId = Number(rawId);
  const conv = ctx.query.get("c");
  const done = conv ? `/app/c/${conv}` : target === "group" ? `/app/group/${targetId}` : "/app";
  const [who, wallet] = await Promise.all([
    target === "group" ? get(`/v1/groups/${targetId}`) : get("/v1/friends").then((f) => f.friends.find((x) => x.id === targetId)),
    get("/v1/wallet"),
  ]);
  if (!who) throw new ApiError(404, { detail: "No such friend." });
  const name = target === "group" ? who.name : who.display_name;

  const error = h("p", { class: "error", role: "alert", id: "send-error", hidden: true });
  const total = h("p", { class: "send-total", id: "send-total", "aria-live": "polite" }, yuan(0));
  const amount = h("input", { id: "amount", name: "amount", inputmode: "decimal", autocomplete: "off", placeholder: "0.00", required: true, "aria-describedby": "amount-hint" });
  const count = h("input", { id: "shares", name: "shares", inputmode: "numeric", autocomplete: "off", value: String(Math.max(1, Math.min(10, (who.members?.length ?? 2) - 1))), required: true });
  const greeting = h("input", { id: "greeting", name: "greeting", maxlength: 64, placeholder: t("greeting_default"), autocomplete: "off" });
  const algorithm = h(
    "select",
    { id: "algorithm", name: "algorithm" },
    h("option", { value: "double_mean" }, `${t("split_double_mean")} (double_mean)`),
    h("option", { value: "line_cut" }, `${t("split_line_cut")} (line_cut)`),
  );
  const algoRow = h("div", { class: "algo" }, h("label", { for: "algorithm" }, t("split_algorithm")), algorithm);
  let mode = "lucky";
  const amountLabel = h("label", { for: "amount", id: "amount-label" }, target === "group" ? t("total_amount") : t("amount"));

  function shares() {
    const s = count.value.trim();
    return /^\d{1,4}$/.test(s) ? Number.parseInt(s, 10) : null;
  }

  function update() {
    const fen = parseYuan(amount.value);
    const n = target === "group" ? shares() : 1;
    const sum = fen == null || n == null ? 0 : mode === "equal" ? fen * n : fen;
    total.textContent = yuan(sum);
  }

  function body() {
    const fen = parseYuan(amount.value);
    if (fen == null || fen <= 0) return { problem: t("bad_amount") };
    const note = greeting.value.trim() || t("greeting_default");
    if (target === "friend") return { body: { kind: "personal", recipient_id: targetId, amount_fen: fen, greeting: note } };
    const n = shares();
    if (n == null || n < 1) return { problem: t("bad_count") };
    if (mode === "equal") {
      return { body: { kind: "group", group_id: targetId, split: "equal", shares_count: n, amount_each_fen: fen, greeting: note } };
    }
    return { body: { kind: "group", group_id: targetId, split: algorithm.value, shares_count: n, total_fen: fen, greeting: note } };
  }

  const attempt = new Attempt();
  const submit = h("button", { type: "submit", class: "primary wide", id: "send-btn" }, t("put_money"));
  const form = h(
    "form",
    {
      class: "card form send-form",
      novalidate: true,
      oninput: update,
      async onsubmit(e) {
        e.preventDefault();
        error.hidden = true;
        const built = body();
        if (built.problem) {
          error.textContent = built.problem;
          error.hidden = false;
          amount.setAttribute("aria-invalid", "true");
          return;
        }
        amount.removeAttribute("aria-invalid");
        submit.disabled = true;
        submit.textContent = t("sending");
        try {
          await attempt.send("/v1/packets", built.body);
          toast(t("sent_ok"));
          // Back to the chat we came from (no duplicate history entry); a direct landing replaces itself.
          if (history.state !== "first" && history.length > 1) history.back();
          else ctx.go(done, { replace: true });
        } catch (err) {
          error.textContent = err instanceof ApiError && err.status === 0 ? t("error_network") : err.message;
          error.hidden = false;
        } finally {
          submit.disabled = false;
          submit.textContent = t("put_money");
        }
      },
    },
    target === "group"
      ? modeSegments(mode, amountLabel, algoRow, (m) => {
          mode = m;
          update();
        })
      : null,
    target === "group" ? [h("label", { for: "shares" }, t("shares_count")), count, h("p", { class: "hint" }, t("members_count", { n: who.members.length }))] : null,
    amountLabel,
    amount,
    h("p", { class: "hint", id: "amount-hint" }, t("amount_hint")),
    target === "group" ? algoRow : null,
    h("label", { for: "greeting" }, t("greeting")),
    greeting,
    total,
    error,
    submit,
    h("p", { class: "hint center" }, `${t("balance")} ${yuan(wallet.balance_fen)}`),
  );
  update();
  const title = target === "group" ? t("send_packet") : t("send_packet_to", { name });
  return {
    el: h("div", { class: "send" }, h("p", { class: "send-to" }, name), form),
    title,
    back: done,
  };
}
