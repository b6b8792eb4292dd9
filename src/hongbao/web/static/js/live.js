// Live updates: the SSE stream GET /v1/events (EventSource with ?token=) where the server has it,
// else polling every 2 s. Either way the current page's refresh() runs, debounced.

import { capabilities, session } from "./api.js";

const EVENTS = ["message", "packet_sent", "packet_opened", "packet_expired", "relay", "ask", "transfer", "shake_won"];
const POLL_MS = 2000;

let source = null;
let timer = null;
let listener = () => {};
export const state = { mode: "off" };

/** `fn(event)` gets {name, data} for a stream event, or {name: "poll"} on each polling tick. */
export function onLive(fn) {
  listener = fn;
}

export async function startLive() {
  stopLive();
  if (!session.token) return;
  const caps = await capabilities();
  if (caps.has("get", "/v1/events") && "EventSource" in window) {
    openStream();
  } else {
    startPolling();
  }
}

function openStream() {
  source = new EventSource(`/v1/events?token=${encodeURIComponent(session.token)}`);
  state.mode = "sse";
  for (const name of EVENTS) {
    source.addEventListener(name, (e) => {
      let data = {};
      try {
        data = JSON.parse(e.data);
      } catch {
        /* a malformed event still means "something changed" */
      }
      listener({ name, data });
    });
  }
  // The server ends a stream it dropped for being slow: the browser reconnects; reload what we show.
  source.addEventListener("dropped", () => listener({ name: "dropped", data: {} }));
  source.addEventListener("open", () => {
    state.mode = "sse";
    document.body.dataset.live = "sse";
  });
  source.addEventListener("error", () => {
    if (source && source.readyState === EventSource.CLOSED) {
      // Refused (401, or no stream): fall back to polling rather than going silent.
      source = null;
      startPolling();
    }
  });
  document.body.dataset.live = "sse";
}

function startPolling() {
  state.mode = "poll";
  document.body.dataset.live = "poll";
  timer = setInterval(() => {
    if (document.visibilityState !== "hidden") listener({ name: "poll", data: {} });
  }, POLL_MS);
}

export function stopLive() {
  if (source) source.close();
  if (timer) clearInterval(timer);
  source = null;
  timer = null;
  state.mode = "off";
  delete document.body.dataset.live;
}
