// The JSON API: bearer token kept on this device until logout or expiry, problem+json errors, Idempotency-Key
// on money moves.

import { errorMessage } from "./errors.js";
import { lang } from "./i18n.js";

const TOKEN = "hongbao.token";
const USER = "hongbao.user";
const EXPIRES = "hongbao.token_expires_at";

export class ApiError extends Error {
  /** `problem` is the RFC 9457 body ({code, title, detail}); status 0 means no answer came back. */
  constructor(status, problem) {
    super(); // no own `message`: the getter below words it in the reader's language when it is shown
    this.status = status;
    this.code = problem.code || "error";
    this.problem = problem;
  }

  /** The refusal in the app's language (amounts in ¥), from its code and limits; else the server's detail. */
  get message() {
    return errorMessage(this.problem, lang()) || this.problem.detail || this.problem.title || `HTTP ${this.status}`;
  }

  /** No answer, or the server failed: the same request may be retried with the same key. */
  get retriable() {
    return this.status === 0 || this.status >= 500;
  }
}

/**
 * The session, as a payment app keeps it: logged in on this device (every tab, after a restart) until you log
 * out or the token expires (HONGBAO_TOKEN_TTL_S, 7 days by default). It lives in localStorage, which only this
 * origin's scripts read, and the Content-Security-Policy lets only this origin's own files run (no inline
 * script, no other origin), so an injected script has no way in to read it. A token past its expiry is dropped
 * here without asking the server; logout revokes it on the server for every process, and every tab of this
 * device logs out with it (the `storage` event, main.js).
 */
export const session = {
  get token() {
    const expires = Date.parse(localStorage.getItem(EXPIRES) ?? "");
    if (Number.isFinite(expires) && expires <= Date.now()) this.clear();
    return localStorage.getItem(TOKEN);
  },
  get user() {
    const raw = localStorage.getItem(USER);
    return raw ? JSON.parse(raw) : null;
  },
  save(token, user, expiresAt) {
    localStorage.setItem(TOKEN, token);
    localStorage.setItem(USER, JSON.stringify(user));
    if (expiresAt) localStorage.setItem(EXPIRES, expiresAt);
  },
  clear() {
    for (const key of [TOKEN, USER, EXPIRES]) localStorage.removeItem(key);
    sessionStorage.removeItem(TOKEN); // where releases before this one kept it
    sessionStorage.removeItem(USER);
  },
  /** Another tab logged out (or in as someone else): `fn()` when this device's token changes. */
  onChange(fn) {
    window.addEventListener("storage", (e) => {
      if (e.key === TOKEN || e.key === null) fn();
    });
  },
};

let onUnauthorized = () => {};
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

/** Call the API; resolves to the JSON body (or null for 204), rejects with ApiError. */
export async function api(method, path, { body, key, auth = true } = {}) {
  // The app says it is the app: a share link claimed here counts for its packet's figures as channel "app"
  // (the landing page /s/{token} says "web").
  const headers = { Accept: "application/json", "X-Client-Channel": "app" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && session.token) headers.Authorization = `Bearer ${session.token}`;
  if (key) headers["Idempotency-Key"] = key;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, { code: "network", detail: String(err?.message || err) });
  }
  if (response.status === 204) {
    if (method !== "GET") clearShownErrors();
    return null;
  }
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json().catch(() => ({})) : {};
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && auth) onUnauthorized(error);
    throw error;
  }
  if (method !== "GET" && !path.endsWith("/read")) clearShownErrors();
  return data;
}

/**
 * An action went through: the refusals still shown on the page are about earlier attempts, so they go (as a
 * payment app shows no stale "balance too low" under a payment that just succeeded). Marking a chat read
 * happens by itself in the background and clears nothing.
 */
function clearShownErrors() {
  for (const el of document.querySelectorAll("#view .error")) el.hidden = true;
}

export const get = (path) => api("GET", path);
export const post = (path, body, key) => api("POST", path, { body, key });

/**
 * One money-moving form: the Idempotency-Key is made once per attempt and reused when the same body
 * is sent again after no answer (a retry moves the money once); a changed body or a success starts anew.
 */
export class Attempt {
  constructor() {
    this.key = null;
    this.body = null;
  }

  keyFor(body) {
    const text = JSON.stringify(body);
    if (this.key === null || this.body !== text) {
      this.key = newKey();
      this.body = text;
    }
    return this.key;
  }

  async send(path, body) {
    const key = this.keyFor(body);
    try {
      const reply = await post(path, body, key);
      this.key = null;
      return reply;
    } catch (err) {
      // A refusal (4xx) is final for this key's body; only an unanswered attempt keeps its key.
      if (!(err instanceof ApiError && err.retriable)) this.key = null;
      throw err;
    }
  }
}

/** A UUID v4; crypto.randomUUID exists only in secure contexts (not on http://192.168.x.x). */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Which endpoints this server has (other areas land over time): read once from /openapi.json. */
let paths = null;
export async function capabilities() {
  if (paths === null) {
    try {
      const spec = await api("GET", "/openapi.json", { auth: false });
      paths = spec.paths || {};
    } catch {
      paths = {};
    }
  }
  return {
    has(method, path) {
      return Boolean(paths[path]?.[method.toLowerCase()]);
    },
    paths,
  };
}
