// Client-side routing over the History API. Links are real `<a href>`: a
// click on one of the console's own paths is turned into a pushState, any
// other (a new tab, a download, the export, the sign-in) is left to the browser.

import { useEffect, useState } from "preact/hooks";

export interface Route {
  path: string;
  params: URLSearchParams;
}

/** The console's pages; the gateway serves index.html at each of them. */
export const PATHS = ["/", "/campagne", "/offres", "/partenaires", "/mobilite", "/secteur-public"];

const listeners = new Set<() => void>();

function current(): Route {
  return { path: location.pathname.replace(/\/+$/, "") || "/", params: new URLSearchParams(location.search) };
}

function notify(): void {
  for (const l of listeners) l();
}

export function navigate(url: string, options: { replace?: boolean } = {}): void {
  const target = new URL(url, location.href);
  if (target.href === location.href) return;
  if (options.replace) history.replaceState(null, "", target);
  else history.pushState(null, "", target);
  notify();
}

/** Changes query parameters of the current page (`null` removes one). */
export function setParams(changes: Record<string, string | null>, options: { replace?: boolean } = {}): void {
  const url = new URL(location.href);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === "") url.searchParams.delete(k);
    else url.searchParams.set(k, v);
  }
  navigate(url.href, options);
}

export function useRoute(): Route {
  const [route, set] = useState(current);
  useEffect(() => {
    const update = () => set(current());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return route;
}

/** Intercepts clicks on links to the console's own pages, once, at start. */
export function startRouter(): void {
  addEventListener("popstate", notify);
  document.addEventListener("click", (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.("a");
    if (!a || a.target || a.hasAttribute("download")) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin) return;
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (!PATHS.includes(path)) return;
    e.preventDefault();
    navigate(url.href);
  });
}
