// 讨红包: ask a friend or a group for a packet; answer asks you received; turn asking off.

import { Attempt, api, get } from "../../api.js";
import { h, mount, toast } from "../../dom.js";
import { extend, t } from "../../i18n.js";
import { plainYuan, yuan } from "../../money.js";
import { shortTime } from "../common.js";
import { pager, reloadLimit } from "../pager.js";
import { actionForm, amountInput, errorLine, fenOf, friendSelect, groupSelect } from "./kit.js";

extend({
  zh: { asks_more: "加载更多讨红包" },
  en: { asks_more: "Load more asks" },
});

export async function render(ctx) {
  const friends = (await get("/v1/friends")).friends;
  const who = Object.fromEntries(friends.map((f) => [f.id, f.display_name]));
  who[ctx.me.id] = t("you");
  const friend = await friendSelect("ask-friend");
  const group = await groupSelect("ask-group");
  const toGroup = h("input", { type: "checkbox", id: "ask-to-group", class: "check" });
  const amount = amountInput("amount");
  const message = h("input", { id: "ask-message", maxlength: 64, placeholder: t("ask_message_hint") });
  const error = errorLine("send-error");
  const received = h("ul", { class: "list", id: "asks-received" });
  const sent = h("ul", { class: "list", id: "asks-sent" });
  // One cursor pages both lists: a page is the next asks by age, sent and received.
  const more = pager({
    id: "asks-more",
    label: t("asks_more"),
    controls: "asks-received asks-sent",
    path: "/v1/asks",
    show(page) {
      append(received, page.received, false);
      append(sent, page.sent, true);
    },
  });
  const settings = await get("/v1/me/settings");
  const allow = h("input", {
    type: "checkbox",
    id: "allow-asks",
    class: "check",
    checked: settings.allow_asks,
    async onchange() {
      try {
        await api("PUT", "/v1/me/settings", { body: { allow_asks: allow.checked } });
      } catch (err) {
        allow.checked = !allow.checked;
        toast(err.message, "error");
      }
    },
  });
  const attempt = new Attempt();

  function answer(a) {
    const fen = amountInput(`fulfil-${a.id}`, a.amount_fen ? plainYuan(a.amount_fen) : "");
    const line = errorLine(`fulfil-error-${a.id}`);
    const once = new Attempt();
    return actionForm(
      "inline",
      line,
      async () => {
        const body = { amount_fen: fenOf(fen), greeting: t("greeting_default") };
        if (a.group_id) body.shares_count = 3;
        await once.send(`/v1/asks/${a.id}/fulfil`, body);
        toast(t("sent_ok"));
        await load();
      },
      fen,
      h("button", { type: "submit", class: "primary small" }, t("ask_fulfil")),
      h("button", { type: "button", class: "ghost small", onclick: () => api("POST", `/v1/asks/${a.id}/decline`).then(load, (err) => toast(err.message, "error")) }, t("ask_decline")),
      line,
    );
  }

  function row(a, mine) {
    const whom = mine ? (a.group_id ? t("groups") : (who[a.to_user_id] ?? "")) : (who[a.asker_id] ?? "");
    return h(
      "li",
      { class: "claim ask", "data-ask": a.id },
      h(
        "span",
        { class: "row-main" },
        h("span", { class: "row-title" }, `${whom}${a.message ? ` · ${a.message}` : ""}`),
        h("span", { class: "row-sub" }, `${shortTime(a.created_at)} · ${t(`ask_${a.status}`)}${a.amount_fen ? ` · ${yuan(a.amount_fen)}` : ""}`),
        !mine && a.status === "open" ? answer(a) : null,
        a.packet_id ? h("a", { class: "link", href: `/app/packet/${a.packet_id}` }, t("see_details")) : null,
      ),
    );
  }

  const empty = () => h("li", { class: "muted center pad", "data-empty": "" }, t("nothing_yet"));

  async function load() {
    const shown = received.querySelectorAll("[data-ask]").length + sent.querySelectorAll("[data-ask]").length;
    const mine = await get(`/v1/asks?limit=${reloadLimit(shown)}`);
    mount(received, mine.received.length ? mine.received.map((a) => row(a, false)) : empty());
    mount(sent, mine.sent.length ? mine.sent.map((a) => row(a, true)) : empty());
    more.from(mine);
  }

  function append(list, asks, mine) {
    const shown = new Set([...list.querySelectorAll("[data-ask]")].map((li) => Number(li.dataset.ask)));
    const rows = asks.filter((a) => !shown.has(a.id)).map((a) => row(a, mine));
    if (!rows.length) return;
    list.querySelector("[data-empty]")?.remove();
    list.append(...rows);
  }

  const form = actionForm(
    "card form",
    error,
    async () => {
      const body = { amount_fen: fenOf(amount, { optional: true }), message: message.value.trim() || null };
      if (toGroup.checked) body.group_id = Number(group.value);
      else body.to_user_id = Number(friend.value);
      await attempt.send("/v1/asks", body);
      toast(t("ask_sent"));
      await load();
    },
    h("label", { for: "ask-friend" }, t("friends")),
    friend,
    h("label", { class: "check-row", for: "ask-to-group" }, toGroup, h("span", {}, t("ask_group_instead"))),
    group,
    h("label", { for: "amount" }, `${t("amount")} · ${t("optional")}`),
    amount,
    h("label", { for: "ask-message" }, t("message")),
    message,
    error,
    h("button", { type: "submit", class: "primary wide", id: "send-btn" }, t("ask_send")),
  );
  await load();
  return {
    el: h(
      "div",
      {},
      form,
      h("section", { class: "card" }, h("h2", {}, t("asks_received")), received),
      h("section", { class: "card" }, h("h2", {}, t("asks_sent")), sent),
      more.button,
      h("section", { class: "card" }, h("label", { class: "check-row", for: "allow-asks" }, allow, h("span", {}, t("allow_asks")))),
    ),
    title: t("feat_asks"),
    back: "/app/more",
    refresh: load,
  };
}
