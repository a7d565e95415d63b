// How the console writes numbers, amounts and dates, in French.
//
// Amounts arrive as exact decimal strings (`"1234.50"`): they are formatted as
// text, digit by digit, never through a float, so that the figure shown is the
// figure the gateway summed in cents.

/** The group separator `Intl.NumberFormat('fr-FR')` uses: U+202F. */
const GROUP = "\u202f";
const NBSP = "\u00a0";
const PARIS = "Europe/Paris";

const integerFormat = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 0 });
const percentFormat = new Intl.NumberFormat("fr-FR", {
  style: "percent",
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});
const compactFormat = new Intl.NumberFormat("fr-FR", {
  notation: "compact",
  maximumFractionDigits: 1,
});
const dateTimeFormat = new Intl.DateTimeFormat("fr-FR", {
  timeZone: PARIS,
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});
const dateFormat = new Intl.DateTimeFormat("fr-FR", {
  timeZone: PARIS,
  day: "numeric",
  month: "short",
  year: "numeric",
});
// A calendar date (`2026-09-01`) has no instant: it is read as written.
const calendarDateFormat = new Intl.DateTimeFormat("fr-FR", {
  timeZone: "UTC",
  day: "numeric",
  month: "short",
  year: "numeric",
});
const timeFormat = new Intl.DateTimeFormat("fr-FR", {
  timeZone: PARIS,
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const monthFormat = new Intl.DateTimeFormat("fr-FR", {
  timeZone: "UTC",
  month: "long",
  year: "numeric",
});
const yearFormat = new Intl.DateTimeFormat("en-CA", { timeZone: PARIS, year: "numeric" });

const MONEY = /^(-?)(\d+)(?:\.(\d{1,2}))?$/;

/** Groups a string of digits by three from the right. */
function groupDigits(digits: string): string {
  const trimmed = digits.replace(/^0+(?=\d)/, "");
  let out = "";
  for (let end = trimmed.length; end > 0; end -= 3) {
    const start = Math.max(0, end - 3);
    out = trimmed.slice(start, end) + (out ? GROUP + out : "");
  }
  return out;
}

/**
 * Formats a `Money` decimal string: `"1234.50"` → `1 234,50 €` (U+202F between
 * groups, U+00A0 before the sign). A value that is not a decimal string is
 * returned as it came rather than shown wrong.
 */
export function money(value: string | null | undefined): string {
  if (value == null) return "—";
  const m = MONEY.exec(value.trim());
  if (!m) return value;
  const [, sign, whole = "0", cents = ""] = m;
  const negative = sign === "-" && /[1-9]/.test(whole + cents);
  return `${negative ? "-" : ""}${groupDigits(whole)},${cents.padEnd(2, "0")}${NBSP}€`;
}

/** Reads a `Money` string as a number of euros, for chart scales only. */
export function moneyNumber(value: string): number {
  const n = Number(value);
  return Number.isFinite(n) ? n : 0;
}

/** A whole number with French grouping: `1 234`. */
export function integer(n: number | null | undefined): string {
  return n == null ? "—" : integerFormat.format(n);
}

/** A ratio from 0 to 1 as a percentage with one decimal: `12,3 %`. */
export function percent(ratio: number | null | undefined): string {
  return ratio == null || !Number.isFinite(ratio) ? "—" : percentFormat.format(ratio);
}

/** A short amount for chart axes: `1,2 M €`. */
export function compactMoney(euros: number): string {
  return `${compactFormat.format(euros)}${NBSP}€`;
}

function instant(iso: string): Date | null {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** An instant in Paris time: `2 déc. 2026, 10:00`. */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = instant(iso);
  return d ? dateTimeFormat.format(d) : iso;
}

/** A date: a calendar date as written, an instant as its day in Paris. */
export function date(iso: string | null | undefined): string {
  if (!iso) return "—";
  const cal = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (cal) {
    return calendarDateFormat.format(new Date(Date.UTC(+cal[1]!, +cal[2]! - 1, +cal[3]!)));
  }
  const d = instant(iso);
  return d ? dateFormat.format(d) : iso;
}

/** The time of an instant in Paris: `10:00:05`. */
export function time(at: Date): string {
  return timeFormat.format(at);
}

/** An ISO week key as a short label: `2026-W23` → `sem. 23`. */
export function week(key: string): string {
  const m = /^\d{4}-W(\d{1,2})$/.exec(key);
  return m ? `sem.${NBSP}${Number(m[1])}` : key;
}

/** A month key as a label: `2027-03` → `mars 2027`. */
export function month(key: string): string {
  const m = /^(\d{4})-(\d{2})$/.exec(key);
  return m ? monthFormat.format(new Date(Date.UTC(+m[1]!, +m[2]! - 1, 1))) : key;
}

/** The current year in Paris (on 31 December at 23:30 UTC it is already next year there). */
export function parisYear(now: Date = new Date()): number {
  return Number(yearFormat.format(now));
}

/** A duration in milliseconds, for people: `850 ms`, `2,4 s`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${integer(ms)}${NBSP}ms`;
  return `${new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 }).format(ms / 1000)}${NBSP}s`;
}
