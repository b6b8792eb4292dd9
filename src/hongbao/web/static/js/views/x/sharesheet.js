// The share sheet: the sender picks a platform and gets the packet's link tagged with it, to copy or share.

import { ApiError, api, session } from "../../api.js";
import { h, mount } from "../../dom.js";
import { extend, t } from "../../i18n.js";
import { icon } from "../../icons.js";
import { errorLine } from "./kit.js";

extend({
  zh: {
    share_btn: "分享",
    share_to: "分享到",
    share_embed_phrase: "把口令放进链接（拿到链接的人不用输入口令）",
    share_embed_code: "把数字口令放进链接（拿到链接的人不用输入）",
    share_copy_link: "复制链接",
    share_copy_text: "复制分享文字",
    share_text: "{sender}发了一个红包「{greeting}」，点开领取：{url}",
    share_text_copied: "分享文字已复制，去{platform}粘贴吧",
    share_qr: "扫码领取",
    share_qr_hint: "发不了链接时，让对方扫这个码",
    share_native: "用其他应用分享…",
    share_card: "保存口令卡片",
    share_card_hint: "发不了链接的地方，就发这张卡片",
    share_copied: "链接已复制，去{platform}粘贴吧",
    share_copy_by_hand: "请长按链接手动复制",
    share_close: "关闭",
    share_url_label: "{platform}分享链接",
    share_not_yours: "只有发红包的人可以分享它",
    share_not_shareable: "只有面对面、口令、明星和企业红包可以分享链接",
    share_nothing_to_embed: "这个红包没有口令可放进链接",
    platform_wechat: "微信",
    platform_qq: "QQ",
    platform_weibo: "微博",
    platform_alipay: "支付宝",
    platform_laiwang: "来往",
  },
  en: {
    share_btn: "Share",
    share_to: "Share to",
    share_embed_phrase: "Put the phrase in the link (whoever has it need not type it)",
    share_embed_code: "Put the code in the link (whoever has it need not type it)",
    share_copy_link: "Copy link",
    share_copy_text: "Copy a message",
    share_text: "{sender} sent a red packet “{greeting}”: open it at {url}",
    share_text_copied: "Message copied: paste it in {platform}",
    share_qr: "Scan to open",
    share_qr_hint: "Where a link cannot go, let them scan this",
    share_native: "Share with another app…",
    share_card: "Save the password card",
    share_card_hint: "Where links are blocked, send this card instead",
    share_copied: "Link copied: paste it in {platform}",
    share_copy_by_hand: "Select the link and copy it by hand",
    share_close: "Close",
    share_url_label: "Link to share on {platform}",
    share_not_yours: "Only the sender can share this red packet",
    share_not_shareable: "Only face-to-face, password, celebrity and company packets have share links",
    share_nothing_to_embed: "This packet has no phrase or code to put in the link",
    platform_wechat: "WeChat",
    platform_qq: "QQ",
    platform_weibo: "Weibo",
    platform_alipay: "Alipay",
    platform_laiwang: "Laiwang",
  },
});

/** Kinds the server makes share links for (service/sharing.py SHAREABLE); only their sender may. */
export const SHAREABLE = new Set(["face_to_face", "password", "celebrity", "enterprise"]);
/** The server's platforms (domain/open_kinds.py Platform), most used first. */
export const PLATFORMS = ["wechat", "qq", "weibo", "alipay", "laiwang"];
const REFUSALS = { packet_not_found: "share_not_yours", not_shareable: "share_not_shareable", nothing_to_embed: "share_nothing_to_embed" };

/** Whether the server would let `me` make share links for `packet` ({kind, sender_id}). */
export function mayShare(packet, me) {
  return Boolean(me) && packet.sender_id === me.id && SHAREABLE.has(packet.kind);
}

/** A button that opens the share sheet for `packet` ({id, kind, greeting}). */
export function shareButton(packet, { cls = "secondary wide" } = {}) {
  return h(
    "button",
    { type: "button", class: cls, id: "share-btn", "aria-haspopup": "dialog", onclick: () => openShareSheet(packet) },
    icon("link", { size: 18 }),
    " ",
    t("share_btn"),
  );
}

/** Copy `text`: the async clipboard where allowed, else select `field` and copy the old way. True if copied. */
export async function copyText(text, field) {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // not a secure context, or permission refused: fall back below
  }
  field.focus();
  field.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  }
}

/**
 * Open the sheet as a modal dialog: picking a platform makes (or reuses) the packet's link through
 * POST /v1/packets/{id}/shares, which counts one share for that platform, and copies the tagged URL.
 */
export function openShareSheet(packet) {
  document.getElementById("share-sheet")?.remove();
  const links = new Map(); // "platform|embed" -> url: a platform picked twice is counted once
  const error = errorLine("share-error");
  // The toast sits under a modal dialog (the top layer): the sheet says what happened itself.
  const status = h("p", { class: "hint", id: "share-status", role: "status", "aria-live": "polite" });
  const field = h("input", { class: "copy-field", id: "share-url", readonly: true, "aria-label": t("share_link") });
  const secretKind = packet.kind === "password" ? "phrase" : packet.kind === "face_to_face" ? "code" : null;
  const embed = secretKind ? h("input", { type: "checkbox", class: "check", id: "share-embed" }) : null;
  let picked = null;
  let ticket = 0; // two quick taps: only the last platform's answer is shown

  const copyBtn = h("button", { type: "button", class: "primary", id: "share-copy" }, t("share_copy_link"));
  const textBtn = h("button", { type: "button", class: "secondary", id: "share-copy-text" }, t("share_copy_text"));
  const nativeBtn = navigator.share ? h("button", { type: "button", class: "secondary", id: "share-native" }, t("share_native")) : null;
  const linkBox = h("div", { class: "share-link", hidden: true }, field, h("div", { class: "inline share-actions" }, copyBtn, textBtn, nativeBtn));
  const message = () => t("share_text", { sender: packet.sender_name ?? "", greeting: packet.greeting || t("greeting_default"), url: field.value });

  const platformButtons = PLATFORMS.map((p) =>
    h("button", { type: "button", class: "platform", "data-platform": p, "aria-pressed": "false", onclick: () => pick(p) }, t(`platform_${p}`)),
  );

  async function linkFor(platform) {
    const embedSecret = embed?.checked ?? false;
    const key = `${platform}|${embedSecret}`;
    if (!links.has(key)) {
      const reply = await api("POST", `/v1/packets/${packet.id}/shares`, { body: { platform, embed_secret: embedSecret } });
      links.set(key, reply.url);
    }
    return links.get(key);
  }

  async function pick(platform) {
    error.hidden = true;
    status.textContent = "";
    picked = platform;
    const mine = ++ticket;
    for (const b of platformButtons) b.setAttribute("aria-pressed", String(b.dataset.platform === platform));
    let url;
    try {
      url = await linkFor(platform);
    } catch (err) {
      if (mine !== ticket) return;
      picked = null;
      for (const b of platformButtons) b.setAttribute("aria-pressed", "false");
      linkBox.hidden = true;
      const known = err instanceof ApiError ? REFUSALS[err.code] : null;
      error.textContent = known ? t(known) : err instanceof ApiError && err.status === 0 ? t("error_network") : err.message;
      error.hidden = false;
      return;
    }
    if (mine !== ticket) return;
    field.value = url;
    field.dataset.platform = platform;
    field.setAttribute("aria-label", t("share_url_label", { platform: t(`platform_${platform}`) }));
    linkBox.hidden = false;
    await copy();
  }

  async function copy() {
    const copied = await copyText(field.value, field);
    status.textContent = copied ? t("share_copied", { platform: t(`platform_${picked}`) }) : t("share_copy_by_hand");
  }

  copyBtn.addEventListener("click", copy);
  textBtn.addEventListener("click", async () => {
    const copied = await copyText(message(), field);
    status.textContent = copied ? t("share_text_copied", { platform: t(`platform_${picked}`) }) : t("share_copy_by_hand");
  });
  nativeBtn?.addEventListener("click", async () => {
    try {
      await navigator.share({ title: t("app_name"), text: message(), url: field.value });
    } catch (err) {
      if (err?.name !== "AbortError") status.textContent = err.message;
    }
  });
  embed?.addEventListener("change", () => picked && pick(picked));

  const card = packet.kind === "password" ? h("div", { class: "share-card", id: "share-card" }) : null;
  const qr = h("div", { class: "share-card", id: "share-qr" });
  const dialog = h(
    "dialog",
    { class: "sheet", id: "share-sheet", "aria-labelledby": "share-sheet-title" },
    h(
      "div",
      { class: "sheet-head" },
      h("h2", { id: "share-sheet-title" }, t("share_to")),
      h("button", { type: "button", class: "ghost small", id: "share-close", onclick: () => dialog.close() }, t("share_close")),
    ),
    h("div", { class: "platforms", role: "group", "aria-labelledby": "share-sheet-title" }, platformButtons),
    embed ? h("label", { class: "check-row", for: "share-embed" }, embed, t(secretKind === "phrase" ? "share_embed_phrase" : "share_embed_code")) : null,
    error,
    linkBox,
    status,
    qr,
    card,
  );
  // Leaving the page (the browser's back button) closes the sheet with it.
  const leave = () => dialog.close();
  window.addEventListener("popstate", leave);
  dialog.addEventListener("close", () => {
    window.removeEventListener("popstate", leave);
    dialog.remove();
  });
  document.body.append(dialog);
  dialog.showModal();
  if (card) fillCard(card, packet.id, dialog);
  fillQr(qr, packet.id, dialog);
  return dialog;
}

/**
 * An image of the packet's own (`/v1/packets/{id}/<name>`, fetched with the bearer token) as an object URL that
 * lives as long as the sheet; null without an answer (the link still works without it).
 */
async function packetImage(packetId, name, dialog) {
  try {
    const reply = await fetch(`/v1/packets/${packetId}/${name}`, { headers: { Authorization: `Bearer ${session.token}` } });
    if (!reply.ok) return null;
    const src = URL.createObjectURL(await reply.blob());
    dialog.addEventListener("close", () => URL.revokeObjectURL(src));
    return src;
  } catch {
    return null;
  }
}

/** The QR code of the packet's link: for a phone beside you, or a screenshot where a link cannot go. */
async function fillQr(box, packetId, dialog) {
  const src = await packetImage(packetId, "qr.png", dialog);
  if (src) mount(box, h("p", { class: "share-qr-title" }, t("share_qr")), h("img", { class: "qr-image", src, alt: t("share_qr"), width: 160, height: 160 }), h("p", { class: "hint" }, t("share_qr_hint")));
}

/** The password card with a link that saves it as a PNG file. */
async function fillCard(box, packetId, dialog) {
  const src = await packetImage(packetId, "card.png", dialog);
  if (!src) return;
  mount(
    box,
    h("img", { class: "card-image", src, alt: t("share_card") }),
    h("a", { class: "primary wide", id: "share-card-download", href: src, download: `hongbao-${packetId}.png` }, t("share_card")),
    h("p", { class: "hint" }, t("share_card_hint")),
  );
}
