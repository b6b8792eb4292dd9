// Pieces several pages share: the red-envelope bubble, message previews, times, names.

import { h } from "../dom.js";
import { labelled, lang, t } from "../i18n.js";
import { noticeText } from "./notices.js";

export { noticeText }; // the server's notices, worded in the reader's language (views/notices.js)

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
      "aria-label": `${labelled(kindLabel(p), p.greeting || t("greeting_default"))}${done ? ` (${t(`status_${p.status}`)})` : ""}`,
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

/** Date and time, as a statement or a record shows them: "2月18日 20:00" (with the year when not this year). */
export function dateTime(iso) {
  const d = new Date(iso);
  const locale = lang() === "zh" ? "zh-CN" : "en-GB";
  const day = { month: "short", day: "numeric", ...(d.getFullYear() === new Date().getFullYear() ? {} : { year: "numeric" }) };
  return `${d.toLocaleDateString(locale, day)} ${d.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" })}`;
}

/** A chat's time label: today only the time, else the date and time. */
export function chatTime(iso) {
  const d = new Date(iso);
  if (d.toDateString() !== new Date().toDateString()) return dateTime(iso);
  return d.toLocaleTimeString(lang() === "zh" ? "zh-CN" : "en-GB", { hour: "2-digit", minute: "2-digit" });
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
