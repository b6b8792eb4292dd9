// Inline SVG icons (no emoji: phones and CI machines may lack an emoji font).

const PATHS = {
  chat: '<path d="M4 5h16v11H9l-5 4z"/>',
  wallet: '<rect x="3" y="6" width="18" height="13" rx="2"/><path d="M3 10h18M16 14h2"/>',
  more: '<rect x="4" y="4" width="6" height="6" rx="1"/><rect x="14" y="4" width="6" height="6" rx="1"/><rect x="4" y="14" width="6" height="6" rx="1"/><rect x="14" y="14" width="6" height="6" rx="1"/>',
  packet: '<rect x="5" y="3" width="14" height="18" rx="2" fill="#d9463b" stroke="#d9463b"/><path d="M5 8c4 3 10 3 14 0" stroke="#f5c36b"/><circle cx="12" cy="10" r="2.2" fill="#f5c36b" stroke="#f5c36b"/>',
  crown: '<path d="M4 17l-1-9 5 4 4-6 4 6 5-4-1 9z" fill="currentColor"/>',
  key: '<circle cx="8" cy="12" r="4"/><path d="M12 12h9M17 12v3M20 12v2"/>',
  keyboard: '<rect x="2" y="6" width="20" height="12" rx="2"/><path d="M6 10h1M10 10h1M14 10h1M18 10h1M7 14h10"/>',
  people: '<circle cx="8" cy="8" r="3"/><circle cx="16" cy="8" r="3"/><path d="M2 20c0-4 3-6 6-6s6 2 6 6M12 20c0-4 1.5-6 4-6 3 0 6 2 6 6"/>',
  digits: '<rect x="3" y="5" width="18" height="14" rx="2"/><path d="M7 10v4M11 10h2v2h-2v2h2M16 10h2v4h-2M16 12h2"/>',
  link: '<path d="M10 14a4 4 0 0 0 6 0l3-3a4 4 0 0 0-6-6l-1 1M14 10a4 4 0 0 0-6 0l-3 3a4 4 0 0 0 6 6l1-1"/>',
  hand: '<path d="M7 11V5a1.5 1.5 0 0 1 3 0v5M10 10V4a1.5 1.5 0 0 1 3 0v6M13 10V5a1.5 1.5 0 0 1 3 0v7M16 12V8a1.5 1.5 0 0 1 3 0v6c0 4-3 7-7 7s-5-2-7-5l-2-3a1.5 1.5 0 0 1 2.5-1.5L7 13"/>',
  transfer: '<path d="M4 8h14l-3-3M20 16H6l3 3"/>',
  star: '<path d="M12 3l2.7 5.6 6.1.9-4.4 4.3 1 6.1L12 17l-5.4 2.9 1-6.1-4.4-4.3 6.1-.9z"/>',
  shake: '<rect x="7" y="3" width="10" height="18" rx="2"/><path d="M11 18h2M3 8v8M21 8v8"/>',
  pin: '<path d="M12 21s-7-6-7-11a7 7 0 0 1 14 0c0 5-7 11-7 11z"/><circle cx="12" cy="10" r="2.5"/>',
  lantern: '<path d="M12 2v3M9 5h6M7 8c0-2 2-3 5-3s5 1 5 3v7c0 2-2 3-5 3s-5-1-5-3zM9 18h6M12 18v4"/>',
  chart: '<path d="M4 20h16M7 17v-6M12 17V6M17 17v-9"/>',
  addfriend: '<circle cx="9" cy="8" r="3.5"/><path d="M2 20c0-4 3-6.5 7-6.5s7 2.5 7 6.5M19 8v6M16 11h6"/>',
  ticket: '<path d="M3 7h18v3a2 2 0 0 0 0 4v3H3v-3a2 2 0 0 0 0-4z"/><path d="M14 7v10" stroke-dasharray="2 2"/>',
};

/** An <svg> icon; decorative (aria-hidden) unless given a label. */
export function icon(name, { label = null, size = 24, cls = "" } = {}) {
  const svg = new DOMParser().parseFromString(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="${size}" height="${size}" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">${PATHS[name] ?? ""}</svg>`,
    "image/svg+xml",
  ).documentElement;
  svg.setAttribute("class", `icon ${cls}`.trim());
  if (label) {
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
  } else {
    svg.setAttribute("aria-hidden", "true");
  }
  return document.importNode(svg, true);
}
