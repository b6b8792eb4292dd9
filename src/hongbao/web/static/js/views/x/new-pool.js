// 赞助奖池: a verified enterprise funds a prize pool of a shake event (/app/x/new-pool?event=ID).

import { Attempt, get } from "../../api.js";
import { h, mount, toast } from "../../dom.js";
import { extend, t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { errorLine } from "./kit.js";
import { brandingFields, budgetOf, enterpriseNote, explain, field, manageForm, myOffers, prizeTable } from "./manage-kit.js";

extend({
  zh: {
    np_event: "摇一摇活动编号",
    np_for: "为“{name}”赞助奖池",
    np_when: "{from} 至 {to}",
    np_create: "创建奖池并转入预算",
    np_created: "奖池已创建",
    np_open: "打开摇一摇页面",
    np_dashboard: "查看奖池数据",
  },
  en: {
    np_event: "Shake event number",
    np_for: "A pool for “{name}”",
    np_when: "{from} to {to}",
    np_create: "Create and fund the pool",
    np_created: "Pool created",
    np_open: "Open the shake page",
    np_dashboard: "See the pool's figures",
  },
});

export async function render(ctx) {
  const eventId = ctx.query.get("event");
  if (!eventId || !/^\d+$/.test(eventId)) return pick(ctx);
  const root = h("div", { class: "manage" });
  const error = errorLine("p-error");
  let event;
  try {
    event = await get(`/v1/shake/events/${eventId}`);
  } catch (err) {
    explain(error, err);
    return { el: h("div", { class: "manage" }, h("section", { class: "card" }, error)), title: t("feat_new_pool"), back: "/app/x/new-pool" };
  }
  const offers = await myOffers().catch(() => []);
  const note = await enterpriseNote(ctx);
  const branding = brandingFields("p");
  const budget = h("input", { id: "p-budget", inputmode: "decimal", autocomplete: "off", placeholder: "0.00", "aria-describedby": "p-budget-hint" });
  const prizes = prizeTable(offers);
  const submit = h("button", { type: "submit", class: "primary wide", id: "p-create" }, t("np_create"));
  const attempt = new Attempt();

  function body() {
    const out = branding.read();
    out.prizes = prizes.read();
    out.budget_fen = budgetOf(budget, out.prizes);
    return out;
  }

  const form = manageForm(
    { id: "pool-form" },
    {
      error,
      submit,
      async act() {
        const pool = await attempt.send(`/v1/shake/events/${event.id}/pools`, body());
        toast(t("np_created"));
        created(pool);
      },
    },
    h("h2", { id: "p-event" }, t("np_for", { name: event.name })),
    h("p", { class: "hint" }, t("np_when", { from: new Date(event.starts_at).toLocaleString(), to: new Date(event.ends_at).toLocaleString() })),
    note,
    branding.el,
    prizes.el,
    field(t("m_budget"), budget),
    h("p", { class: "hint", id: "p-budget-hint" }, t("m_budget_hint")),
    error,
    submit,
  );

  function created(pool) {
    mount(
      root,
      h(
        "section",
        { class: "card center", id: "p-created", "data-campaign": pool.id },
        h("h2", {}, t("np_created")),
        h("p", { class: "row-title" }, pool.name),
        h("p", { class: "hint" }, yuan(pool.budget_fen)),
        h("a", { class: "primary wide", id: "p-open", href: `/app/x/shake?event=${event.id}` }, t("np_open")),
        h("a", { class: "link", id: "p-dashboard", href: `/app/x/dashboard?id=${pool.id}` }, t("np_dashboard")),
      ),
    );
  }

  mount(root, form);
  return { el: root, title: t("feat_new_pool"), back: "/app/more" };
}

function pick(ctx) {
  const input = h("input", { id: "p-event-id", inputmode: "numeric", autocomplete: "off" });
  const form = h(
    "form",
    {
      class: "card form",
      onsubmit(e) {
        e.preventDefault();
        const id = input.value.trim().replace(/^#/, "");
        if (/^\d+$/.test(id)) ctx.go(`/app/x/new-pool?event=${id}`);
      },
    },
    field(t("np_event"), input),
    h("button", { type: "submit", class: "primary wide", id: "p-go" }, t("go")),
  );
  return { el: h("div", {}, form), title: t("feat_new_pool"), back: "/app/more" };
}
