// A group's red packets as envelope bubbles, oldest at the top, live (for servers without conversations).

import { get } from "../api.js";
import { avatar, h, mount } from "../dom.js";
import { t } from "../i18n.js";
import { icon } from "../icons.js";
import { bubble } from "./common.js";

export async function render(ctx) {
  const id = Number(ctx.params[0]);
  const me = ctx.me;
  const group = await get(`/v1/groups/${id}`);
  const names = Object.fromEntries(group.members.map((m) => [m.id, m.display_name]));
  const list = h("ol", { class: "messages", id: "messages", "aria-label": group.name });
  const scroller = h("div", { class: "chat-scroll" }, list);

  async function load() {
    const page = await get(`/v1/groups/${id}/packets?limit=50`);
    const packets = [...page.packets].reverse();
    mount(
      list,
      packets.length
        ? packets.map((p) => {
            const mine = p.sender_id === me.id;
            return h(
              "li",
              { class: `msg ${mine ? "mine" : "theirs"}` },
              avatar(names[p.sender_id]),
              h("div", { class: "msg-body" }, mine ? null : h("span", { class: "msg-name" }, names[p.sender_id] ?? ""), bubble(p, { mine })),
            );
          })
        : h("li", { class: "muted center pad" }, t("empty_packets")),
    );
    scroller.scrollTop = scroller.scrollHeight;
  }

  await load();
  const bar = h(
    "div",
    { class: "composer" },
    h("a", { class: "primary wide center-text", id: "send-packet", href: `/app/send/group/${id}` }, icon("packet"), " ", t("send_packet")),
  );
  return { el: h("div", { class: "chat" }, scroller, bar), title: `${group.name} (${group.members.length})`, back: "/app", refresh: load };
}
