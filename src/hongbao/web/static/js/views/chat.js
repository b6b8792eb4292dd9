// A conversation: red-envelope bubbles, claim notices and text, live; a composer and the 红包 button.

import { Attempt, ApiError, get, post } from "../api.js";
import { avatar, h, mount, toast } from "../dom.js";
import { t } from "../i18n.js";
import { icon } from "../icons.js";
import { bubble, chatTime, noticeText } from "./common.js";

const TIME_GAP_MS = 5 * 60 * 1000;

export async function render(ctx) {
  const id = Number(ctx.params[0]);
  const me = ctx.me;
  let conv = await get(`/v1/conversations/${id}`); // the list is paged: this one may be far down it
  const names = { [me.id]: t("you") };
  if (conv.peer) names[conv.peer.id] = conv.peer.display_name;
  if (conv.group_id) {
    const group = await get(`/v1/groups/${conv.group_id}`);
    for (const m of group.members) if (m.id !== me.id) names[m.id] = m.display_name;
    conv = { ...conv, members: group.members.length };
  }

  const messages = new Map();
  let olderCursor = undefined;
  const log = h("ol", { class: "messages", id: "messages", "aria-label": conv.title, "aria-live": "polite" });
  const older = h("button", { type: "button", class: "ghost small", hidden: true, onclick: loadOlder }, t("load_earlier"));
  const scroller = h("div", { class: "chat-scroll" }, older, log);

  function paint() {
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    const sorted = [...messages.values()].sort((a, b) => a.id - b.id);
    // What the bubbles show follows from the notices after them: opened by me, all taken, expired.
    const state = {};
    for (const m of sorted) {
      const d = m.data || {};
      if (!d.packet_id) continue;
      const s = (state[d.packet_id] ??= {});
      if (m.type === "claim" && d.user_id === me.id) s.opened = true;
      if (d.status && d.status !== "active") s.status = d.status;
    }
    // As WeChat: a time between messages when five minutes or more passed (today: 20:05; before: 2月18日 20:05).
    const shown = [];
    let last = null;
    for (const m of sorted) {
      const at = Date.parse(m.created_at);
      if (last === null || at - last >= TIME_GAP_MS) shown.push(h("li", { class: "msg-time", "data-time": m.created_at }, chatTime(m.created_at)));
      last = at;
      shown.push(item(m, state));
    }
    mount(log, shown);
    if (atBottom || !paint.done) scroller.scrollTop = scroller.scrollHeight;
    paint.done = true;
  }

  function item(m, state) {
    const mine = m.sender_id === me.id;
    if (m.type === "packet" || m.type === "text") {
      const who = m.sender_id === me.id ? t("you") : (m.sender_name ?? names[m.sender_id] ?? "");
      const s = state[m.data?.packet_id] || {};
      return h(
        "li",
        { class: `msg ${mine ? "mine" : "theirs"}`, "data-message": m.id },
        avatar(m.sender_name ?? names[m.sender_id]),
        h(
          "div",
          { class: "msg-body" },
          conv.kind === "group" && !mine ? h("span", { class: "msg-name" }, who) : h("span", { class: "sr-only" }, who),
          m.type === "packet"
            ? bubble({ ...m.data, greeting: m.text, status: s.status }, { mine, opened: s.opened })
            : h("p", { class: "text-bubble" }, m.text),
        ),
      );
    }
    const d = m.data || {};
    const page = d.relay_id ? `/app/x/relay?id=${d.relay_id}` : d.ask_id ? "/app/x/asks" : d.transfer_id ? "/app/x/transfers" : null;
    const text = noticeText(m, names, me.id);
    return h(
      "li",
      { class: `notice ${m.type}`, "data-message": m.id },
      m.type === "claim" || m.type === "best_luck" ? icon("packet", { size: 14, cls: "notice-icon" }) : null,
      page ? h("a", { href: page, class: "notice-link" }, text) : text,
    );
  }

  async function loadNewest() {
    const page = await get(`/v1/conversations/${id}/messages?limit=50`);
    for (const m of page.messages) messages.set(m.id, m);
    if (olderCursor === undefined) {
      olderCursor = page.next_cursor;
      older.hidden = !olderCursor;
    }
    paint();
    const newest = page.messages[0];
    if (newest) post(`/v1/conversations/${id}/read`, { message_id: newest.id }).catch(() => {});
  }

  async function loadOlder() {
    if (!olderCursor) return;
    const page = await get(`/v1/conversations/${id}/messages?limit=50&cursor=${olderCursor}`);
    for (const m of page.messages) messages.set(m.id, m);
    olderCursor = page.next_cursor;
    older.hidden = !olderCursor;
    const before = scroller.scrollHeight;
    paint();
    scroller.scrollTop += scroller.scrollHeight - before;
  }

  const text = h("input", { id: "composer", class: "composer-input", maxlength: 1000, autocomplete: "off", "aria-label": t("message") });
  const attempt = new Attempt();
  const composer = h(
    "form",
    {
      class: "composer",
      async onsubmit(e) {
        e.preventDefault();
        const body = text.value.trim();
        if (!body) return;
        try {
          const m = await attempt.send(`/v1/conversations/${id}/messages`, { text: body });
          messages.set(m.id, m);
          text.value = "";
          paint();
        } catch (err) {
          toast(err instanceof ApiError && err.status === 0 ? t("error_network") : err.message, "error");
        }
      },
    },
    h(
      "a",
      {
        class: "packet-btn",
        id: "send-packet",
        href: conv.kind === "group" ? `/app/send/group/${conv.group_id}?c=${id}` : `/app/send/friend/${conv.peer.id}?c=${id}`,
        "aria-label": t("send_packet"),
      },
      icon("packet", { size: 26 }),
    ),
    text,
    h("button", { type: "submit", class: "primary small" }, t("send")),
  );

  await loadNewest();
  const el = h("div", { class: "chat" }, scroller, composer);
  const title = conv.kind === "group" ? `${conv.title} (${conv.members})` : conv.title;
  return { el, title, back: "/app", refresh: loadNewest };
}
