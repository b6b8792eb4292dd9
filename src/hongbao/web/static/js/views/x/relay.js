// 接龙红包: start a chain in a group; the chain page shows its rounds, who owes the next one, and until when.

import { Attempt, get } from "../../api.js";
import { h, mount, toast } from "../../dom.js";
import { labelled, t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { bubble, shortTime } from "../common.js";
import { actionForm, amountInput, errorLine, fenOf, groupSelect, names } from "./kit.js";

export async function render(ctx) {
  const id = ctx.query.get("id");
  return id ? chain(ctx, Number(id)) : start(ctx);
}

async function start(ctx) {
  const group = await groupSelect("relay-group");
  const total = amountInput("amount");
  const shares = h("input", { id: "shares", inputmode: "numeric", value: "3" });
  const greeting = h("input", { id: "greeting", maxlength: 64, placeholder: t("relay_greeting") });
  const minutes = h("input", { id: "deadline", inputmode: "numeric", value: "60" });
  const error = errorLine("send-error");
  const attempt = new Attempt();
  const form = actionForm(
    "card form",
    error,
    async () => {
      const body = {
        group_id: Number(group.value),
        total_fen: fenOf(total),
        shares_count: Number.parseInt(shares.value, 10),
        greeting: greeting.value.trim() || t("relay_greeting"),
        deadline_s: Math.max(1, Number.parseInt(minutes.value, 10) || 60) * 60,
      };
      const reply = await attempt.send("/v1/relays", body);
      toast(t("sent_ok"));
      ctx.go(`/app/x/relay?id=${reply.id}`, { replace: true });
    },
    h("p", { class: "hint" }, t("relay_rule")),
    h("label", { for: "relay-group" }, t("groups")),
    group,
    h("label", { for: "shares" }, t("shares_count")),
    shares,
    h("label", { for: "amount" }, t("total_amount")),
    total,
    h("label", { for: "greeting" }, t("greeting")),
    greeting,
    h("label", { for: "deadline" }, t("relay_deadline_min")),
    minutes,
    error,
    h("button", { type: "submit", class: "primary wide", id: "send-btn" }, t("relay_start")),
  );
  return { el: h("div", {}, form), title: t("feat_relay"), back: "/app/more" };
}

async function chain(ctx, id) {
  const root = h("div", { class: "relay" });
  let who = {};
  let timer = null;

  async function load() {
    const r = await get(`/v1/relays/${id}`);
    if (!Object.keys(who).length) who = names((await get(`/v1/groups/${r.group_id}`)).members);
    const me = ctx.me.id;
    const due = r.due_at ? Date.parse(r.due_at) : null;
    const countdown = h("span", { id: "relay-due" });
    clearInterval(timer);
    if (due) {
      const paint = () => (countdown.textContent = `${Math.max(0, Math.floor((due - Date.now()) / 60000))} min`);
      paint();
      timer = setInterval(paint, 15000);
    }
    mount(
      root,
      h(
        "section",
        { class: "card" },
        h("h2", {}, `${t("feat_relay")} #${r.id} · ${t(`relay_status_${r.status}`)}`),
        r.owed_by
          ? h("p", { class: "won", id: "relay-owed" }, t("relay_owed", { name: r.owed_by === me ? t("you") : (who[r.owed_by] ?? "") }), " · ", countdown)
          : null,
        r.ended_reason ? h("p", { class: "hint" }, r.ended_reason) : null,
        r.current_packet ? bubble(r.current_packet) : null,
        r.your_turn ? nextForm(r) : null,
      ),
      h(
        "section",
        { class: "card" },
        h("h2", {}, t("relay_rounds")),
        h(
          "ol",
          { class: "list", id: "relay-rounds" },
          r.rounds.map((x) =>
            h(
              "li",
              { class: "claim" },
              h("span", { class: "row-main" }, h("span", { class: "row-title" }, t("relay_round", { n: x.round, name: x.sender_name ?? who[x.sender_id] ?? "" })), h("span", { class: "row-sub" }, `${shortTime(x.created_at)} · ${x.claimed_count}/${x.shares_count}${x.best_luck_user_id ? ` · ${labelled(t("best_luck"), who[x.best_luck_user_id] ?? "")}` : ""}`)),
              h("a", { class: "claim-amount", href: `/app/packet/${x.packet_id}` }, yuan(x.total_fen)),
            ),
          ),
        ),
      ),
    );
  }

  function nextForm(r) {
    const total = amountInput("next-amount", "");
    const shares = h("input", { id: "next-shares", inputmode: "numeric", value: String(r.current_packet?.shares_count ?? 3) });
    const error = errorLine("next-error");
    const attempt = new Attempt();
    return actionForm(
      "form",
      error,
      async () => {
        await attempt.send(`/v1/relays/${id}/next`, { total_fen: fenOf(total), shares_count: Number.parseInt(shares.value, 10), greeting: t("relay_greeting") });
        toast(t("sent_ok"));
        await load();
      },
      h("p", { class: "hint" }, t("relay_your_turn", { min: yuan(r.min_fen) })),
      h("label", { for: "next-amount" }, t("total_amount")),
      total,
      h("label", { for: "next-shares" }, t("shares_count")),
      shares,
      error,
      h("button", { type: "submit", class: "primary wide", id: "next-btn" }, t("relay_send_next")),
    );
  }

  await load();
  return { el: root, title: t("feat_relay"), back: "/app/more", refresh: load, dispose: () => clearInterval(timer) };
}
