// "Load more" for a list the server pages with a cursor (newest first): one button, one cursor, one page size.

import { get } from "../api.js";
import { h, toast } from "../dom.js";

export const PAGE = 20; // the server's default page

/** Rows a refresh asks for: every row shown, at least a page, at most the server's 100 (rows past the 100th go
 * until "load more" brings them back). */
export function reloadLimit(shown) {
  return Math.min(100, Math.max(PAGE, shown));
}

/**
 * The button under a paged list. `path` is the list's endpoint; `show(page)` appends a page's items.
 * Call `pager.from(reply)` after each full load, so the button knows where the next page starts.
 */
export function pager({ id, label, controls, path, show }) {
  let cursor = null;
  const button = h("button", { type: "button", class: "ghost wide", id, hidden: true, "aria-controls": controls, onclick: more }, label);
  function from(reply) {
    cursor = reply.next_cursor;
    button.hidden = !cursor;
  }
  async function more() {
    button.disabled = true;
    try {
      const page = await get(`${path}?limit=${PAGE}&cursor=${encodeURIComponent(cursor)}`);
      show(page);
      from(page);
    } catch (err) {
      toast(err.message, "error");
    } finally {
      button.disabled = false;
    }
  }
  return { button, from };
}
