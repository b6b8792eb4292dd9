// A campaign owner's dashboard: budget burn and claims by day, drawn as inline SVG charts.

import { get } from "../../api.js";
import { h, mount } from "../../dom.js";
import { extend, t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { barChart } from "../../chart.js";
import { errorLine, showError } from "./kit.js";

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
  },
});

export async function render(ctx) {
  const id = ctx.query.get("id");
  if (!id) return pick();
  const error = errorLine("dash-error");
  const out = h("div", { id: "dash-out" });

  async function load() {
    const f = await get(`/v1/campaigns/${encodeURIComponent(id)}/figures`);
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
        ),
      ),
      h("section", { class: "card" }, h("h2", {}, t("dash_burn")), barChart({ id: "dash-burn-chart", label: t("dash_burn"), bars: burn, max: Math.max(1, f.budget_fen), format: (v) => yuan(Math.round(v)) })),
      h(
        "section",
        { class: "card" },
        h("h2", {}, t("dash_claims")),
        barChart({ id: "dash-claims-chart", label: t("dash_claims"), bars: days.map((d) => ({ label: String(d.day).slice(5, 10), value: d.issued })), format: (v) => String(Math.round(v)) }),
      ),
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
