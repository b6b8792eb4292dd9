// Groups: create one from your friends, and add a friend to a group you are in.

import { get, post } from "../../api.js";
import { avatar, h, mount, toast } from "../../dom.js";
import { extend, t } from "../../i18n.js";
import { actionForm, errorLine, showError } from "./kit.js";

extend({
  zh: {
    group_new: "发起群聊",
    group_name: "群名称",
    group_pick: "选择好友",
    group_create: "创建群聊",
    group_created: "群聊已创建",
    group_add: "添加",
    group_added: "已加入群聊",
    group_no_friends: "先添加好友",
    group_all_in: "好友都已在群里",
  },
  en: {
    group_new: "New group",
    group_name: "Group name",
    group_pick: "Choose friends",
    group_create: "Create group",
    group_created: "Group created",
    group_add: "Add",
    group_added: "Added to the group",
    group_no_friends: "Add some friends first",
    group_all_in: "All your friends are in it",
  },
});

export async function render(ctx) {
  const name = h("input", { id: "group-name", maxlength: 64, placeholder: t("group_name") });
  const picks = h("div", { id: "group-members", class: "form" });
  const error = errorLine("group-error");
  const list = h("ul", { class: "list", id: "group-list", "aria-label": t("groups") });
  let friends = [];

  function addForm(g) {
    const inside = new Set(g.members.map((m) => m.id));
    const candidates = friends.filter((f) => !inside.has(f.id));
    if (!candidates.length) return h("p", { class: "row-sub" }, t("group_all_in"));
    const pick = h("select", { "data-add-to": g.id }, candidates.map((f) => h("option", { value: String(f.id) }, f.display_name)));
    const line = errorLine(`group-add-error-${g.id}`);
    return actionForm(
      "inline",
      line,
      async () => {
        await post(`/v1/groups/${g.id}/members`, { user_id: Number(pick.value) });
        toast(t("group_added"));
        await load();
      },
      pick,
      h("button", { type: "submit", class: "secondary small", "data-add": g.id }, t("group_add")),
      line,
    );
  }

  async function load() {
    const [mine, groups] = await Promise.all([get("/v1/friends"), get("/v1/groups")]);
    friends = mine.friends;
    mount(
      picks,
      friends.length
        ? friends.map((f) =>
            h("label", { class: "check-row" }, h("input", { type: "checkbox", class: "check", value: String(f.id), "data-member": f.username }), f.display_name),
          )
        : h("p", { class: "muted" }, t("group_no_friends")),
    );
    const full = await Promise.all(groups.map((g) => get(`/v1/groups/${g.id}`)));
    mount(
      list,
      full.length
        ? full.map((g) =>
            h(
              "li",
              { class: "claim", "data-group": g.id },
              avatar(g.name, "group"),
              h(
                "span",
                { class: "row-main" },
                h("a", { class: "row-title", href: `/app/group/${g.id}` }, `${g.name} (${g.members.length})`),
                h("span", { class: "row-sub" }, g.members.map((m) => m.display_name).join("、")),
                addForm(g),
              ),
            ),
          )
        : h("li", { class: "muted center pad" }, t("nothing_yet")),
    );
  }

  const form = actionForm(
    "form",
    error,
    async () => {
      const member_ids = [...picks.querySelectorAll("input:checked")].map((box) => Number(box.value));
      const group = await post("/v1/groups", { name: name.value.trim(), member_ids });
      toast(t("group_created"));
      name.value = "";
      await load();
      return group;
    },
    h("label", { for: "group-name" }, t("group_name")),
    name,
    h("label", {}, t("group_pick")),
    picks,
    h("button", { type: "submit", class: "primary wide", id: "create-group" }, t("group_create")),
    error,
  );

  try {
    await load();
  } catch (err) {
    showError(error, err);
  }
  const el = h("div", { class: "groups" }, h("section", { class: "card" }, h("h2", {}, t("group_new")), form), h("h2", { class: "section" }, t("groups")), list);
  return { el, title: t("groups"), back: "/app/more", refresh: load };
}
