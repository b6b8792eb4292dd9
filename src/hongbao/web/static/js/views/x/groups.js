// Groups: create one from your friends, add a friend to a group you are in; the owner removes members, others leave.

import { api, get, post } from "../../api.js";
import { avatar, h, mount, toast } from "../../dom.js";
import { extend, t } from "../../i18n.js";
import { confirmButton } from "./confirm.js";
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
    group_members: "群成员",
    group_owner: "群主",
    group_remove: "移出",
    group_remove_label: "将{name}移出群聊",
    group_remove_ask: "将{name}移出“{group}”？",
    group_removed: "已移出群聊",
    group_leave: "退出群聊",
    group_leave_ask: "退出“{group}”？",
    group_left: "已退出“{group}”",
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
    group_members: "Members",
    group_owner: "Owner",
    group_remove: "Remove",
    group_remove_label: "Remove {name} from the group",
    group_remove_ask: "Remove {name} from “{group}”?",
    group_removed: "Removed from the group",
    group_leave: "Leave group",
    group_leave_ask: "Leave “{group}”?",
    group_left: "You left “{group}”",
  },
});

export async function render(ctx) {
  const name = h("input", { id: "group-name", maxlength: 64, placeholder: t("group_name") });
  const picks = h("div", { id: "group-members", class: "form" });
  const error = errorLine("group-error");
  const list = h("ul", { class: "list", id: "group-list", "aria-label": t("groups") });
  let friends = [];
  const opened = new Set(); // member lists left open stay open when the page reloads what it shows

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

  // Who may do what follows GET /v1/groups/{id}: its owner removes others; everyone else may leave.
  function members(g) {
    const owner = g.owner_id === ctx.me?.id;
    const rows = g.members.map((m) =>
      h(
        "li",
        { class: "member", "data-member-of": g.id, "data-user": m.id },
        h("span", { class: "row-main" }, h("span", { class: "row-title" }, m.display_name, m.id === g.owner_id ? h("span", { class: "tag" }, t("group_owner")) : null)),
        owner && m.id !== g.owner_id
          ? confirmButton({
              label: t("group_remove"),
              question: t("group_remove_ask", { name: m.display_name, group: g.name }),
              attrs: { "data-remove-member": m.id, "aria-label": t("group_remove_label", { name: m.display_name }) },
              act: async () => {
                await api("DELETE", `/v1/groups/${g.id}/members/${m.id}`);
                toast(t("group_removed"));
                await load();
              },
            })
          : null,
      ),
    );
    const leave = owner
      ? null
      : confirmButton({
          label: t("group_leave"),
          question: t("group_leave_ask", { group: g.name }),
          attrs: { "data-leave": g.id },
          act: async () => {
            await post(`/v1/groups/${g.id}/leave`);
            toast(t("group_left", { group: g.name }));
            ctx.go("/app/x/groups", { replace: true }); // back to the list, now without this group
          },
        });
    return h(
      "details",
      { class: "members", "data-members": g.id, open: opened.has(g.id), ontoggle: (e) => (e.target.open ? opened.add(g.id) : opened.delete(g.id)) },
      h("summary", {}, `${t("group_members")} (${g.members.length})`),
      h("ul", { class: "member-list", "aria-label": `${g.name} · ${t("group_members")}` }, rows),
      leave,
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
                members(g),
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
