// Pieces several pages share: the red-envelope bubble, message previews, times, names.

import { h } from "../dom.js";
import { lang, t } from "../i18n.js";
import { yuan } from "../money.js";

export function kindLabel(p) {
  const own = t(`kind_label_${p.kind}`);
  if (p.kind !== "group" && p.kind !== "personal" && own !== `kind_label_${p.kind}`) return own;
  if (p.kind === "group" || p.group_id) {
    return p.split === "equal" ? t("equal_packet") : t("lucky_packet");
  }
  return t("personal_packet");
}

/** A red-envelope bubble; `p` has packet_id or id, greeting, kind, split, and maybe status. */
export function bubble(p, { mine = false, opened = false } = {}) {
  const id = p.packet_id ?? p.id;
  const done = p.status && p.status !== "active";
  return h(
    "a",
    {
      class: `bubble${done || opened ? " faded" : ""}${mine ? " mine" : ""}`,
      href: `/app/packet/${id}`,
      "data-packet": id,
      "aria-label": `${kindLabel(p)}: ${p.greeting || t("greeting_default")}${done ? ` (${t(`status_${p.status}`)})` : ""}`,
    },
    h(
      "span",
      { class: "bubble-top" },
      h("span", { class: "bubble-icon", "aria-hidden": "true" }, h("span", { class: "coin tiny" }, "¥")),
      h(
        "span",
        { class: "bubble-text" },
        h("span", { class: "bubble-greeting" }, p.greeting || t("greeting_default")),
        done ? h("span", { class: "bubble-status" }, t(`status_${p.status}`)) : null,
      ),
    ),
    h("span", { class: "bubble-foot" }, kindLabel(p)),
  );
}

export function preview(m, names = {}) {
  if (m.type === "packet") return `[${t("personal_packet")}] ${m.text || t("greeting_default")}`;
  if (m.type === "text") return m.sender_name ? `${m.sender_name}: ${m.text}` : m.text;
  return noticeText(m, names);
}

/** A claim / best-luck / system notice in the reader's language where we know its shape. */
export function noticeText(m, names) {
  const d = m.data || {};
  const name = (id) => names[id] ?? null;
  if (m.type === "claim" && name(d.user_id) && name(d.sender_id)) {
    if (d.user_id === d.sender_id) return t("notice_opened_own", { who: name(d.user_id) });
    return t("notice_opened", { who: name(d.user_id), sender: name(d.sender_id) });
  }
  if (m.type === "best_luck" && name(d.user_id)) {
    return t("notice_best_luck", { who: name(d.user_id), amount: yuan(d.amount_fen) });
  }
  if (d.event === "packet_expired" && name(d.sender_id)) {
    return t("notice_expired", { sender: name(d.sender_id), amount: yuan(d.refunded_fen) });
  }
  return m.text;
}

export function shortTime(iso) {
  const d = new Date(iso);
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  const locale = lang() === "zh" ? "zh-CN" : "en-GB";
  return sameDay
    ? d.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleDateString(locale, { month: "short", day: "numeric" });
}
