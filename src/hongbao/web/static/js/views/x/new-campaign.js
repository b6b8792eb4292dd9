// 发起企业红包: a verified enterprise brands and funds a campaign (claim link or followers), then shares it.

import { Attempt } from "../../api.js";
import { h, mount, toast } from "../../dom.js";
import { extend, t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { copyLink } from "../splitform.js";
import { errorLine } from "./kit.js";
import { brandingFields, budgetOf, enterpriseNote, field, isoOf, manageForm, myOffers, prizeTable, whenInput, wholeOf } from "./manage-kit.js";

extend({
  zh: {
    nc_channel: "谁可以领",
    nc_link: "持链接的人",
    nc_followers: "我的关注者",
    nc_starts: "开始（留空为立即开始）",
    nc_ends: "结束",
    nc_per_user: "每人最多领几次（可选）",
    nc_per_day: "每人每天最多几次（可选）",
    nc_create: "创建并转入预算",
    nc_created: "活动已创建",
    nc_link_hint: "领取链接只显示这一次：复制后分享给大家",
    nc_followers_hint: "关注你的人打开这个链接即可领取",
    nc_open: "打开活动页",
    nc_dashboard: "查看活动数据",
    nc_another: "再建一个",
  },
  en: {
    nc_channel: "Who may claim",
    nc_link: "Anyone with the link",
    nc_followers: "My followers",
    nc_starts: "Starts (empty: now)",
    nc_ends: "Ends",
    nc_per_user: "Claims per person (optional)",
    nc_per_day: "Claims per person per day (optional)",
    nc_create: "Create and fund",
    nc_created: "Campaign created",
    nc_link_hint: "The claim link is shown only this once: copy it and share it",
    nc_followers_hint: "Your followers claim by opening this link",
    nc_open: "Open the campaign page",
    nc_dashboard: "See its figures",
    nc_another: "Create another",
  },
});

const WEEK_MS = 7 * 24 * 3600 * 1000;

export async function render(ctx) {
  const root = h("div", { class: "manage" });
  const offers = await myOffers().catch(() => []);
  const note = await enterpriseNote(ctx);
  const branding = brandingFields("c");
  let channel = "link";
  const channels = h(
    "fieldset",
    { class: "segmented" },
    h("legend", { class: "sr-only" }, t("nc_channel")),
    ["link", "followers"].map((c) =>
      h(
        "label",
        { class: "segment" },
        h("input", { type: "radio", name: "channel", value: c, id: `c-channel-${c}`, checked: c === channel, onchange: () => (channel = c) }),
        h("span", {}, t(`nc_${c}`)),
      ),
    ),
  );
  const starts = whenInput("c-starts", null);
  const ends = whenInput("c-ends", new Date(Date.now() + WEEK_MS));
  const budget = h("input", { id: "c-budget", inputmode: "decimal", autocomplete: "off", placeholder: "0.00", "aria-describedby": "c-budget-hint" });
  const prizes = prizeTable(offers);
  const perUser = h("input", { id: "c-per-user", inputmode: "numeric", autocomplete: "off" });
  const perDay = h("input", { id: "c-per-day", inputmode: "numeric", autocomplete: "off" });
  const error = errorLine("c-error");
  const submit = h("button", { type: "submit", class: "primary wide", id: "c-create" }, t("nc_create"));
  const attempt = new Attempt();

  function body() {
    const out = { channel, ...branding.read() };
    const from = isoOf(starts, { optional: true });
    const until = isoOf(ends);
    if (Date.parse(until) <= Math.max(Date.now(), from ? Date.parse(from) : 0)) throw new Error(t("m_ends_before"));
    if (from) out.starts_at = from;
    out.ends_at = until;
    out.prizes = prizes.read();
    out.budget_fen = budgetOf(budget, out.prizes);
    const most = wholeOf(perUser, t("nc_per_user"), { optional: true });
    const daily = wholeOf(perDay, t("nc_per_day"), { optional: true });
    if (most !== null) out.per_user_max = most;
    if (daily !== null) out.per_day_max = daily;
    return out;
  }

  const form = manageForm(
    { id: "campaign-form" },
    {
      error,
      submit,
      async act() {
        const reply = await attempt.send("/v1/campaigns", body());
        toast(t("nc_created"));
        created(reply);
      },
    },
    note,
    branding.el,
    h("p", { class: "hint", "aria-hidden": "true" }, t("nc_channel")),
    channels,
    field(t("nc_starts"), starts),
    field(t("nc_ends"), ends),
    prizes.el,
    field(t("m_budget"), budget),
    h("p", { class: "hint", id: "c-budget-hint" }, t("m_budget_hint")),
    field(t("nc_per_user"), perUser),
    field(t("nc_per_day"), perDay),
    error,
    submit,
  );

  function created(c) {
    const query = c.link_token ? `id=${c.id}&token=${encodeURIComponent(c.link_token)}` : `id=${c.id}`;
    const url = `${location.origin}/app/x/campaign?${query}`;
    mount(
      root,
      h(
        "section",
        { class: "card center", id: "c-created", "data-campaign": c.id },
        h("h2", {}, t("nc_created")),
        h("p", { class: "row-title" }, c.name),
        h("p", { class: "hint" }, `${yuan(c.budget_fen)} · ${t(`nc_${c.channel}`)}`),
        h("p", { class: "hint" }, c.link_token ? t("nc_link_hint") : t("nc_followers_hint")),
        copyLink(url),
        h("a", { class: "primary wide", id: "c-open", href: `/app/x/campaign?${query}` }, t("nc_open")),
        h("a", { class: "link", id: "c-dashboard", href: `/app/x/dashboard?id=${c.id}` }, t("nc_dashboard")),
        h("button", { type: "button", class: "ghost wide", onclick: () => mount(root, form) }, t("nc_another")),
      ),
    );
  }

  mount(root, form);
  return { el: root, title: t("feat_new_campaign"), back: "/app/more" };
}
