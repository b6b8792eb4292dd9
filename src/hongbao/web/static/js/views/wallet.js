// Wallet: balance, top-up and withdrawal through the sandbox channel, the statement with "load more".

import { Attempt, ApiError, get } from "../api.js";
import { h, mount, toast } from "../dom.js";
import { extend, t } from "../i18n.js";
import { parseYuan, yuan } from "../money.js";
import { dateTime } from "./common.js";

extend({
  zh: {
    withdrawal_pending: "提现 {amount} 已受理：支付通道暂未回应，稍后自动到账（不会重复）",
    // What a statement entry was ({category}_{kind}), and with whom ({party}), as WeChat's 零钱明细 says it.
    st_packet_sent: "红包 · 发给{party}",
    st_packet_received: "红包 · 来自{party}",
    st_packet_refunded: "红包退款 · {party}",
    st_transfer_sent: "转账 · 转给{party}",
    st_transfer_received: "转账 · 来自{party}",
    st_transfer_refunded: "转账退回 · {party}",
    st_campaign_sent: "企业红包预算 · {party}",
    st_campaign_received: "企业红包 · {party}",
    st_campaign_refunded: "企业红包预算退回 · {party}",
    st_shake_sent: "摇一摇奖池 · {party}",
    st_shake_received: "摇一摇 · {party}",
    st_shake_refunded: "摇一摇奖池退回 · {party}",
    st_top_up: "零钱充值",
    st_withdrawal: "零钱提现",
    st_unknown: "他人",
  },
  en: {
    withdrawal_pending: "Withdrawal of {amount} accepted: the payment channel has not answered yet; it is sent shortly (never twice)",
    st_packet_sent: "Red packet to {party}",
    st_packet_received: "Red packet from {party}",
    st_packet_refunded: "Red packet refund · {party}",
    st_transfer_sent: "Transfer to {party}",
    st_transfer_received: "Transfer from {party}",
    st_transfer_refunded: "Transfer back · {party}",
    st_campaign_sent: "Campaign budget · {party}",
    st_campaign_received: "Company red packet · {party}",
    st_campaign_refunded: "Campaign budget back · {party}",
    st_shake_sent: "Shake prize pool · {party}",
    st_shake_received: "Shake · {party}",
    st_shake_refunded: "Shake prize pool back · {party}",
    st_top_up: "Top-up",
    st_withdrawal: "Withdrawal",
    st_unknown: "someone",
  },
});

/** What the entry was and with whom: "红包 · 来自Alice", "Transfer to Bob", "零钱充值". */
function entryTitle(e) {
  for (const key of [`st_${e.category}_${e.kind}`, `st_${e.category}`, `kind_${e.kind}`]) {
    if (t(key) !== key) return t(key, { party: e.party_name ?? t("st_unknown") });
  }
  return e.kind;
}

/** Where an entry leads: its packet, the transfers, or (its owner's) campaign dashboard. */
function entryLink(e, me) {
  if (e.packet_id) return `/app/packet/${e.packet_id}?view=detail`;
  if (e.transfer_id) return "/app/x/transfers";
  if (e.campaign_id && e.category === "campaign" && e.party_id == null && me) return `/app/x/dashboard?id=${e.campaign_id}`;
  return null;
}

// A withdrawal the channel has not confirmed yet is "pending": the sweep sends it again with its reference.
function moneyMessage(kind, reply, amount) {
  if (kind === "top_up") return t("topped_up", { amount });
  return t(reply.status === "pending" ? "withdrawal_pending" : "withdrawn", { amount });
}

export async function render(ctx) {
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
    const href = entryLink(e, ctx.me);
    const body = [
      h("span", { class: "row-main" }, h("span", { class: "row-title" }, entryTitle(e)), h("span", { class: "row-sub" }, dateTime(e.created_at))),
      h("span", { class: `entry-amount ${e.amount_fen >= 0 ? "plus" : "minus"}` }, e.amount_fen >= 0 ? `+${yuan(e.amount_fen)}` : yuan(e.amount_fen)),
    ];
    return h(
      "li",
      { class: "entry", "data-kind": e.kind, "data-category": e.category ?? "" },
      href ? h("a", { class: "entry-link", href }, body) : body,
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
