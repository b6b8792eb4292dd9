// Notices the server posts in a conversation (claims, best luck, refunds, relay, ask and transfer steps), worded
// in the reader's language from their structured `data`; an event we do not know keeps the server's own text.

import { extend, t } from "../i18n.js";
import { yuan } from "../money.js";

extend({
  zh: {
    nt_you: "你",
    nt_opened: "{who}领取了{sender}的红包",
    nt_opened_mine: "{who}领取了你的红包",
    nt_opened_own: "{who}领取了自己的红包",
    nt_opened_own_me: "你领取了自己的红包",
    nt_best_luck: "{who}是手气最佳（{amount}）",
    nt_expired: "{sender}的红包已过期，{amount}已退回",
    nt_expired_mine: "你的红包已过期，{amount}已退回给你",
    nt_relay_round_started: "接龙第{round}轮：{who}发了{amount}",
    nt_relay_owed: "接龙：{who}手气最佳，要发第{round}轮",
    nt_relay_deadline_missed: "接龙结束：{who}没有按时发下一轮",
    nt_relay_round_expired: "接龙结束：最后一轮过期时还有红包没被抢完",
    nt_ask_asked: "{who}讨红包{amount}",
    nt_ask_amount: "（{amount}）",
    nt_ask_message: "：{message}",
    nt_ask_fulfilled: "{who}发红包回应了讨要",
    nt_ask_declined: "{who}拒绝了讨要",
    nt_transfer_pending: "{sender}向{recipient}转账{amount}，等待收款",
    nt_transfer_accepted: "{recipient}已收款{amount}",
    nt_transfer_returned: "{recipient}已退还转账{amount}",
    nt_transfer_refunded: "转账{amount}超时未收款，已退还给{sender}",
  },
  en: {
    nt_you: "you",
    nt_opened: "{who} opened {sender}'s red packet",
    nt_opened_mine: "{who} opened your red packet",
    nt_opened_own: "{who} opened their own red packet",
    nt_opened_own_me: "You opened your own red packet",
    nt_best_luck: "{who} got the best luck ({amount})",
    nt_expired: "{sender}'s red packet expired: {amount} refunded",
    nt_expired_mine: "Your red packet expired: {amount} refunded to you",
    nt_relay_round_started: "Relay round {round}: {who} sent {amount}",
    nt_relay_owed: "Relay: {who} got the best luck and must send round {round}",
    nt_relay_deadline_missed: "Relay ended: {who} missed the deadline",
    nt_relay_round_expired: "Relay ended: the last round expired before every share was taken",
    nt_ask_asked: "{who} asked for a red packet{amount}",
    nt_ask_amount: " ({amount})",
    nt_ask_message: ": {message}",
    nt_ask_fulfilled: "{who} answered the ask with a red packet",
    nt_ask_declined: "{who} declined the ask",
    nt_transfer_pending: "{sender} sent {recipient} a transfer of {amount}: waiting to be accepted",
    nt_transfer_accepted: "{recipient} accepted the transfer of {amount}",
    nt_transfer_returned: "{recipient} returned the transfer of {amount}",
    nt_transfer_refunded: "The transfer of {amount} was not accepted in time: refunded to {sender}",
  },
});

const fen = (value) => Number.isInteger(value) && value >= 0;

/**
 * The notice `m` ({type, text, data}) in the reader's language.  `names` maps user ids to display names, the
 * reader's own id to t("you"); `meId` says who the reader is (without it, whoever is named t("you")).
 */
export function noticeText(m, names, meId) {
  const d = m.data || {};
  const isMe = (id) => (meId != null ? id === meId : names[id] === t("you"));
  // The subject of a sentence ("You", "Bob"), and a name elsewhere in it ("you", "Bob"); null when unknown.
  const who = (id) => (Number.isInteger(id) && names[id] != null ? names[id] : null);
  const obj = (id) => (isMe(id) && who(id) != null ? t("nt_you") : who(id));
  const say = (key, vars) => (Object.values(vars).some((v) => v == null) ? null : t(key, vars));

  // English says "your" and "You … your own" where Chinese only puts 你 in the name's place: own keys for those.
  if (m.type === "claim") {
    if (d.user_id === d.sender_id) return say(isMe(d.user_id) ? "nt_opened_own_me" : "nt_opened_own", { who: who(d.user_id) }) ?? m.text;
    return say(isMe(d.sender_id) ? "nt_opened_mine" : "nt_opened", { who: who(d.user_id), sender: who(d.sender_id) }) ?? m.text;
  }
  if (m.type === "best_luck" && fen(d.amount_fen)) {
    return say("nt_best_luck", { who: who(d.user_id), amount: yuan(d.amount_fen) }) ?? m.text;
  }
  let text = null;
  if (d.event === "packet_expired" && fen(d.refunded_fen)) {
    text = say(isMe(d.sender_id) ? "nt_expired_mine" : "nt_expired", { sender: who(d.sender_id), amount: yuan(d.refunded_fen) });
  } else if (d.event === "relay") {
    text = relay(d, who, obj, say);
  } else if (d.event === "ask") {
    text = ask(d, who, say);
  } else if (d.event === "transfer" && fen(d.amount_fen)) {
    const vars = { amount: yuan(d.amount_fen) };
    if (d.status === "pending") text = say("nt_transfer_pending", { ...vars, sender: who(d.sender_id), recipient: obj(d.recipient_id) });
    else if (d.status === "accepted" || d.status === "returned") text = say(`nt_transfer_${d.status}`, { ...vars, recipient: who(d.recipient_id) });
    else if (d.status === "refunded") text = say("nt_transfer_refunded", { ...vars, sender: obj(d.sender_id) });
  }
  return text ?? m.text;
}

function relay(d, who, obj, say) {
  if (d.step === "round_started" && fen(d.total_fen)) {
    return say("nt_relay_round_started", { round: d.round, who: obj(d.sender_id), amount: yuan(d.total_fen) });
  }
  if (d.step === "owed") return say("nt_relay_owed", { who: obj(d.user_id), round: d.round });
  if (d.step === "ended" && d.reason === "deadline_missed") return say("nt_relay_deadline_missed", { who: obj(d.user_id) });
  if (d.step === "ended" && d.reason === "round_expired") return t("nt_relay_round_expired");
  return null;
}

function ask(d, who, say) {
  if (d.step === "asked") {
    const amount = fen(d.amount_fen) && d.amount_fen > 0 ? t("nt_ask_amount", { amount: yuan(d.amount_fen) }) : "";
    const text = say("nt_ask_asked", { who: who(d.user_id), amount });
    return text && d.message ? text + t("nt_ask_message", { message: d.message }) : text;
  }
  if (d.step === "fulfilled" || d.step === "declined") return say(`nt_ask_${d.step}`, { who: who(d.user_id) });
  return null;
}
