// Previous and next page of a connection, walked with its cursors: the
// caller keeps `cursors` (cursors[i] is the `after` of page i; page 0 has
// none), the pager moves along them.

import type { ComponentChildren } from "preact";
import { clearReady } from "../ready";

export function Pager(props: {
  label: string;
  cursors: (string | null)[];
  setCursors: (c: (string | null)[]) => void;
  hasNextPage: boolean;
  endCursor: string | null;
  loading: boolean;
  children?: ComponentChildren;
}) {
  const page = props.cursors.length - 1;
  const go = (cursors: (string | null)[]) => {
    clearReady();
    props.setCursors(cursors);
  };
  return (
    <nav class="pager" aria-label={props.label}>
      <button
        type="button"
        disabled={page === 0 || props.loading}
        onClick={() => go(props.cursors.slice(0, -1))}
      >
        Page précédente
      </button>
      {props.children}
      <button
        type="button"
        disabled={!props.hasNextPage || props.loading}
        onClick={() => go([...props.cursors, props.endCursor])}
      >
        Page suivante
      </button>
    </nav>
  );
}
