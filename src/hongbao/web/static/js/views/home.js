// Home: your conversations (where the server has them), then your groups and friends to start one.

import { capabilities, get, post } from "../api.js";
import { avatar, h, mount } from "../dom.js";
import { extend, t } from "../i18n.js";
import { preview, shortTime } from "./common.js";
import { pager, reloadLimit } from "./pager.js";

extend({
  zh: { chats_more: "加载更多聊天" },
  en: { chats_more: "Load more chats" },
});

export async function render(ctx) {
  const caps = await capabilities();
  const chats = caps.has("get", "/v1/conversations");
  const list = h("ul", { class: "list", id: "conversations", "aria-label": t("chats") });
  const contacts = h("div", { class: "contacts" });
  // Newest activity first, a page at a time; a chat that becomes active moves to the top on the next refresh.
  const more = pager({
    id: "conversations-more",
    label: t("chats_more"),
    controls: "conversations",
    path: "/v1/conversations",
    show(page) {
      const shown = new Set([...list.querySelectorAll("[data-conversation]")].map((a) => Number(a.dataset.conversation)));
      list.append(...page.conversations.filter((c) => !shown.has(c.id)).map(conversationRow));
    },
  });
  let names = {};

  async function openWith(body) {
    const conv = await post("/v1/conversations", body);
    ctx.go(`/app/c/${conv.id}`);
  }

  function conversationRow(c) {
    return h(
      "li",
      {},
      h(
        "a",
        { class: "row", href: `/app/c/${c.id}`, "data-conversation": c.id },
        avatar(c.title, c.kind === "group" ? "group" : ""),
        h(
          "span",
          { class: "row-main" },
          h("span", { class: "row-title" }, c.title),
          h("span", { class: "row-sub" }, c.last_message ? preview(c.last_message, names) : ""),
        ),
        h(
          "span",
          { class: "row-side" },
          h("span", { class: "row-time" }, c.last_message ? shortTime(c.last_message.created_at) : ""),
          c.unread_count
            ? h("span", { class: "badge", "aria-label": `${c.unread_count} ${t("new_message")}` }, String(c.unread_count))
            : null,
        ),
      ),
    );
  }

  async function load() {
    const shown = list.querySelectorAll("[data-conversation]").length;
    const [groups, friends, convs] = await Promise.all([
      get("/v1/groups"),
      get("/v1/friends"),
      chats ? get(`/v1/conversations?limit=${reloadLimit(shown)}`) : Promise.resolve(null),
    ]);
    names = { [ctx.me.id]: t("you") };
    for (const f of friends.friends) names[f.id] = f.display_name;
    if (convs) {
      mount(list, convs.conversations.length ? convs.conversations.map(conversationRow) : h("li", { class: "muted center pad" }, t("empty_chats")));
      more.from(convs);
    }
    const groupRow = (g) =>
      h(
        "li",
        {},
        chats
          ? h("button", { type: "button", class: "row", "data-group": g.id, onclick: () => openWith({ group_id: g.id }) }, avatar(g.name, "group"), h("span", { class: "row-title" }, g.name))
          : h("a", { class: "row", href: `/app/group/${g.id}`, "data-group": g.id }, avatar(g.name, "group"), h("span", { class: "row-title" }, g.name)),
      );
    const friendRow = (f) =>
      h(
        "li",
        {},
        chats
          ? h("button", { type: "button", class: "row", "data-friend": f.id, onclick: () => openWith({ user_id: f.id }) }, avatar(f.display_name), h("span", { class: "row-title" }, f.display_name))
          : h("a", { class: "row", href: `/app/send/friend/${f.id}`, "data-friend": f.id }, avatar(f.display_name), h("span", { class: "row-main" }, h("span", { class: "row-title" }, f.display_name), h("span", { class: "row-sub" }, t("send_packet")))),
      );
    mount(
      contacts,
      h("h2", { class: "section" }, t("groups")),
      h("ul", { class: "list", id: "groups" }, groups.length ? groups.map(groupRow) : h("li", { class: "muted center pad" }, t("nothing_yet"))),
      h("h2", { class: "section" }, t("friends")),
      h("ul", { class: "list", id: "friends" }, friends.friends.length ? friends.friends.map(friendRow) : h("li", { class: "muted center pad" }, t("nothing_yet"))),
    );
  }

  await load();
  const el = h("div", { class: "home" }, chats ? [h("h2", { class: "sr-only" }, t("chats")), list, more.button] : null, contacts);
  return { el, title: t("chats"), refresh: load };
}
