// Log in or register; in embedded mode with demo data the demo users are one-tap buttons.

import { ApiError, api } from "../api.js";
import { avatar, h } from "../dom.js";
import { t } from "../i18n.js";

export async function render(ctx) {
  const registering = ctx.query.get("register") === "1";
  const next = ctx.query.get("next") || "/app";
  const error = h("p", { class: "error", role: "alert", id: "login-error", hidden: true });

  async function enter(username, password) {
    error.hidden = true;
    try {
      const s = await api("POST", "/v1/sessions", { body: { username, password }, auth: false });
      ctx.loggedIn(s.token, { id: s.user_id, username }, s.expires_at);
      const me = await api("GET", "/v1/me");
      ctx.loggedIn(s.token, me, s.expires_at);
      ctx.go(next.startsWith("/app") ? next : "/app", { replace: true });
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : String(err);
      error.hidden = false;
    }
  }

  const username = h("input", { id: "username", name: "username", autocomplete: "username", required: true, maxlength: 64, autocapitalize: "none" });
  const password = h("input", { id: "password", name: "password", type: "password", required: true, maxlength: 256, autocomplete: registering ? "new-password" : "current-password" });
  const display = h("input", { id: "display-name", name: "display_name", maxlength: 128, autocomplete: "nickname" });
  const submit = h("button", { type: "submit", class: "primary wide" }, registering ? t("sign_up") : t("log_in"));

  const form = h(
    "form",
    {
      class: "card form",
      "aria-labelledby": "form-title",
      async onsubmit(e) {
        e.preventDefault();
        submit.disabled = true;
        try {
          if (registering) {
            await api("POST", "/v1/users", {
              body: { username: username.value.trim(), password: password.value, display_name: display.value.trim() || null },
              auth: false,
            });
          }
          await enter(username.value.trim(), password.value);
        } catch (err) {
          error.textContent = err instanceof ApiError ? err.message : String(err);
          error.hidden = false;
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h2", { id: "form-title" }, registering ? t("register_title") : t("login_title")),
    h("label", { for: "username" }, t("username")),
    username,
    h("label", { for: "password" }, t("password")),
    password,
    registering ? [h("label", { for: "display-name" }, t("display_name")), display] : null,
    error,
    submit,
    h("a", { class: "link", href: registering ? "/app/login" : "/app/login?register=1" }, registering ? t("have_account") : t("no_account")),
  );

  const demo = h("section", { class: "demo", "aria-labelledby": "demo-title", hidden: true });
  api("GET", "/v1/demo-users", { auth: false })
    .then((users) => {
      if (!users?.length) return;
      demo.append(
        h("h2", { id: "demo-title" }, t("demo_users")),
        h(
          "div",
          { class: "demo-grid" },
          users.map((u) =>
            h(
              "button",
              {
                type: "button",
                class: "demo-user",
                "data-username": u.username,
                "aria-label": t("demo_login_as", { name: u.display_name }),
                onclick: () => enter(u.username, u.password),
              },
              avatar(u.display_name, "big"),
              h("span", {}, u.display_name, u.verified_as ? h("span", { class: "tag" }, t(`verified_${u.verified_as}`)) : null),
            ),
          ),
        ),
      );
      demo.hidden = false;
    })
    .catch(() => {}); // not embedded, or demo off: no buttons

  const hero = h(
    "div",
    { class: "hero" },
    h("div", { class: "hero-envelope", "aria-hidden": "true" }, h("span", { class: "coin small" }, "¥")),
    h("p", { class: "hero-name" }, "红包 · hongbao"),
  );
  return { el: h("div", { class: "login" }, hero, demo, form), title: t("app_name") };
}
