// The map's colour scale: six classes of a sequential blue, with zero apart in
// a light neutral so that "none" never reads as "few".

export const ZERO_COLOUR = "#ebebe8";
export const CLASS_COLOURS = ["#d2e3f3", "#a6c8e6", "#74a8d6", "#4787c3", "#2264a6", "#0c4282"];

export interface Scale {
  /** Upper bounds of each class, inclusive, ascending. */
  breaks: number[];
  colour: (value: number) => string;
}

/**
 * Classes by quantiles of the values above zero, rounded to whole numbers and
 * never empty: few distinct values give fewer classes.
 */
export function quantileScale(values: number[]): Scale {
  const positive = values.filter((v) => v > 0).sort((a, b) => a - b);
  const breaks: number[] = [];
  if (positive.length > 0) {
    const n = CLASS_COLOURS.length;
    for (let i = 1; i <= n; i++) {
      const at = positive[Math.min(positive.length - 1, Math.ceil((i / n) * positive.length) - 1)]!;
      const b = Math.ceil(at);
      if (breaks.length === 0 || b > breaks[breaks.length - 1]!) breaks.push(b);
    }
  }
  // Fewer classes take the darker end of the ramp, so the top class is always the darkest.
  const offset = CLASS_COLOURS.length - breaks.length;
  return {
    breaks,
    colour: (v) => {
      if (!(v > 0)) return ZERO_COLOUR;
      const i = breaks.findIndex((b) => v <= b);
      return CLASS_COLOURS[offset + (i < 0 ? breaks.length - 1 : i)]!;
    },
  };
}

/** The legend's lines: `0`, then each class's range. */
export function legend(scale: Scale, format: (n: number) => string): { colour: string; label: string }[] {
  const lines = [{ colour: ZERO_COLOUR, label: format(0) }];
  let low = 1;
  const offset = CLASS_COLOURS.length - scale.breaks.length;
  scale.breaks.forEach((b, i) => {
    lines.push({ colour: CLASS_COLOURS[offset + i]!, label: low === b ? format(b) : `${format(low)} à ${format(b)}` });
    low = b + 1;
  });
  return lines;
}
