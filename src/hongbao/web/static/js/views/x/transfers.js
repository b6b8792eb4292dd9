// 转账: pay a friend; they accept (or give it back); unaccepted transfers return after their deadline.

import { Attempt, get } from "../../api.js";
import { h, mount, toast } from "../../dom.js";
import { extend, t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { shortTime } from "../common.js";
import { pager, reloadLimit } from "../pager.js";
import { actionForm, amountInput, errorLine, fenOf, friendSelect } from "./kit.js";

extend({
  zh: { transfers_more: "加载更多转账" },
  en: { transfers_more: "Load more transfers" },
});

export async function render(ctx) {
  const friends = (await get("/v1/friends")).friends;
  const who = Object.fromEntries(friends.map((f) => [f.id, f.display_name]));
  const to = await friendSelect("transfer-to");
  if (ctx.query.get("to")) to.value = ctx.query.get("to");
  const amount = amountInput("amount");
  const note = h("input", { id: "note", maxlength: 64, placeholder: t("transfer_note_hint") });
  const error = errorLine("send-error");
  const list = h("ul", { class: "list", id: "transfers" });
  const more = pager({
    id: "transfers-more",
    label: t("transfers_more"),
    controls: "transfers",
    path: "/v1/transfers",
    show(page) {
      const shown = new Set([...list.querySelectorAll("[data-transfer]")].map((li) => Number(li.dataset.transfer)));
      list.append(...page.transfers.filter((x) => !shown.has(x.id)).map(transferRow));
    },
  });
  const attempt = new Attempt();

  async function act(path, row) {
    try {
      await new Attempt().send(path, undefined);
      await load();
    } catch (err) {
      toast(err.message, "error");
      row?.focus?.();
    }
  }

  function transferRow(x) {
    const other = x.direction === "sent" ? x.recipient_id : x.sender_id;
    const pending = x.status === "pending" && x.direction === "received" && !x.overdue;
    return h(
      "li",
      { class: pending ? "claim has-actions" : "claim", "data-transfer": x.id },
      h("span", { class: "row-main" }, h("span", { class: "row-title" }, `${x.direction === "sent" ? t("transfer_to", { name: who[other] ?? "" }) : t("transfer_from", { name: who[other] ?? "" })}${x.note ? ` · ${x.note}` : ""}`), h("span", { class: "row-sub" }, `${shortTime(x.created_at)} · ${t(`transfer_${x.status}`)}`)),
      h("span", { class: "row-side" }, h("span", { class: "claim-amount" }, yuan(x.amount_fen))),
      // The actions get a line of their own, so the title keeps the row's width on a phone.
      pending
        ? h("span", { class: "row-actions" }, h("button", { type: "button", class: "primary small", onclick: () => act(`/v1/transfers/${x.id}/accept`) }, t("accept")), h("button", { type: "button", class: "ghost small", onclick: () => act(`/v1/transfers/${x.id}/return`) }, t("give_back")))
        : null,
    );
  }

  // Newest first, a page at a time (the next page starts below the last transfer shown, whatever arrives meanwhile).
  async function load() {
    const shown = list.querySelectorAll("[data-transfer]").length;
    const page = await get(`/v1/transfers?limit=${reloadLimit(shown)}`);
    mount(list, page.transfers.length ? page.transfers.map(transferRow) : h("li", { class: "muted center pad" }, t("nothing_yet")));
    more.from(page);
  }

  const form = actionForm(
    "card form",
    error,
    async () => {
      await attempt.send("/v1/transfers", { to_user_id: Number(to.value), amount_fen: fenOf(amount), note: note.value.trim() || null });
      toast(t("sent_ok"));
      amount.value = "";
      await load();
    },
    h("label", { for: "transfer-to" }, t("friends")),
    to,
    h("label", { for: "amount" }, t("amount")),
    amount,
    h("label", { for: "note" }, t("transfer_note")),
    note,
    error,
    h("button", { type: "submit", class: "primary wide", id: "send-btn" }, t("transfer_send")),
  );
  await load();
  return { el: h("div", {}, form, h("section", { class: "card" }, h("h2", {}, t("feat_transfers")), list, more.button)), title: t("feat_transfers"), back: "/app/more", refresh: load };
}
