// Claiming with a secret (a password phrase or a face-to-face code): the input, the coin, the errors.

import { Attempt, ApiError } from "../../api.js";
import { h } from "../../dom.js";
import { t } from "../../i18n.js";

/** Where the browser is, if it will say within a few seconds; null otherwise. */
export function here() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lng: p.coords.longitude }),
      () => resolve(null),
      { timeout: 8000, maximumAge: 60000 },
    );
  });
}

/**
 * A claim form: `field` is the input, `body(value)` the request, `path` where it goes. A packet that asks
 * where you are (location_required) is retried once with the browser's position.
 */
export function claimForm(ctx, { field, label, path, body, hint, optional = false }) {
  const error = h("p", { class: "error", role: "alert", id: "claim-error", hidden: true });
  const coin = h("button", { type: "submit", class: "coin big", id: "claim-btn", "aria-label": t("open_label") }, t("open_btn"));
  const attempt = new Attempt();
  const form = h(
    "form",
    {
      class: "envelope claim-envelope",
      novalidate: true,
      async onsubmit(e) {
        e.preventDefault();
        error.hidden = true;
        const value = field.value.trim();
        if (!value && !optional) {
          field.focus();
          return;
        }
        coin.disabled = true;
        form.classList.add("opening");
        const started = performance.now();
        let request = body(value);
        let reply = null;
        let failure = null;
        for (let round = 0; round < 2 && !reply; round++) {
          try {
            reply = await attempt.send(path, request);
          } catch (err) {
            failure = err;
            if (round === 0 && err instanceof ApiError && err.code === "location_required") {
              const where = await here();
              if (where) {
                request = { ...request, ...where };
                continue;
              }
            }
            break;
          }
        }
        const wait = 900 - (performance.now() - started);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        form.classList.remove("opening");
        coin.disabled = false;
        if (reply) {
          ctx.go(`/app/packet/${reply.packet_id}?opened=1`, { replace: false });
          return;
        }
        const code = failure instanceof ApiError ? failure.code : "";
        error.textContent =
          code === "packet_exhausted" ? t("too_late") : failure?.status === 0 ? t("error_network") : failure.message;
        error.hidden = false;
        field.setAttribute("aria-invalid", "true");
      },
    },
    h("div", { class: "flap", "aria-hidden": "true" }),
    h("div", { class: "envelope-head" }, h("h2", {}, label), hint ? h("p", { class: "envelope-greeting small-greeting" }, hint) : null),
    h("div", { class: "secret" }, field),
    coin,
    error,
  );
  return form;
}
