// Links to the project's book (its documentation, in English), which the gateway
// serves from the same origin under /book/. Plain links, in the same tab: the
// router leaves them to the browser (they are not the console's own paths).

import type { ComponentChildren } from "preact";

/** Where the gateway serves the book. */
export const BOOK = "/book/";

/**
 * A link to a chapter of the book (`analysts/campaign.html`), its text in French,
 * marked as leading to a page in English: `hreflang="en"` and "(en anglais)",
 * shown in small type, or only to screen readers when `quiet`.
 */
export function BookLink(props: { chapter: string; children: ComponentChildren; id?: string; class?: string; quiet?: boolean }) {
  return (
    <a id={props.id} class={props.class} href={BOOK + props.chapter} hreflang="en">
      {props.children}
      <span class={props.quiet ? "visually-hidden" : "lang-note"}> (en anglais)</span>
    </a>
  );
}
