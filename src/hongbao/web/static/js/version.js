// After a server upgrade this page's versioned prefix (/static/v/<digest>/) is gone: reload into the new release.

const PREFIX = new URL(import.meta.url).pathname.match(/^\/static\/v\/[^/]+\//)?.[0] ?? null;

/** A module failed to load: if the server now names another static version, reload the page (true); else false. */
export async function reloadIfUpgraded() {
  if (!PREFIX) return false;
  try {
    const index = await fetch("/app", { cache: "no-store" });
    if (!index.ok || (await index.text()).includes(PREFIX)) return false;
  } catch {
    return false;
  }
  location.reload();
  return true;
}
