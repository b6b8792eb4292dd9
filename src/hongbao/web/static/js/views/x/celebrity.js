// 明星红包: follow accounts (celebrities send packets to their followers); a verified celebrity sends one here.

import { api, get } from "../../api.js";
import { avatar, h, mount, toast } from "../../dom.js";
import { t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { copyLink, splitForm } from "../splitform.js";
import { errorLine, showError } from "./kit.js";
import { shareButton } from "./sharesheet.js";

export async function render(ctx) {
  const me = await get(`/v1/users/${ctx.me.id}/profile`);
  const list = h("ul", { class: "list", id: "following" });
  const found = h("div", { id: "found" });
  const username = h("input", { id: "find-username", autocomplete: "off", autocapitalize: "none", placeholder: "star" });
  const error = errorLine("find-error");

  function followButton(p, after) {
    return h(
      "button",
      {
        type: "button",
        class: p.followed_by_me ? "ghost small" : "primary small",
        "data-follow": p.id,
        async onclick() {
          try {
            await api(p.followed_by_me ? "DELETE" : "POST", `/v1/users/${p.id}/follow`);
            await after();
          } catch (err) {
            toast(err.message, "error");
          }
        },
      },
      p.followed_by_me ? t("unfollow") : t("follow"),
    );
  }

  function profileRow(p, after) {
    return h(
      "li",
      { class: "claim", "data-user": p.id },
      avatar(p.display_name),
      h("span", { class: "row-main" }, h("span", { class: "row-title" }, p.display_name, p.verified_as ? h("span", { class: "tag" }, t(`verified_${p.verified_as}`)) : null), h("span", { class: "row-sub" }, t("followers_n", { n: p.follower_count ?? 0 }))),
      followButton(p, after),
    );
  }

  async function load() {
    const { following } = await get("/v1/following");
    const profiles = await Promise.all(following.map((f) => get(`/v1/users/${f.id}/profile`)));
    mount(list, profiles.length ? profiles.map((p) => profileRow(p, load)) : h("li", { class: "muted center pad" }, t("nothing_yet")));
  }

  const find = h(
    "form",
    {
      class: "inline",
      async onsubmit(e) {
        e.preventDefault();
        error.hidden = true;
        try {
          const user = await get(`/v1/users?username=${encodeURIComponent(username.value.trim())}`);
          const show = async () => {
            const p = await get(`/v1/users/${user.id}/profile`);
            mount(found, h("ul", { class: "list" }, profileRow(p, show)));
            await load();
          };
          await show();
        } catch (err) {
          showError(error, err);
        }
      },
    },
    username,
    h("button", { type: "submit", class: "secondary" }, t("search")),
  );

  const sendBox = h("div", {});
  if (me.verified_as === "celebrity") {
    mount(
      sendBox,
      h("h2", { class: "section" }, t("celebrity_send")),
      splitForm({
        path: "/v1/packets/celebrity",
        shares: 100,
        async sent(reply) {
          toast(t("sent_ok"));
          const appLink = `${location.origin}/app/packet/${reply.id}`;
          mount(
            sendBox,
            h(
              "section",
              { class: "card center", id: "celebrity-sent" },
              h("h2", {}, t("celebrity_sent", { n: reply.shares_count, amount: yuan(reply.total_fen) })),
              h("p", { class: "hint" }, t("celebrity_link_hint")),
              copyLink(appLink),
              reply.share_url ? h("p", { class: "hint" }, reply.share_url) : null,
              shareButton({ ...reply, kind: "celebrity" }),
              h("a", { class: "primary wide", href: `/app/packet/${reply.id}?view=detail` }, t("see_details")),
            ),
          );
        },
      }),
    );
  }

  await load();
  const el = h(
    "div",
    {},
    sendBox,
    h("section", { class: "card" }, h("h2", {}, t("find_account")), find, error, found),
    h("section", { class: "card" }, h("h2", {}, t("following")), list),
  );
  return { el, title: t("feat_celebrity"), back: "/app/more" };
}
