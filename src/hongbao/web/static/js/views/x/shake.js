// 春晚摇一摇: the Gala page — rounds with a countdown, a shake button and the phone's motion, the result.

import { Attempt, ApiError, get, session } from "../../api.js";
import { h, mount } from "../../dom.js";
import { icon } from "../../icons.js";
import { extend, lang, t } from "../../i18n.js";
import { yuan } from "../../money.js";
import { errorLine, showError } from "./kit.js";

extend({
  zh: {
    shake_events: "摇一摇活动",
    shake_live: "进行中",
    shake_ended: "已结束",
    shake_starts_in: "{time} 后开始",
    shake_starts_at: "{when} 开始",
    shake_rounds: "共 {n} 轮",
    shake_round_live: "第 {n}/{total} 轮进行中",
    shake_events_none: "现在没有摇一摇活动。活动开始前一段时间就会出现在这里，结束后保留一天。",
    shake_have_id: "有活动编号？",
    shake_prizes_left: "还剩 {n} 个红包",
    shake_rate: "每秒 {n} 次摇动",
  },
  en: {
    shake_events: "Shake events",
    shake_live: "Live",
    shake_ended: "Ended",
    shake_starts_in: "starts in {time}",
    shake_starts_at: "starts {when}",
    shake_rounds: "Rounds: {n}",
    shake_round_live: "Round {n}/{total} is on",
    shake_events_none: "No shake events right now. Events show up here before they start and stay for a day after they end.",
    shake_have_id: "Have an event number?",
    shake_prizes_left: "{n} packets left",
    shake_rate: "{n} shakes a second",
  },
});

const SHAKE_MS_GAP = 1500; // one shake per 1.5 s from the motion sensor
const JOLT = 18; // m/s² change between two readings that counts as a shake

/**
 * Shakes over one WebSocket (/v1/shake/socket), with HTTP as the fallback: `send(body)` resolves with the answer
 * (or rejects like the API), `null` when the socket is not open (the caller then posts).  A closed socket is
 * opened again on the next use, at most every few seconds.
 */
class ShakeSocket {
  constructor() {
    this.ws = null;
    this.ready = false;
    this.waiting = new Map(); // id → [resolve, reject]
    this.next = 1;
    this.triedAt = 0;
  }

  open() {
    if (this.ws || !("WebSocket" in window) || Date.now() - this.triedAt < 5000) return;
    this.triedAt = Date.now();
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/shake/socket`);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ token: session.token, id: 0 }));
    ws.onmessage = (m) => {
      const reply = JSON.parse(m.data);
      if (reply.ready) {
        this.ready = true;
        return;
      }
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id);
      if (reply.status === 200) waiter[0](reply);
      else waiter[1](new ApiError(reply.status, reply.problem ?? {}));
    };
    ws.onclose = () => {
      for (const [, [, reject]] of this.waiting) reject(new ApiError(0, { code: "network" }));
      this.waiting.clear();
      this.ws = null;
      this.ready = false;
    };
  }

  send(body) {
    this.open();
    if (!this.ready) return null;
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, [resolve, reject]);
      this.ws.send(JSON.stringify({ ...body, id }));
    });
  }

  close() {
    this.ws?.close();
  }
}

function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

export async function render(ctx) {
  const eventId = ctx.query.get("event");
  if (!eventId) return pickEvent(ctx);
  let event = await get(`/v1/shake/events/${encodeURIComponent(eventId)}`);
  const countdown = h("p", { class: "countdown", id: "countdown", role: "timer", "aria-live": "off" });
  const roundLine = h("p", { class: "center muted", id: "round-line" });
  const result = h("div", { class: "result", id: "shake-result", role: "status", "aria-live": "polite" });
  const wins = h("ul", { class: "list wins", id: "wins", "aria-label": t("my_wins") });
  const liveLine = h("p", { class: "center hint", id: "shake-live", "aria-live": "off" });
  const socket = new ShakeSocket();
  socket.open();
  const button = h("button", { type: "button", class: "shake-btn", id: "shake-btn", "aria-label": t("shake_now"), onclick: () => shake() }, icon("shake", { size: 72 }));
  const motion = h("button", { type: "button", class: "secondary wide", id: "motion-btn", hidden: !("DeviceMotionEvent" in window), onclick: enableMotion }, t("enable_motion"));
  let busy = false;
  let last = 0;
  let previous = null;
  let wonCount = 0;

  function tick() {
    const now = Date.now();
    const rounds = event.rounds.map((r, i) => ({ ...r, n: i + 1, start: Date.parse(r.starts_at), end: Date.parse(r.ends_at) }));
    const on = rounds.find((r) => r.start <= now && now < r.end);
    const next = rounds.find((r) => r.start > now);
    if (on) {
      roundLine.textContent = t("round_on", { n: on.n, total: rounds.length });
      countdown.textContent = clock(on.end - now);
      button.disabled = busy;
    } else if (next) {
      roundLine.textContent = t("round_next", { n: next.n, total: rounds.length });
      countdown.textContent = clock(next.start - now);
      button.disabled = true;
    } else {
      roundLine.textContent = t("event_over");
      countdown.textContent = "00:00";
      button.disabled = true;
    }
  }

  async function shake() {
    if (busy || button.disabled) return;
    busy = true;
    button.disabled = true;
    button.classList.remove("shaking");
    void button.offsetWidth; // restart the wobble animation
    button.classList.add("shaking");
    try {
      const viaSocket = socket.send({ event_id: event.id });
      const reply = viaSocket ? await viaSocket : await new Attempt().send(`/v1/shake/events/${event.id}/shake`, undefined);
      showResult(reply);
    } catch (err) {
      mount(result, h("p", { class: "error", id: "shake-error" }, err instanceof ApiError && err.status === 0 ? t("error_network") : err.message));
    } finally {
      busy = false;
      tick();
    }
  }

  function showResult(r) {
    if (r.result === "cash") {
      wonCount += 1;
      mount(result, h("p", { class: "won", id: "shake-won" }, t("shake_cash", { name: r.name ?? "", amount: yuan(r.amount_fen) })));
      wins.append(h("li", { class: "entry" }, h("span", { class: "row-main" }, r.name ?? ""), h("span", { class: "entry-amount plus" }, `+${yuan(r.amount_fen)}`)));
    } else if (r.result === "coupon") {
      wonCount += 1;
      mount(result, h("p", { class: "won", id: "shake-won" }, t("shake_coupon", { name: r.name ?? "" })));
      wins.append(h("li", { class: "entry" }, h("span", { class: "row-main" }, `${r.name ?? ""} · ${t("coupon")}`)));
    } else if (r.result === "card") {
      mount(result, h("p", { class: "card-text", id: "shake-card" }, r.card));
    } else {
      mount(result, h("p", { class: "muted", id: "shake-nothing" }, t("shake_nothing")));
    }
    if (event.wins_per_user_max && wonCount >= event.wins_per_user_max) {
      result.append(h("p", { class: "hint" }, t("shake_cap", { k: event.wins_per_user_max })));
    }
  }

  function onMotion(e) {
    const a = e.accelerationIncludingGravity;
    if (!a || a.x == null) return;
    if (previous) {
      const jolt = Math.abs(a.x - previous.x) + Math.abs(a.y - previous.y) + Math.abs(a.z - previous.z);
      if (jolt > JOLT && Date.now() - last > SHAKE_MS_GAP) {
        last = Date.now();
        navigator.vibrate?.(80);
        shake();
      }
    }
    previous = { x: a.x, y: a.y, z: a.z };
  }

  async function enableMotion() {
    try {
      // iOS asks for permission, from a tap; other browsers just deliver the events.
      if (typeof DeviceMotionEvent.requestPermission === "function") {
        const answer = await DeviceMotionEvent.requestPermission();
        if (answer !== "granted") throw new Error("denied");
      }
      window.addEventListener("devicemotion", onMotion);
      motion.textContent = t("motion_on");
      motion.disabled = true;
    } catch {
      motion.textContent = t("motion_denied");
    }
  }

  async function live() {
    const asked = socket.send({ live: event.id });
    if (!asked) return;
    try {
      const { live: counters } = await asked;
      liveLine.textContent = `${t("shake_prizes_left", { n: counters.prizes_left })} · ${t("shake_rate", { n: counters.shakes_per_s })}`;
    } catch {
      // the counters are a nicety: the next tick asks again
    }
  }

  tick();
  const timer = setInterval(() => {
    tick();
    void live();
  }, 1000);
  const sponsors = event.pools?.length
    ? h("p", { class: "center hint" }, t("sponsored_by", { names: event.pools.map((p) => p.name).join(" · ") }))
    : null;
  const el = h(
    "div",
    { class: "shake-page" },
    h("section", { class: "gala" }, h("h2", {}, event.name), roundLine, countdown, liveLine, sponsors, button, h("p", { class: "center hint light" }, t("shake_hint")), motion),
    h("section", { class: "card" }, result, h("h2", { class: "section-in" }, t("my_wins")), wins),
  );
  return {
    el,
    title: t("feat_shake"),
    back: "/app/x/shake",
    async refresh(e) {
      if (e?.name === "poll") event = await get(`/v1/shake/events/${event.id}`);
    },
    dispose() {
      clearInterval(timer);
      socket.close();
      window.removeEventListener("devicemotion", onMotion);
    },
  };
}

const DAY_MS = 24 * 3600 * 1000;

function when(ms) {
  return new Date(ms).toLocaleString(lang() === "zh" ? "zh-CN" : "en-GB", { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

// Without ?event=: the events a person can join, live ones first, each a link to its page; an id box below.
async function pickEvent(ctx) {
  const list = h("ul", { class: "list", id: "shake-events", "aria-label": t("shake_events") });
  const error = errorLine("shake-events-error");
  let countdowns = []; // [span, starts_at in ms] of the upcoming events shown
  let changeAt = Infinity; // the next round start or live round end (ms): the list changes then
  let events = [];
  let loaded = 0; // when the list was last fetched (ms)

  async function load() {
    loaded = Date.now();
    try {
      events = (await get("/v1/shake/events")).events;
      error.hidden = true;
    } catch (err) {
      showError(error, err);
    }
    paint();
  }

  function paint() {
    countdowns = [];
    changeAt = Infinity;
    mount(list, events.length ? events.map(row) : h("li", { class: "muted center pad", id: "shake-events-none" }, t("shake_events_none")));
    tick();
  }

  function row(e) {
    const sponsors = e.pools.map((p) => p.name).join(" · ");
    let side;
    if (e.live) {
      const on = e.rounds.findIndex((r) => r.seq === e.active_round);
      changeAt = Math.min(changeAt, Date.parse(e.rounds[on].ends_at));
      side = h("span", { class: "row-time" }, t("shake_round_live", { n: on + 1, total: e.rounds.length }));
    } else if (e.next_round_starts_at) {
      side = h("span", { class: "row-time", "data-countdown": e.id });
      countdowns.push([side, Date.parse(e.next_round_starts_at)]);
      changeAt = Math.min(changeAt, Date.parse(e.next_round_starts_at));
    } else {
      side = h("span", { class: "row-time" }, t("shake_ended"));
    }
    const logo = e.pools.find((p) => p.logo_url)?.logo_url;
    return h(
      "li",
      {},
      h(
        "a",
        { class: "row", href: `/app/x/shake?event=${e.id}`, "data-event": e.id, "data-live": e.live ? "true" : "false" },
        logo ? h("img", { class: "avatar", referrerpolicy: "no-referrer", src: logo, alt: "" }) : h("span", { class: "avatar", "aria-hidden": "true" }, icon("shake", { size: 24 })),
        h(
          "span",
          { class: "row-main" },
          h("span", { class: "row-title" }, e.name, e.live ? h("span", { class: "tag" }, t("shake_live")) : null),
          h("span", { class: "row-sub" }, sponsors ? t("sponsored_by", { names: sponsors }) : t("shake_rounds", { n: e.rounds.length })),
        ),
        h("span", { class: "row-side" }, side),
      ),
    );
  }

  function tick() {
    const now = Date.now();
    for (const [span, at] of countdowns) {
      const left = at - now;
      span.textContent = left > DAY_MS ? t("shake_starts_at", { when: when(at) }) : t("shake_starts_in", { time: clock(left) });
    }
    // A round began or ended: the order and the live marks change (at most every 5 s, should the clocks differ).
    if (now >= changeAt && now - loaded > 5000) load();
  }

  const field = h("input", { id: "event-id", inputmode: "numeric", autocomplete: "off", "aria-label": t("event_id") });
  const form = h(
    "form",
    {
      class: "card form",
      id: "event-id-form",
      onsubmit(e) {
        e.preventDefault();
        if (/^\d+$/.test(field.value.trim())) ctx.go(`/app/x/shake?event=${field.value.trim()}`);
      },
    },
    h("h2", {}, t("shake_have_id")),
    h("label", { for: "event-id" }, t("event_id")),
    field,
    h("p", { class: "hint" }, t("event_id_hint")),
    h("button", { type: "submit", class: "secondary wide" }, t("go")),
  );
  await load();
  const timer = setInterval(tick, 1000);
  return {
    el: h("div", {}, h("h2", { class: "section" }, t("shake_events")), error, list, form),
    title: t("feat_shake"),
    back: "/app/more",
    async refresh(e) {
      if (e?.name === "poll") await load();
    },
    dispose() {
      clearInterval(timer);
    },
  };
}
