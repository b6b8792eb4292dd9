// One red packet: the envelope with its 拆 button and opening animation, then the amount and the claim list.

import { Attempt, ApiError, get } from "../api.js";
import { avatar, h, mount } from "../dom.js";
import { t } from "../i18n.js";
import { icon } from "../icons.js";
import { yuan } from "../money.js";
import { kindLabel, shortTime } from "./common.js";
import { here } from "./x/secret.js";
import { mayShare, shareButton } from "./x/sharesheet.js";

const SPIN_MS_MIN = 900; // the coin spins at least this long, so the 拆 moment is seen even on a fast answer
const FLAP_MS = 550;

/**
 * What some kinds need before 拆: a password packet its phrase, a face-to-face packet its code, typed into the
 * envelope and sent where those are opened (an open by id alone is refused for them).
 */
export const secretInputs = {
  password: () => secretField("/v1/phrases/open", "phrase", { maxlength: 64, placeholder: t("phrase_placeholder"), "aria-label": t("phrase") }),
  face_to_face: () =>
    secretField("/v1/codes/open", "code", {
      class: "code-input",
      inputmode: "numeric",
      autocomplete: "one-time-code",
      maxlength: 12,
      placeholder: "••••••", // a code has 6 digits
      "aria-label": t("code"),
    }),
};

function secretField(path, name, attrs) {
  const input = h("input", { id: "open-secret", autocomplete: "off", ...attrs });
  return {
    el: h("div", { class: "secret" }, input),
    path,
    input,
    body: () => ({ [name]: input.value.trim() }),
  };
}

export async function render(ctx) {
  const id = Number(ctx.params[0]);
  const me = ctx.me;
  let packet = await get(`/v1/packets/${id}`);
  const root = h("div", { class: "packet-page" });
  let stage = "detail";
  let justOpened = ctx.query.get("opened") === "1" ? packet.my_amount_fen : null;

  const mayOpen = (p) => p.status === "active" && p.my_amount_fen == null && !(p.kind === "personal" && p.sender_id === me.id);

  function envelope() {
    const msg = h("p", { class: "envelope-msg", role: "alert", id: "open-error", hidden: true });
    const extra = secretInputs[packet.kind]?.(packet) ?? null;
    const coin = h("button", { type: "button", class: "coin big", id: "open-btn", "aria-label": t("open_label"), onclick: tap }, t("open_btn"));
    const env = h(
      "section",
      { class: "envelope", "aria-labelledby": "env-title" },
      h("div", { class: "flap", "aria-hidden": "true" }),
      h(
        "div",
        { class: "envelope-head" },
        avatar(packet.sender_name, "big light"),
        h("h2", { id: "env-title" }, t("sent_you", { name: packet.sender_name ?? "" })),
        h("p", { class: "envelope-greeting" }, packet.greeting || t("greeting_default")),
      ),
      extra?.el ?? null,
      coin,
      msg,
      h("button", { type: "button", class: "link light envelope-details", onclick: () => showDetail() }, t("see_details")),
    );
    const attempt = new Attempt();

    async function tap() {
      if (extra?.input && !extra.input.value.trim()) {
        extra.input.focus();
        return;
      }
      coin.disabled = true;
      msg.hidden = true;
      env.classList.add("opening");
      const started = performance.now();
      let result;
      const path = extra?.path ?? `/v1/packets/${id}/open`;
      const body = extra?.body?.() ?? {};
      try {
        result = { ok: await attempt.send(path, Object.keys(body).length ? body : undefined) };
      } catch (err) {
        result = { err };
        // A face-to-face packet with a radius asks where you are: ask the browser once, then try again.
        const where = err instanceof ApiError && err.code === "location_required" ? await here() : null;
        if (where) {
          try {
            result = { ok: await attempt.send(path, { ...body, ...where }) };
          } catch (again) {
            result = { err: again };
          }
        }
      }
      const wait = SPIN_MS_MIN - (performance.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      env.classList.remove("opening");
      if (result.ok) {
        justOpened = result.ok.amount_fen;
        env.classList.add("opened");
        await new Promise((r) => setTimeout(r, FLAP_MS));
        packet = await get(`/v1/packets/${id}`).catch(() => packet);
        showDetail();
        return;
      }
      const err = result.err;
      const code = err instanceof ApiError ? err.code : "";
      msg.textContent =
        code === "packet_exhausted" ? t("too_late") : code === "packet_expired" ? t("expired") : err.status === 0 ? t("error_network") : err.message;
      msg.hidden = false;
      if (code === "packet_exhausted" || code === "packet_expired" || code === "already_claimed") coin.hidden = true;
      else coin.disabled = false;
    }
    return env;
  }

  function claimRow(c) {
    return h(
      "li",
      { class: "claim", "data-user": c.user_id },
      avatar(c.display_name),
      h(
        "span",
        { class: "row-main" },
        h("span", { class: "row-title" }, c.user_id === me.id ? `${c.display_name} (${t("you")})` : c.display_name),
        h("span", { class: "row-sub" }, shortTime(c.claimed_at)),
      ),
      h(
        "span",
        { class: "row-side" },
        h("span", { class: "claim-amount" }, yuan(c.amount_fen)),
        c.best_luck ? h("span", { class: "best-luck" }, icon("crown", { size: 14 }), " ", t("best_luck")) : null,
      ),
    );
  }

  function detail() {
    const p = packet;
    const mine = p.my_amount_fen ?? justOpened;
    const claims = p.claims ?? [];
    return h(
      "section",
      { class: "detail", "aria-labelledby": "detail-title" },
      h(
        "div",
        { class: "detail-head" },
        avatar(p.sender_name, "big"),
        h("h2", { id: "detail-title" }, t("sent_you", { name: p.sender_name ?? "" })),
        h("p", { class: "detail-greeting" }, p.greeting || t("greeting_default")),
        h("p", { class: "detail-kind" }, kindLabel(p)),
        mine != null
          ? h(
              "div",
              { class: `my-amount${justOpened != null ? " pop" : ""}`, id: "my-amount", role: "status" },
              h("span", { class: "sr-only" }, t(p.kind === "personal" ? "your_share_personal" : "your_share")),
              h("span", { class: "amount-number" }, yuan(mine).replace("¥", "")),
              h("span", { class: "amount-unit" }, t("yuan")),
              h("a", { class: "link", href: "/app/wallet" }, t("credited")),
            )
          : null,
        mayOpen(p) && stage === "detail" ? h("button", { type: "button", class: "primary", onclick: () => showEnvelope() }, t("open_label")) : null,
        // The sender of an open-audience packet shares its link while shares are left (the server's rules).
        p.status === "active" && mayShare(p, me) ? shareButton(p) : null,
      ),
      h(
        "p",
        { class: "claims-summary", id: "claims-summary" },
        t("claims_title", { n: p.claimed_count, total: p.shares_count, claimed: yuan(p.claimed_fen), amount: yuan(p.total_fen) }),
        p.status !== "active" ? ` · ${t(`status_${p.status}`)}` : "",
        p.refunded_fen ? ` · ${t("refunded", { amount: yuan(p.refunded_fen) })}` : "",
      ),
      h("ul", { class: "list claims", id: "claims", "aria-label": t("claims") }, claims.map(claimRow)),
    );
  }

  function showEnvelope() {
    stage = "envelope";
    mount(root, h("div", { class: "envelope-stage" }, envelope()));
    root.querySelector("#open-btn")?.focus();
  }

  function showDetail() {
    stage = "detail";
    mount(root, detail());
  }

  async function refresh(event) {
    if (event?.data?.packet_id && event.data.packet_id !== id && event.name !== "poll") return;
    if (stage === "envelope") {
      // Watching the envelope while others open it: say so once none is left.
      const p = await get(`/v1/packets/${id}`);
      packet = p;
      if (p.status !== "active" && !root.querySelector(".opening, .opened")) {
        const msg = root.querySelector("#open-error");
        const coin = root.querySelector("#open-btn");
        if (msg && coin) {
          msg.textContent = p.status === "expired" ? t("expired") : t("too_late");
          msg.hidden = false;
          coin.hidden = true;
        }
      }
      return;
    }
    packet = await get(`/v1/packets/${id}`);
    const fresh = detail();
    justOpened = null; // animate the amount once
    mount(root, fresh);
  }

  if (mayOpen(packet) && ctx.query.get("view") !== "detail") showEnvelope();
  else showDetail();
  return { el: root, title: kindLabel(packet), back: ctx.query.get("c") ? `/app/c/${ctx.query.get("c")}` : "/app", refresh };
}
