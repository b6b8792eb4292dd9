// Your year in red packets: sent, received, your luckiest claim, and each month as a chart.

import { get } from "../../api.js";
import { h, mount } from "../../dom.js";
import { extend, labelled, t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { barChart } from "../../chart.js";
import { dateTime } from "../common.js";
import { errorLine, showError } from "./kit.js";

extend({
  zh: {
    report_title: "年度红包报告",
    report_sent: "发出",
    report_received: "收到",
    report_luckiest: "最大的一个红包",
    report_months: "每月收发",
    report_count: "{n} 个",
    report_none: "这一年还没有收到红包",
  },
  en: {
    report_title: "Your year in red packets",
    report_sent: "Sent",
    report_received: "Received",
    report_luckiest: "Your luckiest packet",
    report_months: "By month",
    report_count: "{n} packets",
    report_none: "No packets received this year",
  },
});

export async function render(ctx) {
  const thisYear = new Date().getUTCFullYear();
  const year = h(
    "select",
    { id: "report-year", onchange: () => load().catch((err) => showError(error, err)) },
    [0, 1, 2, 3, 4].map((back) => h("option", { value: String(thisYear - back) }, String(thisYear - back))),
  );
  if (ctx.query.get("year")) year.value = ctx.query.get("year");
  const error = errorLine("report-error");
  const out = h("div", { id: "report-out" });

  async function load() {
    error.hidden = true;
    const r = await get(`/v1/me/report?year=${encodeURIComponent(year.value)}`);
    mount(
      out,
      h(
        "section",
        { class: "card" },
        h(
          "dl",
          { class: "stats" },
          h("div", {}, h("dt", {}, t("report_sent")), h("dd", { id: "report-sent" }, yuan(r.sent_fen)), h("dt", {}, t("report_count", { n: r.sent_count }))),
          h("div", {}, h("dt", {}, t("report_received")), h("dd", { id: "report-received" }, yuan(r.received_fen)), h("dt", {}, t("report_count", { n: r.received_count }))),
        ),
      ),
      h(
        "section",
        { class: "card", id: "report-luckiest" },
        h("h2", {}, t("report_luckiest")),
        r.luckiest
          ? h("p", {}, h("span", { class: "card-text" }, yuan(r.luckiest.amount_fen)), " · ", dateTime(r.luckiest.created_at), " ", r.luckiest.packet_id ? h("a", { class: "link", href: `/app/packet/${r.luckiest.packet_id}` }, t("see_details")) : null)
          : h("p", { class: "muted" }, t("report_none")),
      ),
      h(
        "section",
        { class: "card" },
        h("h2", {}, t("report_months")),
        h("p", { class: "legend" }, h("span", {}, h("i", { class: "s0" }), t("report_sent")), h("span", {}, h("i", { class: "s1" }), t("report_received"))),
        barChart({
          id: "report-chart",
          label: t("report_months"),
          series: 2,
          format: (v) => yuan(Math.round(v)),
          bars: r.months.flatMap((m) => [
            { label: String(m.month), value: m.sent_fen, title: labelled(m.month, `${t("report_sent")} ${yuan(m.sent_fen)}`) },
            { label: String(m.month), value: m.received_fen, title: labelled(m.month, `${t("report_received")} ${yuan(m.received_fen)}`) },
          ]),
        }),
      ),
    );
  }

  try {
    await load();
  } catch (err) {
    showError(error, err);
  }
  return { el: h("div", { class: "report" }, h("section", { class: "card" }, h("label", { for: "report-year" }, t("report_title")), year), error, out), title: t("report_title"), back: "/app/more", refresh: load };
}
