// A campaign owner's dashboard: budget burn and claims by day, drawn as inline SVG charts; add budget or end it now.

import { Attempt, get } from "../../api.js";
import { h, mount, toast } from "../../dom.js";
import { extend, labelled, t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { barChart } from "../../chart.js";
import { confirmButton } from "./confirm.js";
import { actionForm, amountInput, errorLine, fenOf, showError } from "./kit.js";

extend({
  zh: {
    dash_title: "活动数据",
    dash_none: "你还没有发起活动",
    dash_budget: "预算",
    dash_paid: "已发出",
    dash_remaining: "剩余",
    dash_claimers: "领取人数",
    dash_burn: "预算消耗（累计）",
    dash_claims: "每日领取次数",
    dash_returned: "已退回",
    dash_manage: "管理活动",
    dash_topup_label: "追加预算（元）",
    dash_topup: "追加预算",
    dash_topup_hint: "从你的钱包转入活动预算，立即生效。",
    dash_topped: "已追加 {amount}",
    dash_end: "立即结束",
    dash_end_ask: "现在结束“{name}”？未发出的预算会退回你的钱包。",
    dash_end_hint: "结束后不能再领取，剩余预算立即退回你的钱包。",
    dash_ended: "活动已结束，{amount} 已退回你的钱包",
    dash_closed: "已结束 · 已退回 {amount}",
    dash_over: "活动时间已过，剩余预算将自动退回。",
  },
  en: {
    dash_title: "Campaign figures",
    dash_none: "You have no campaigns yet",
    dash_budget: "Budget",
    dash_paid: "Paid out",
    dash_remaining: "Remaining",
    dash_claimers: "Claimers",
    dash_burn: "Budget burn (cumulative)",
    dash_claims: "Claims by day",
    dash_returned: "Returned",
    dash_manage: "Manage",
    dash_topup_label: "Add to the budget (yuan)",
    dash_topup: "Add budget",
    dash_topup_hint: "Moved from your wallet into the campaign's budget at once.",
    dash_topped: "{amount} added",
    dash_end: "End now",
    dash_end_ask: "End “{name}” now? The budget not paid out goes back to your wallet.",
    dash_end_hint: "Nobody can claim after it ends; the rest of the budget goes back to your wallet at once.",
    dash_ended: "Campaign ended: {amount} back in your wallet",
    dash_closed: "Ended · {amount} returned",
    dash_over: "Its time is up: the rest of the budget goes back to you automatically.",
  },
});

export async function render(ctx) {
  const id = ctx.query.get("id");
  if (!id) return pick();
  const error = errorLine("dash-error");
  const out = h("div", { id: "dash-out" });
  // One Idempotency-Key per money-moving attempt: a retry after a lost reply moves no money twice.
  const topUp = new Attempt();
  const end = new Attempt();

  async function load() {
    const [f, c] = await Promise.all([get(`/v1/campaigns/${encodeURIComponent(id)}/figures`), get(`/v1/campaigns/${encodeURIComponent(id)}`)]);
    const days = [...f.by_day].sort((a, b) => String(a.day).localeCompare(String(b.day)));
    let spent = 0;
    const burn = days.map((d) => ({ label: String(d.day).slice(5, 10), value: (spent += d.claimed_fen) }));
    const stat = (key, value, sid) => h("div", {}, h("dt", {}, t(key)), h("dd", { id: sid }, value));
    mount(
      out,
      h(
        "section",
        { class: "card" },
        h(
          "dl",
          { class: "stats" },
          stat("dash_budget", yuan(f.budget_fen), "dash-budget"),
          stat("dash_paid", yuan(f.paid_fen), "dash-paid"),
          stat("dash_remaining", yuan(f.remaining_fen), "dash-remaining"),
          stat("dash_claimers", String(f.unique_claimers), "dash-claimers"),
          f.returned_fen ? stat("dash_returned", yuan(f.returned_fen), "dash-returned") : null,
        ),
      ),
      h("section", { class: "card" }, h("h2", {}, t("dash_burn")), barChart({ id: "dash-burn-chart", label: t("dash_burn"), bars: burn, max: Math.max(1, f.budget_fen), format: (v) => yuan(Math.round(v)) })),
      h(
        "section",
        { class: "card" },
        h("h2", {}, t("dash_claims")),
        barChart({ id: "dash-claims-chart", label: t("dash_claims"), bars: days.map((d) => ({ label: String(d.day).slice(5, 10), value: d.issued })), format: (v) => String(Math.round(v)) }),
      ),
      manage(c, f), // the figures first; adding budget and ending the campaign below them
    );
  }

  // The owner's controls: add budget and end now while the campaign runs; what came back once it is closed.
  function manage(c, f) {
    if (c.status === "closed") return h("p", { class: "card muted", id: "dash-status", role: "status" }, t("dash_closed", { amount: yuan(f.returned_fen) }));
    if (Date.now() >= Date.parse(c.ends_at)) return h("p", { class: "card muted", id: "dash-status", role: "status" }, t("dash_over"));
    const amount = amountInput("dash-topup");
    const topUpError = errorLine("dash-topup-error");
    const form = actionForm(
      "form",
      topUpError,
      async () => {
        const r = await topUp.send(`/v1/campaigns/${encodeURIComponent(id)}/top-up`, { amount_fen: fenOf(amount) });
        toast(t("dash_topped", { amount: yuan(r.added_fen) }));
        await load();
      },
      h("label", { for: "dash-topup" }, t("dash_topup_label")),
      amount,
      h("p", { class: "hint" }, t("dash_topup_hint")),
      topUpError,
      h("button", { type: "submit", class: "primary wide", id: "dash-topup-btn" }, t("dash_topup")),
    );
    const stop = confirmButton({
      label: t("dash_end"),
      question: t("dash_end_ask", { name: c.name }),
      attrs: { id: "dash-end", "aria-label": labelled(t("dash_end"), c.name) },
      act: async () => {
        const r = await end.send(`/v1/campaigns/${encodeURIComponent(id)}/cancel`, undefined);
        toast(t("dash_ended", { amount: yuan(r.returned_fen) }));
        await load();
      },
    });
    return h(
      "section",
      { class: "card dash-manage", id: "dash-manage", "aria-labelledby": "dash-manage-title" },
      h("h2", { id: "dash-manage-title" }, t("dash_manage")),
      form,
      h("div", { class: "dash-end" }, h("p", { class: "hint" }, t("dash_end_hint")), stop),
    );
  }

  try {
    await load();
  } catch (err) {
    showError(error, err);
  }
  return { el: h("div", { class: "dashboard" }, error, out), title: t("dash_title"), back: "/app/x/dashboard", refresh: load };
}

async function pick() {
  const mine = await get("/v1/campaigns");
  const list = h(
    "ul",
    { class: "list", id: "dash-campaigns" },
    mine.campaigns.length
      ? mine.campaigns.map((c) =>
          h(
            "li",
            {},
            h("a", { class: "row", href: `/app/x/dashboard?id=${c.id}`, "data-campaign": c.id }, h("span", { class: "row-main" }, h("span", { class: "row-title" }, c.name), h("span", { class: "row-sub" }, c.status))),
          ),
        )
      : h("li", { class: "muted center pad" }, t("dash_none")),
  );
  return { el: h("div", {}, list), title: t("dash_title"), back: "/app/more" };
}
