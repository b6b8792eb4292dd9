// Friends: ask someone by username, answer the requests waiting for you, withdraw yours, see and remove friends.

import { ApiError, api, get, post } from "../../api.js";
import { avatar, h, mount, toast } from "../../dom.js";
import { extend, t } from "../../i18n.js";
import { confirmButton } from "./confirm.js";
import { actionForm, errorLine } from "./kit.js";

extend({
  zh: {
    friend_find: "按用户名添加好友",
    friend_ask: "发送请求",
    friend_requests: "新的朋友",
    friend_accept: "接受",
    friend_decline: "拒绝",
    friend_asked: "已发送好友请求",
    friend_now: "你们已是好友",
    friend_no_user: "没有这个用户",
    friend_sent: "我发出的请求",
    friend_waiting: "等待验证",
    friend_withdraw: "撤回",
    friend_withdrawn: "已撤回好友请求",
    friend_remove: "删除",
    friend_remove_label: "删除好友 {name}",
    friend_remove_ask: "删除好友{name}？",
    friend_removed: "已删除好友",
  },
  en: {
    friend_find: "Add a friend by username",
    friend_ask: "Send request",
    friend_requests: "Friend requests",
    friend_accept: "Accept",
    friend_decline: "Decline",
    friend_asked: "Friend request sent",
    friend_now: "You are friends now",
    friend_no_user: "No such user",
    friend_sent: "Requests you sent",
    friend_waiting: "Waiting for an answer",
    friend_withdraw: "Withdraw",
    friend_withdrawn: "Friend request withdrawn",
    friend_remove: "Remove",
    friend_remove_label: "Remove friend {name}",
    friend_remove_ask: "Remove {name} from your friends?",
    friend_removed: "Friend removed",
  },
});

export async function render(ctx) {
  const username = h("input", { id: "friend-username", autocomplete: "off", autocapitalize: "none", placeholder: t("username"), maxlength: 64 });
  const error = errorLine("friend-error");
  const requests = h("ul", { class: "list", id: "friend-requests", "aria-label": t("friend_requests") });
  const sent = h("ul", { class: "list", id: "friend-sent", "aria-label": t("friend_sent") });
  const sentTitle = h("h2", { class: "section" }, t("friend_sent"));
  const friends = h("ul", { class: "list", id: "friend-list", "aria-label": t("friends") });

  const answer = (id, verb) => async () => {
    try {
      await post(`/v1/friends/requests/${id}/${verb}`);
      if (verb === "accept") toast(t("friend_now"));
      await load();
    } catch (err) {
      toast(err.message, "error");
    }
  };

  // DELETE /v1/friends/{id} unfriends, or withdraws the request we sent and they have not answered.
  async function unfriend(id, done) {
    await api("DELETE", `/v1/friends/${id}`);
    toast(t(done));
    await load();
  }

  const withdraw = (id) => async () => {
    try {
      await unfriend(id, "friend_withdrawn");
    } catch (err) {
      toast(err.message, "error");
    }
  };

  const person = (u) => h("span", { class: "row-main" }, h("span", { class: "row-title" }, u.display_name), h("span", { class: "row-sub" }, `@${u.username}`));

  async function load() {
    const mine = await get("/v1/friends");
    const mineSent = mine.sent ?? []; // a server without the `sent` list: nothing to withdraw here
    sentTitle.hidden = sent.hidden = !mineSent.length;
    mount(
      sent,
      mineSent.map((u) =>
        h(
          "li",
          { class: "claim", "data-sent": u.id },
          avatar(u.display_name),
          h("span", { class: "row-main" }, h("span", { class: "row-title" }, u.display_name), h("span", { class: "row-sub" }, `@${u.username} · ${t("friend_waiting")}`)),
          h("button", { type: "button", class: "ghost small", "data-withdraw": u.id, "aria-label": `${t("friend_withdraw")} ${u.display_name}`, onclick: withdraw(u.id) }, t("friend_withdraw")),
        ),
      ),
    );
    mount(
      requests,
      mine.requests.length
        ? mine.requests.map((u) =>
            h(
              "li",
              { class: "claim", "data-request": u.id },
              avatar(u.display_name),
              person(u),
              h("button", { type: "button", class: "primary small", "data-accept": u.id, onclick: answer(u.id, "accept") }, t("friend_accept")),
              h("button", { type: "button", class: "ghost small", "data-decline": u.id, onclick: answer(u.id, "decline") }, t("friend_decline")),
            ),
          )
        : h("li", { class: "muted center pad" }, t("nothing_yet")),
    );
    mount(
      friends,
      mine.friends.length
        ? mine.friends.map((u) =>
            h(
              "li",
              { class: "claim", "data-friend": u.id },
              avatar(u.display_name),
              person(u),
              confirmButton({
                label: t("friend_remove"),
                question: t("friend_remove_ask", { name: u.display_name }),
                attrs: { "data-remove": u.id, "aria-label": t("friend_remove_label", { name: u.display_name }) },
                act: () => unfriend(u.id, "friend_removed"),
              }),
            ),
          )
        : h("li", { class: "muted center pad" }, t("nothing_yet")),
    );
  }

  const form = actionForm(
    "inline",
    error,
    async () => {
      const name = username.value.trim();
      if (!name) throw new Error(t("friend_no_user"));
      let user;
      try {
        user = await get(`/v1/users?username=${encodeURIComponent(name)}`);
      } catch (err) {
        throw err instanceof ApiError && err.status === 404 ? new Error(t("friend_no_user")) : err;
      }
      const reply = await post("/v1/friends/requests", { user_id: user.id });
      toast(reply.status === "accepted" ? t("friend_now") : t("friend_asked"));
      username.value = "";
      await load();
    },
    username,
    h("button", { type: "submit", class: "primary small", id: "friend-request" }, t("friend_ask")),
  );

  await load();
  const el = h(
    "div",
    { class: "friends" },
    h("section", { class: "card" }, h("h2", {}, t("friend_find")), form, error),
    h("h2", { class: "section" }, t("friend_requests")),
    requests,
    sentTitle,
    sent,
    h("h2", { class: "section" }, t("friends")),
    friends,
  );
  return { el, title: t("friends"), back: "/app/more", refresh: load };
}
