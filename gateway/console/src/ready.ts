// The signal that tests and the benchmark wait on: `<html data-ready="page">`
// once every figure of the page is on screen, with a performance mark.

import { useEffect, useLayoutEffect } from "preact/hooks";

export function markReady(page: string): void {
  document.documentElement.dataset.ready = page;
  performance.mark(`ready:${page}`);
}

export function clearReady(): void {
  delete document.documentElement.dataset.ready;
}

/**
 * Sets the signal after the page painted with `done` true, and takes it away
 * before paint as soon as `done` turns false (new filters, a new page).
 */
export function useReady(page: string, done: boolean): void {
  useLayoutEffect(() => {
    if (!done) clearReady();
  }, [done]);
  useEffect(() => {
    if (done) markReady(page);
  }, [done, page]);
  useLayoutEffect(() => clearReady, []);
}
