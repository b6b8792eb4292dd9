// 创建摇一摇活动: an admin or a verified enterprise schedules a Gala shake event in rounds.

import { post } from "../../api.js";
import { h, mount, toast } from "../../dom.js";
import { extend, labelled, t } from "../../i18n.js";
import { errorLine } from "./kit.js";
import { field, isoOf, manageForm, localValue, textInput, wholeOf } from "./manage-kit.js";

extend({
  zh: {
    ne_rounds: "场次",
    ne_round: "第 {n} 场",
    ne_starts: "开始",
    ne_ends: "结束",
    ne_add_round: "添加一场",
    ne_win: "中奖概率（‰）",
    ne_win_hint: "每摇一次中奖的千分比：500 为一半",
    ne_bad_win: "中奖概率是 0 到 1000 的整数",
    ne_wins: "每人最多中奖次数",
    ne_cards: "祝福卡（可选，每行一张）",
    ne_create: "创建活动",
    ne_created: "摇一摇活动已创建",
    ne_open: "打开摇一摇页面",
    ne_add_pool: "赞助奖池",
    ne_pool_hint: "没有奖池就摇不到红包：认证企业可以赞助奖池",
  },
  en: {
    ne_rounds: "Rounds",
    ne_round: "Round {n}",
    ne_starts: "Starts",
    ne_ends: "Ends",
    ne_add_round: "Add a round",
    ne_win: "Win chance (‰)",
    ne_win_hint: "Chance per shake in thousandths: 500 is half",
    ne_bad_win: "The win chance is a whole number from 0 to 1000",
    ne_wins: "Wins per person",
    ne_cards: "Greeting cards (optional, one per line)",
    ne_create: "Create the event",
    ne_created: "Shake event created",
    ne_open: "Open its shake page",
    ne_add_pool: "Sponsor a pool",
    ne_pool_hint: "Shakes win nothing until a verified enterprise funds a pool",
  },
});

const HOUR_MS = 3600 * 1000;
let seq = 0;

export async function render() {
  const root = h("div", { class: "manage" });
  const name = textInput("e-name", { max: 64, placeholder: "春晚摇一摇" });
  const rounds = h("div", { class: "round-rows", id: "rounds" });
  const addRound = h("button", { type: "button", class: "secondary small", id: "add-round", onclick: () => roundRow() }, t("ne_add_round"));
  const win = h("input", { id: "e-win", inputmode: "numeric", autocomplete: "off", value: "500", "aria-describedby": "e-win-hint" });
  const wins = h("input", { id: "e-wins", inputmode: "numeric", autocomplete: "off", value: "3" });
  const cards = h("textarea", { id: "e-cards", rows: 3, maxlength: 20 * 65 });
  const error = errorLine("e-error");
  const submit = h("button", { type: "submit", class: "primary wide", id: "e-create" }, t("ne_create"));

  function renumber() {
    [...rounds.children].forEach((row, i) => (row.querySelector("legend").textContent = t("ne_round", { n: i + 1 })));
    addRound.disabled = rounds.children.length >= 24;
  }

  function roundRow() {
    // A new round starts where the last one ends (or now) and lasts an hour.
    const last = rounds.lastElementChild;
    const from = last ? new Date(last.querySelector(".round-end").value) : new Date();
    const start = Number.isNaN(from.getTime()) ? new Date() : from;
    const n = ++seq;
    const a = h("input", { id: `round-start-${n}`, class: "round-start", type: "datetime-local", value: localValue(start) });
    const b = h("input", { id: `round-end-${n}`, class: "round-end", type: "datetime-local", value: localValue(new Date(start.getTime() + HOUR_MS)) });
    const row = h(
      "fieldset",
      { class: "prize-row", dataset: { round: n } },
      h("legend", {}),
      h("div", { class: "prize-cell" }, field(t("ne_starts"), a)),
      h("div", { class: "prize-cell" }, field(t("ne_ends"), b)),
      h(
        "button",
        {
          type: "button",
          class: "ghost small",
          "aria-label": `${t("m_remove")} ${n}`,
          onclick() {
            if (rounds.children.length > 1) row.remove();
            renumber();
          },
        },
        t("m_remove"),
      ),
    );
    row.read = () => {
      const starts_at = isoOf(a);
      const ends_at = isoOf(b);
      if (Date.parse(ends_at) <= Math.max(Date.now(), Date.parse(starts_at))) throw new Error(t("m_ends_before"));
      return { starts_at, ends_at };
    };
    rounds.append(row);
    renumber();
  }

  function body() {
    if (!name.value.trim()) throw new Error(t("m_name_missing"));
    const permille = win.value.trim();
    if (!/^\d{1,4}$/.test(permille) || Number.parseInt(permille, 10) > 1000) throw new Error(t("ne_bad_win"));
    const out = {
      name: name.value.trim(),
      rounds: [...rounds.children].map((row) => row.read()),
      win_permille: Number.parseInt(permille, 10),
      wins_per_user_max: wholeOf(wins, t("ne_wins")),
    };
    const texts = cards.value.split("\n").map((s) => s.trim()).filter(Boolean);
    if (texts.length) out.cards = texts;
    return out;
  }

  const form = manageForm(
    { id: "event-form" },
    {
      error,
      submit,
      async act() {
        const event = await post("/v1/shake/events", body()); // moves no money: no idempotency key needed
        toast(t("ne_created"));
        created(event);
      },
    },
    field(t("m_name"), name),
    h("fieldset", { class: "prize-table" }, h("legend", {}, t("ne_rounds")), rounds, addRound),
    field(t("ne_win"), win),
    h("p", { class: "hint", id: "e-win-hint" }, t("ne_win_hint")),
    field(t("ne_wins"), wins),
    field(t("ne_cards"), cards),
    error,
    submit,
  );

  function created(event) {
    mount(
      root,
      h(
        "section",
        { class: "card center", id: "e-created", "data-event": event.id },
        h("h2", {}, t("ne_created")),
        h("p", { class: "row-title" }, event.name),
        h("p", { class: "hint" }, `${labelled(t("ne_rounds"), event.rounds.length)} · ${event.win_permille}‰`),
        h("a", { class: "primary wide", id: "e-open", href: `/app/x/shake?event=${event.id}` }, t("ne_open")),
        h("a", { class: "link", id: "e-add-pool", href: `/app/x/new-pool?event=${event.id}` }, t("ne_add_pool")),
        h("p", { class: "hint" }, t("ne_pool_hint")),
      ),
    );
  }

  roundRow();
  mount(root, form);
  return { el: root, title: t("feat_new_event"), back: "/app/more" };
}
