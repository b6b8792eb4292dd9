// Small pieces the extra pages share: friend and group pickers, an amount field, an inline error, a form that shows it.

import { ApiError, get } from "../../api.js";
import { h } from "../../dom.js";
import { t } from "../../i18n.js";
import { parseYuan } from "../../money.js";

export async function friendSelect(id) {
  const { friends } = await get("/v1/friends");
  return h("select", { id }, friends.map((f) => h("option", { value: String(f.id) }, f.display_name)));
}

export async function groupSelect(id) {
  const groups = await get("/v1/groups");
  return h("select", { id }, groups.map((g) => h("option", { value: String(g.id) }, g.name)));
}

export function amountInput(id, value = "") {
  return h("input", { id, inputmode: "decimal", autocomplete: "off", placeholder: "0.00", value });
}

/** Integer fen from a yuan field, or throws a message for the inline error. */
export function fenOf(input, { optional = false } = {}) {
  if (optional && !input.value.trim()) return null;
  const fen = parseYuan(input.value);
  if (fen == null || fen <= 0) throw new Error(t("bad_amount"));
  return fen;
}

export function errorLine(id) {
  return h("p", { class: "error", role: "alert", id, hidden: true });
}

export function showError(line, err) {
  line.textContent = err instanceof ApiError && err.status === 0 ? t("error_network") : err.message;
  line.hidden = false;
}

export function names(people) {
  return Object.fromEntries(people.map((p) => [p.id, p.display_name]));
}

/** A form whose submit hides `error`, awaits `act()`, and shows in `error` what went wrong. */
export function actionForm(cls, error, act, ...children) {
  return h(
    "form",
    {
      class: cls,
      novalidate: true,
      async onsubmit(e) {
        e.preventDefault();
        error.hidden = true;
        try {
          await act();
        } catch (err) {
          showError(error, err);
        }
      },
    },
    ...children,
  );
}
