// A button that asks before it acts: tapping it shows the question with Confirm / Cancel in its place.

import { ApiError } from "../../api.js";
import { h, mount, toast } from "../../dom.js";
import { extend, t } from "../../i18n.js";

extend({
  zh: { confirm_yes: "确定", confirm_no: "取消" },
  en: { confirm_yes: "Confirm", confirm_no: "Cancel" },
});

/**
 * `label` is the button's text, `question` what the user confirms ("Remove Bob?"), `act()` runs on Confirm;
 * `attrs` go on the first button (ids, data-*).  A refusal from the server is shown as an error toast.
 */
export function confirmButton({ label, question, act, attrs = {} }) {
  const box = h("span", { class: "confirm" });
  const start = h("button", { type: "button", class: "ghost small", ...attrs, onclick: ask }, label);

  function reset() {
    mount(box, start);
    start.focus();
  }

  function ask() {
    const yes = h(
      "button",
      {
        type: "button",
        class: "primary small",
        "data-confirm": "",
        async onclick() {
          yes.disabled = true;
          try {
            await act();
          } catch (err) {
            toast(err instanceof ApiError && err.status === 0 ? t("error_network") : err.message, "error");
            reset();
          }
        },
      },
      t("confirm_yes"),
    );
    const no = h("button", { type: "button", class: "secondary small", "data-cancel": "", onclick: reset }, t("confirm_no"));
    mount(box, h("span", { class: "confirm-ask", role: "group", "aria-label": question }, h("span", { class: "confirm-q" }, question), yes, no));
    yes.focus();
  }

  mount(box, start);
  return box;
}
