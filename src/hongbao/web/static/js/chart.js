// Bar charts drawn as inline SVG (no chart library): one bar per item, an optional ± whisker, axis ticks.

const NS = "http://www.w3.org/2000/svg";
const BAR_W_MAX = 40; // in viewBox units (360 wide)

function el(tag, attrs = {}, text = null) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

/**
 * An <svg> bar chart. `bars` is [{label, value, err?, title?}] (err draws value ± err as a whisker);
 * `series` > 1 draws bars in groups of that many side by side, coloured per series.
 * `format(v)` writes axis and tooltip numbers; `label` is the chart's accessible name.
 */
export function barChart({ bars, label, format = String, width = 360, height = 200, series = 1, id = null, max = null }) {
  const pad = { left: 44, right: 8, top: 10, bottom: 24 };
  const highest = Math.max(0, ...bars.map((b) => b.value + (b.err ?? 0)));
  const top = max ?? (highest || 1);
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const groups = Math.ceil(bars.length / series) || 1;
  const slot = plotW / groups;
  const barW = Math.max(1, Math.min(BAR_W_MAX, (slot * 0.75) / series)); // a day or two of data: not one wide slab
  const y = (v) => pad.top + plotH - (Math.max(0, Math.min(v, top)) / top) * plotH;
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-label": label, class: "chart" });
  if (id) svg.setAttribute("id", id);
  for (const frac of max || highest ? [0, 0.5, 1] : [0]) {
    const v = top * frac;
    svg.append(el("line", { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: "chart-grid" }));
    svg.append(el("text", { x: pad.left - 4, y: y(v) + 4, "text-anchor": "end", class: "chart-tick" }, format(v)));
  }
  const labelEvery = Math.ceil(groups / 12);
  bars.forEach((b, i) => {
    const g = Math.floor(i / series);
    const s = i % series;
    const x = pad.left + g * slot + (slot - barW * series) / 2 + s * barW;
    const rect = el("rect", { x, y: y(b.value), width: barW, height: Math.max(0, y(0) - y(b.value)), class: `chart-bar s${s}`, "data-bar": i });
    rect.append(el("title", {}, b.title ?? `${b.label}: ${format(b.value)}`));
    svg.append(rect);
    if (b.err) {
      const cx = x + barW / 2;
      svg.append(el("line", { x1: cx, x2: cx, y1: y(b.value + b.err), y2: y(b.value - b.err), class: "chart-err" }));
    }
    if (s === 0 && g % labelEvery === 0) {
      svg.append(el("text", { x: pad.left + g * slot + slot / 2, y: height - 8, "text-anchor": "middle", class: "chart-tick" }, b.label));
    }
  });
  return svg;
}
