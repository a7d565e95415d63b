// A chart and the same figures as a table: the canvas is a picture for those
// who see it, the table is what everyone (and every screen reader) can read.

import { useLayoutEffect, useRef } from "preact/hooks";
import {
  Chart,
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  Tooltip,
  Legend,
  type ChartConfiguration,
} from "chart.js";

// Only what the console draws is registered, so the rest of Chart.js is left out of the bundle.
/** The console's font stack, as in styles.css. */
const FONT = "system-ui, -apple-system, \"Segoe UI\", Roboto, \"Helvetica Neue\", Arial, sans-serif";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);
Chart.defaults.color = "#2b2b2b";
Chart.defaults.font.family = FONT;

/** Colours of the series, distinct for the usual forms of colour blindness. */
export const SERIES_COLOURS = ["#1f5aa6", "#c8641a", "#2a7d3f", "#7b3fa0", "#9c2b2b"];

export interface Series {
  label: string;
  values: number[];
}

export interface ChartFigureProps {
  title: string;
  /** What the chart shows, read out in place of the canvas. */
  description: string;
  kind: "bar" | "hbar" | "stacked";
  labels: string[];
  series: Series[];
  /** Writes a value for the axis and the tooltips. */
  tick: (n: number) => string;
  /** Writes a bar's exact value (by its index and its series') in the tooltip. */
  tooltip?: (value: number, index: number, series: number) => string;
  table: { head: string[]; rows: string[][] };
}

export function ChartFigure(props: ChartFigureProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const { kind, labels, series, tick } = props;
  const tooltip = props.tooltip ?? ((n: number) => tick(n));

  useLayoutEffect(() => {
    if (!canvas.current) return;
    const horizontal = kind === "hbar";
    const stacked = kind === "stacked";
    const config: ChartConfiguration<"bar"> = {
      type: "bar",
      data: {
        labels,
        datasets: series.map((s, i) => ({
          label: s.label,
          data: s.values,
          backgroundColor: SERIES_COLOURS[i % SERIES_COLOURS.length],
          borderWidth: 0,
          maxBarThickness: 48,
        })),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { display: series.length > 1, position: "bottom" },
          tooltip: {
            callbacks: {
              label: (ctx) =>
                `${series.length > 1 ? `${ctx.dataset.label} : ` : ""}${tooltip(Number(ctx.raw), ctx.dataIndex, ctx.datasetIndex)}`,
            },
          },
        },
        scales: {
          x: horizontal
            ? { beginAtZero: true, stacked, ticks: { callback: (v) => tick(Number(v)) } }
            : { stacked, grid: { display: false } },
          y: horizontal
            ? { grid: { display: false }, ticks: { autoSkip: false } }
            : { beginAtZero: true, stacked, ticks: { callback: (v) => tick(Number(v)) } },
        },
      },
    };
    const chart = new Chart(canvas.current, config);
    return () => chart.destroy();
    // The chart is drawn again when its figures change, not when the tooltip's closure does.
  }, [kind, labels, series]);

  const tall = kind === "hbar" ? { height: `${Math.max(10, labels.length * 1.9 + 4)}rem` } : undefined;
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div class="chart-box" style={tall}>
        <canvas ref={canvas} role="img" aria-label={props.description} />
      </div>
      <details class="chart-data">
        <summary>Voir les données</summary>
        <DataTable caption={`Données : ${props.title}`} head={props.table.head} rows={props.table.rows} />
      </details>
    </figure>
  );
}

/** A plain table of figures; the first column names the row. */
export function DataTable(props: { caption: string; head: string[]; rows: string[][] }) {
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label={props.caption}>
      <table class="figures">
        <caption class="visually-hidden">{props.caption}</caption>
        <thead>
          <tr>
            {props.head.map((h, i) => (
              <th scope="col" class={i > 0 ? "num" : undefined} key={h}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={r[0]}>
              {r.map((c, i) =>
                i === 0 ? (
                  <th scope="row" key={i}>
                    {c}
                  </th>
                ) : (
                  <td class="num" key={i}>
                    {c}
                  </td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
