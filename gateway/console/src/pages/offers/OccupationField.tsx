// The occupation a search is about, found as people type it: the words of a
// job ("boulan", "coifeur", "CAP coiffure") list the occupations of the ROME
// referential that `occupations` finds; choosing one applies its code. A ROME
// code typed whole (D1102) is applied as it is. The WAI-ARIA combobox pattern:
// arrows move in the list, Enter chooses, Escape closes.

import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { gql } from "../../api";

const OCCUPATIONS = /* GraphQL */ `
  query Occupations($search: String!) {
    occupations(search: $search, first: 8) {
      rome { code label }
      matchedLabel
    }
  }
`;

interface Occupation {
  rome: { code: string; label: string | null };
  matchedLabel: string;
}

const ROME = /^[A-Z]\d{4}$/;

export function OccupationField(props: {
  /** The code applied, from the URL. */
  value: string | null;
  onChange: (code: string | null) => void;
  /** Whether what is typed will change the code applied. */
  onPending: (pending: boolean) => void;
}) {
  const [text, setText] = useState(props.value ?? "");
  const [options, setOptions] = useState<Occupation[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [failed, setFailed] = useState(false);
  // The code this field applied, and the occupation it shows for it.
  const applied = useRef<string | null>(props.value);
  const shown = useRef<string | null>(null);

  // Back and forward bring their own code.
  useEffect(() => {
    if (props.value !== applied.current) {
      applied.current = props.value;
      shown.current = null;
      setText(props.value ?? "");
    }
  }, [props.value]);

  const typed = text.trim();
  const code = typed.toUpperCase();
  const isCode = ROME.test(code);
  // Cleared, or a code typed whole: applied after a pause in typing.
  const direct = typed === "" ? null : isCode ? code : undefined;
  const pending = direct !== undefined && direct !== (props.value ?? null);
  useLayoutEffect(() => props.onPending(pending), [pending]);
  useEffect(() => {
    if (!pending) return;
    const t = setTimeout(() => {
      applied.current = direct ?? null;
      props.onChange(direct ?? null);
    }, 300);
    return () => clearTimeout(t);
  }, [direct, pending]);

  // The occupations for the words typed, the request they replace cancelled.
  useEffect(() => {
    if (typed === "" || isCode || text === shown.current || !open) {
      setOptions([]);
      return;
    }
    const abort = new AbortController();
    const t = setTimeout(() => {
      gql<{ occupations: Occupation[] }>(OCCUPATIONS, { search: typed }, abort.signal).then(
        (r) => {
          setFailed(false);
          setOptions(r.data.occupations);
          setActive(-1);
        },
        () => {
          if (!abort.signal.aborted) setFailed(true);
        },
      );
    }, 120);
    return () => {
      clearTimeout(t);
      abort.abort();
    };
  }, [typed, isCode, open, text]);

  // The field shows the occupation chosen; its code goes to the URL.
  const choose = (o: Occupation) => {
    const label = `${o.rome.label ?? o.matchedLabel} (${o.rome.code})`;
    applied.current = o.rome.code;
    shown.current = label;
    setText(label);
    setOpen(false);
    setOptions([]);
    props.onChange(o.rome.code);
  };

  const expanded = open && options.length > 0;
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setOpen(true);
      setActive((a) => (options.length === 0 ? -1 : (a + 1) % options.length));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => (options.length === 0 ? -1 : (a - 1 + options.length) % options.length));
    } else if (e.key === "Enter") {
      const option = expanded ? options[active] : undefined;
      if (option) {
        e.preventDefault();
        choose(option);
      }
    } else if (e.key === "Escape") {
      setOpen(false);
    }
  };

  return (
    <p class="field combobox">
      <label for="filter-rome">Métier</label>
      <input
        id="filter-rome"
        type="text"
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={expanded}
        aria-controls="filter-rome-options"
        aria-activedescendant={expanded && active >= 0 ? `filter-rome-option-${active}` : undefined}
        aria-describedby="filter-rome-help"
        autocomplete="off"
        spellcheck={false}
        placeholder="boulanger, coiffure, D1102…"
        maxLength={100}
        value={text}
        onInput={(e) => {
          setText((e.target as HTMLInputElement).value);
          setOpen(true);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
      />
      <ul id="filter-rome-options" role="listbox" aria-label="Métiers" hidden={!expanded}>
        {options.map((o, i) => (
          <li
            key={o.rome.code}
            id={`filter-rome-option-${i}`}
            role="option"
            aria-selected={i === active}
            data-rome={o.rome.code}
            onMouseDown={(e) => {
              e.preventDefault();
              choose(o);
            }}
          >
            <span>{o.matchedLabel}</span> <span class="hint">{o.rome.code}</span>
          </li>
        ))}
      </ul>
      <span id="filter-rome-help" class={failed ? "field-error" : "hint"}>
        {failed
          ? "Les métiers n'ont pas pu être cherchés : tapez un code ROME (D1102)."
          : "Un métier ou un code ROME ; les flèches parcourent la liste."}
      </span>
    </p>
  );
}
