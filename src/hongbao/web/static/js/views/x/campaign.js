// 企业红包: a company's campaign page with its branding, and the button that draws a prize.

import { Attempt, get } from "../../api.js";
import { avatar, h, mount } from "../../dom.js";
import { extend, labelled, lang, t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { errorLine, showError } from "./kit.js";

extend({
  zh: {
    campaign_following: "我关注的账号的活动",
    campaign_following_none: "你关注的账号现在没有进行中的活动。关注企业账号后，它们发给关注者的红包会出现在这里；凭链接领取的活动请打开企业给你的链接。",
    campaign_mine: "我发起的活动",
    campaign_figures: "数据",
    campaign_pool: "摇一摇奖池",
    campaign_closed: "已结束",
    campaign_have_id: "有活动编号？",
    campaign_cash: "恭喜！领到 {name} 的红包 {amount}，已存入零钱",
    campaign_coupon: "恭喜！领到 {name} 的优惠券",
  },
  en: {
    campaign_following: "From accounts you follow",
    campaign_following_none: "No campaigns running from accounts you follow. Follow a company and its campaigns for followers show up here; for a link campaign, open the link the company gave you.",
    campaign_mine: "Your campaigns",
    campaign_figures: "Figures",
    campaign_pool: "shake pool",
    campaign_closed: "ended",
    campaign_have_id: "Have a campaign number?",
    campaign_cash: "You got {amount} from {name}: added to your balance",
    campaign_coupon: "You got a coupon from {name}",
  },
});

export async function render(ctx) {
  const id = ctx.query.get("id");
  const token = ctx.query.get("token");
  if (!id) return pick(ctx);
  const c = await get(`/v1/campaigns/${encodeURIComponent(id)}${token ? `?token=${encodeURIComponent(token)}` : ""}`);
  const result = h("div", { class: "result", id: "campaign-result", role: "status" });
  const error = errorLine("campaign-error");
  const attempt = new Attempt();
  const button = h(
    "button",
    {
      type: "button",
      class: "coin big",
      id: "campaign-claim",
      "aria-label": t("campaign_claim"),
      async onclick() {
        error.hidden = true;
        button.disabled = true;
        try {
          const r = await attempt.send(`/v1/campaigns/${c.id ?? id}/claim`, token ? { token } : undefined);
          mount(
            result,
            r.kind === "cash"
              ? h("p", { class: "won", id: "campaign-won" }, t("campaign_cash", { name: c.name, amount: yuan(r.amount_fen) }))
              : h("p", { class: "won", id: "campaign-won" }, t("campaign_coupon", { name: c.name }), " ", h("a", { class: "link", href: "/app/x/coupons" }, t("feat_coupons"))),
          );
          button.hidden = true; // opened: the envelope shows what it held, as WeChat's does, not a 拆 to tap again
        } catch (err) {
          showError(error, err);
          button.disabled = false;
        }
      },
    },
    t("open_btn"),
  );
  const el = h(
    "div",
    { class: "envelope-stage" },
    h(
      "section",
      { class: "envelope", "aria-labelledby": "campaign-name" },
      h("div", { class: "flap", "aria-hidden": "true" }),
      h(
        "div",
        { class: "envelope-head" },
        c.logo_url ? h("img", { referrerpolicy: "no-referrer", src: c.logo_url, alt: "", class: "logo" }) : null,
        h("h2", { id: "campaign-name" }, c.name),
        c.cover_text ? h("p", { class: "envelope-greeting" }, c.cover_text) : null,
        c.ends_at ? h("p", { class: "hint light" }, t("campaign_until", { when: new Date(c.ends_at).toLocaleString() })) : null,
      ),
      button,
      error,
      result,
    ),
  );
  return { el, title: t("feat_campaign"), back: "/app/x/campaign" };
}

// Without ?id=: open campaigns of accounts the caller follows, the caller's own campaigns, and an id box.
async function pick(ctx) {
  const [following, mine] = await Promise.allSettled([get("/v1/campaigns/following"), get("/v1/campaigns")]);
  const error = errorLine("campaign-following-error");
  const when = (iso) => new Date(iso).toLocaleString(lang() === "zh" ? "zh-CN" : "en-GB", { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  let followed = h("li", { class: "muted center pad", id: "campaign-following-none" }, t("campaign_following_none"));
  if (following.status === "rejected") showError(error, following.reason);
  else if (following.value.campaigns.length) {
    followed = following.value.campaigns.map((c) =>
      h(
        "li",
        {},
        h(
          "a",
          { class: "row", href: `/app/x/campaign?id=${c.id}`, "data-campaign": c.id },
          c.logo_url ? h("img", { class: "avatar", referrerpolicy: "no-referrer", src: c.logo_url, alt: "" }) : avatar(c.owner_name),
          h(
            "span",
            { class: "row-main" },
            h("span", { class: "row-title" }, c.name),
            h("span", { class: "row-sub" }, [c.owner_name, c.cover_text].filter(Boolean).join(" · ")),
          ),
          h("span", { class: "row-side" }, h("span", { class: "row-time" }, t("campaign_until", { when: when(c.ends_at) }))),
        ),
      ),
    );
  }
  const own = mine.status === "fulfilled" ? mine.value.campaigns : [];
  const ownList = own.length
    ? h(
        "ul",
        { class: "list", id: "campaign-mine", "aria-label": t("campaign_mine") },
        own.map((c) => {
          // A shake pool is drawn from its event's page; the others from the campaign page.
          const page = c.channel === "shake" && c.event_id ? `/app/x/shake?event=${c.event_id}` : `/app/x/campaign?id=${c.id}`;
          const sub = [c.channel === "shake" ? t("campaign_pool") : null, c.status === "closed" ? t("campaign_closed") : t("campaign_until", { when: when(c.ends_at) })];
          return h(
            "li",
            { class: "row-split", "data-mine": c.id },
            h(
              "a",
              { class: "row", href: page, "data-open": c.id },
              c.logo_url ? h("img", { class: "avatar", referrerpolicy: "no-referrer", src: c.logo_url, alt: "" }) : avatar(c.name),
              h("span", { class: "row-main" }, h("span", { class: "row-title" }, c.name), h("span", { class: "row-sub" }, sub.filter(Boolean).join(" · "))),
            ),
            h("a", { class: "link", href: `/app/x/dashboard?id=${c.id}`, "data-figures": c.id, "aria-label": labelled(t("campaign_figures"), c.name) }, t("campaign_figures")),
          );
        }),
      )
    : null;
  const field = h("input", { id: "campaign-id", inputmode: "numeric", autocomplete: "off" });
  const form = h(
    "form",
    {
      class: "card form",
      onsubmit(e) {
        e.preventDefault();
        if (/^\d+$/.test(field.value.trim())) ctx.go(`/app/x/campaign?id=${field.value.trim()}`);
      },
    },
    h("h2", {}, t("campaign_have_id")),
    h("label", { for: "campaign-id" }, t("campaign_id")),
    field,
    h("p", { class: "hint" }, t("campaign_id_hint")),
    h("button", { type: "submit", class: "secondary wide" }, t("go")),
  );
  const el = h(
    "div",
    {},
    h("h2", { class: "section" }, t("campaign_following")),
    error,
    h("ul", { class: "list", id: "campaign-following", "aria-label": t("campaign_following") }, followed),
    ownList ? [h("h2", { class: "section" }, t("campaign_mine")), ownList] : null,
    form,
  );
  return { el, title: t("feat_campaign"), back: "/app/more" };
}
