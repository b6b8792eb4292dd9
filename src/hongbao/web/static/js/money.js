// Money at the edge: yuan typed as text <-> integer fen, by string arithmetic (never a float).

const FULLWIDTH = /[０-９．]/g;
const YUAN = /^(\d{1,9})?(?:\.(\d{0,2}))?$/;

/** Parse "12", "12.5", "12.50", ".5" or "１２.５" into integer fen; null if it is not an amount. */
export function parseYuan(text) {
  const s = String(text ?? "")
    .trim()
    .replace(FULLWIDTH, (c) => (c === "．" ? "." : String(c.charCodeAt(0) - 0xff10)))
    .replace(/^[¥￥]\s*/, "");
  const m = YUAN.exec(s);
  if (!m || (m[1] === undefined && !m[2])) return null;
  const whole = m[1] === undefined ? 0 : Number.parseInt(m[1], 10);
  const cents = Number.parseInt((m[2] ?? "").padEnd(2, "0"), 10);
  return whole * 100 + cents; // both are exact integers: whole < 10^9, so the sum is < 2^53
}

/** 1234 -> "12.34", -5 -> "-0.05". */
export function formatFen(fen) {
  const n = Number(fen);
  const sign = n < 0 ? "-" : "";
  const abs = Math.abs(n);
  const whole = Math.trunc(abs / 100);
  const cents = String(abs % 100).padStart(2, "0");
  return `${sign}${whole.toLocaleString("en-US")}.${cents}`;
}

/** "¥12.34". */
export function yuan(fen) {
  const f = formatFen(fen);
  return f.startsWith("-") ? `-¥${f.slice(1)}` : `¥${f}`;
}

/** 123456 -> "1234.56": for prefilling an input (parseYuan reads it back exactly). */
export function plainYuan(fen) {
  const n = Math.abs(Number(fen));
  return `${Math.trunc(n / 100)}.${String(n % 100).padStart(2, "0")}`;
}
