// Wallet: balance, top-up and withdrawal through the sandbox channel, the statement with "load more".

import { Attempt, ApiError, get } from "../api.js";
import { h, mount, toast } from "../dom.js";
import { extend, t } from "../i18n.js";
import { parseYuan, yuan } from "../money.js";
import { shortTime } from "./common.js";

extend({
  zh: { withdrawal_pending: "提现 {amount} 已受理：支付通道暂未回应，稍后自动到账（不会重复）" },
  en: { withdrawal_pending: "Withdrawal of {amount} accepted: the payment channel has not answered yet; it is sent shortly (never twice)" },
});

// A withdrawal the channel has not confirmed yet is "pending": the sweep sends it again with its reference.
function moneyMessage(kind, reply, amount) {
  if (kind === "top_up") return t("topped_up", { amount });
  return t(reply.status === "pending" ? "withdrawal_pending" : "withdrawn", { amount });
}

export async function render() {
  const balance = h("p", { class: "balance-amount", id: "balance", "aria-live": "polite" });
  const entries = h("ul", { class: "list statement", id: "statement", "aria-label": t("statement") });
  const more = h("button", { type: "button", class: "ghost wide", id: "load-more", hidden: true, onclick: () => loadPage(false) }, t("load_more"));
  let cursor = null;
  const seen = new Set();

  async function loadBalance() {
    const w = await get("/v1/wallet");
    balance.textContent = yuan(w.balance_fen);
  }

  function entryRow(e) {
    const label = t(`kind_${e.kind}`) === `kind_${e.kind}` ? e.kind : t(`kind_${e.kind}`);
    return h(
      "li",
      { class: "entry", "data-kind": e.kind },
      h("span", { class: "row-main" }, h("span", { class: "row-title" }, label), h("span", { class: "row-sub" }, shortTime(e.created_at))),
      h("span", { class: `entry-amount ${e.amount_fen >= 0 ? "plus" : "minus"}` }, e.amount_fen >= 0 ? `+${yuan(e.amount_fen)}` : yuan(e.amount_fen)),
    );
  }

  async function loadPage(first) {
    const page = await get(`/v1/wallet/statement?limit=20${!first && cursor ? `&cursor=${cursor}` : ""}`);
    if (first) {
      entries.replaceChildren();
      seen.clear();
    }
    for (const e of page.entries) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      entries.append(entryRow(e));
    }
    cursor = page.next_cursor;
    more.hidden = !cursor;
    if (!cursor && !first) toast(t("no_more"));
  }

  function moneyForm(kind) {
    const id = kind === "top_up" ? "topup" : "withdraw";
    const input = h("input", { id: `${id}-amount`, inputmode: "decimal", autocomplete: "off", placeholder: "0.00", "aria-describedby": `${id}-error` });
    const error = h("p", { class: "error", role: "alert", id: `${id}-error`, hidden: true });
    const attempt = new Attempt();
    const button = h("button", { type: "submit", class: kind === "top_up" ? "primary" : "secondary", id: `${id}-btn` }, t(kind));
    return h(
      "form",
      {
        class: "money-form",
        novalidate: true,
        async onsubmit(e) {
          e.preventDefault();
          error.hidden = true;
          const fen = parseYuan(input.value);
          if (fen == null || fen <= 0) {
            error.textContent = t("bad_amount");
            error.hidden = false;
            return;
          }
          button.disabled = true;
          try {
            const path = kind === "top_up" ? "/v1/wallet/top-ups" : "/v1/wallet/withdrawals";
            const reply = await attempt.send(path, { amount_fen: fen });
            balance.textContent = yuan(reply.balance_fen);
            input.value = "";
            toast(moneyMessage(kind, reply, yuan(fen)));
            await loadPage(true);
          } catch (err) {
            error.textContent = err instanceof ApiError && err.status === 0 ? t("error_network") : err.message;
            error.hidden = false;
          } finally {
            button.disabled = false;
          }
        },
      },
      h("label", { for: `${id}-amount` }, `${t(kind)} · ${t("amount")}`),
      h("div", { class: "inline" }, input, button),
      error,
    );
  }

  await Promise.all([loadBalance(), loadPage(true)]);
  const el = h(
    "div",
    { class: "wallet" },
    h("section", { class: "balance-card", "aria-labelledby": "balance-title" }, h("h2", { id: "balance-title" }, t("balance")), balance, h("p", { class: "hint light" }, t("channel_sandbox"))),
    h("section", { class: "card" }, moneyForm("top_up"), moneyForm("withdraw")),
    h("section", { class: "card" }, h("h2", {}, t("statement")), entries, more),
  );
  return {
    el,
    title: t("wallet"),
    async refresh() {
      await loadBalance();
    },
  };
}
