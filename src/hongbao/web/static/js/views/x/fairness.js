// Fairness by grab position: many simulated packets, mean ± stdev per position and the odds of best luck.

import { get } from "../../api.js";
import { h, mount } from "../../dom.js";
import { extend, t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { barChart } from "../../chart.js";
import { actionForm, amountInput, errorLine, fenOf } from "./kit.js";

extend({
  zh: {
    fair_title: "手气公平吗",
    fair_total: "总金额",
    fair_shares: "红包个数",
    fair_runs: "模拟次数",
    fair_algorithm: "分法",
    fair_run: "模拟",
    fair_mean: "每个位置平均领到（± 标准差）",
    fair_best: "每个位置手气最佳的概率",
    algo_double_mean: "二倍均值法",
    algo_line_cut: "线段切割法",
    algo_equal: "平均分",
  },
  en: {
    fair_title: "Is it fair?",
    fair_total: "Total",
    fair_shares: "Shares",
    fair_runs: "Simulated packets",
    fair_algorithm: "Split",
    fair_run: "Simulate",
    fair_mean: "Mean by grab position (± stdev)",
    fair_best: "Chance of best luck by grab position",
    algo_double_mean: "Double mean",
    algo_line_cut: "Line cut",
    algo_equal: "Equal",
  },
});

export async function render(ctx) {
  const q = ctx.query;
  const total = amountInput("fair-total", q.get("total") ?? "100.00");
  const shares = h("input", { id: "fair-shares", inputmode: "numeric", value: q.get("shares") ?? "10" });
  const runs = h("input", { id: "fair-runs", inputmode: "numeric", value: q.get("runs") ?? "2000" });
  const algorithm = h(
    "select",
    { id: "fair-algorithm" },
    ["double_mean", "line_cut", "equal"].map((a) => h("option", { value: a, selected: a === (q.get("algorithm") ?? "double_mean") }, t(`algo_${a}`))),
  );
  const error = errorLine("fair-error");
  const out = h("div", { id: "fairness-out" });

  async function run() {
    const params = new URLSearchParams({ total_fen: String(fenOf(total)), shares: shares.value.trim(), runs: runs.value.trim(), algorithm: algorithm.value });
    const data = await get(`/v1/fairness?${params}`);
    const pos = data.positions;
    mount(
      out,
      h("section", { class: "card" }, h("h2", {}, t("fair_mean")), barChart({
        id: "fair-mean-chart",
        label: t("fair_mean"),
        format: (v) => yuan(Math.round(v)),
        bars: pos.map((p) => ({ label: String(p.position), value: p.mean_fen, err: p.stdev_fen, title: `#${p.position}: ${yuan(Math.round(p.mean_fen))} ± ${yuan(Math.round(p.stdev_fen))}` })),
      })),
      h("section", { class: "card" }, h("h2", {}, t("fair_best")), barChart({
        id: "fair-best-chart",
        label: t("fair_best"),
        format: (v) => `${Math.round(v * 100)}%`,
        bars: pos.map((p) => ({ label: String(p.position), value: p.best_luck_probability, title: `#${p.position}: ${(p.best_luck_probability * 100).toFixed(1)}%` })),
      })),
    );
  }

  const form = actionForm(
    "form",
    error,
    run,
    h("label", { for: "fair-total" }, t("fair_total")),
    total,
    h("label", { for: "fair-shares" }, t("fair_shares")),
    shares,
    h("label", { for: "fair-runs" }, t("fair_runs")),
    runs,
    h("label", { for: "fair-algorithm" }, t("fair_algorithm")),
    algorithm,
    h("button", { type: "submit", class: "primary wide", id: "fair-run" }, t("fair_run")),
    error,
  );
  return { el: h("div", { class: "fairness" }, h("section", { class: "card" }, form), out), title: t("fair_title"), back: "/app/more" };
}
