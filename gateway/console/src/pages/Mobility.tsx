// Apprentices' mobility abroad: Pass Monde and Erasmus+.

import { useMemo } from "preact/hooks";
import { useQuery, type GqlError } from "../api";
import { compactMoney, integer, money, moneyNumber, month } from "../format";
import { useReady } from "../ready";
import { ChartFigure } from "../components/ChartFigure";
import { Failure, KeyFigure, Loading, PartnerNotices } from "../components/status";
import type { PageProps } from "../app";

const MOBILITY = /* GraphQL */ `
  query ConsoleMobility {
    mobility {
      total { mobilities participants days amount }
      byProgram { program figures { mobilities participants days amount } }
      byCountry { key figures { mobilities participants days amount } }
      byMonth { key figures { mobilities participants days amount } }
    }
  }
`;

interface Figures {
  mobilities: number;
  participants: number;
  days: number;
  amount: string;
}

interface Data {
  mobility: {
    total: Figures;
    byProgram: { program: string; figures: Figures }[];
    byCountry: { key: string; figures: Figures }[];
    byMonth: { key: string; figures: Figures }[];
  };
}

const PROGRAMS: Record<string, string> = {
  PASS_MONDE: "Pass Monde",
  ERASMUS_SHORT_TERM: "Erasmus+ courte durée",
  ERASMUS_PRO: "ErasmusPro (longue durée)",
  ERASMUS_GROUP: "Erasmus+ en groupe",
  ERASMUS_SKILLS_COMPETITION: "Erasmus+ concours de métiers",
};

const countryNames = new Intl.DisplayNames("fr", { type: "region" });
function country(code: string): string {
  try {
    return countryNames.of(code) ?? code;
  } catch {
    return code;
  }
}

const count = (n: number) => integer(n);

export default function Mobility(_: PageProps) {
  const [state, reload] = useQuery<Data>(MOBILITY, {});
  useReady("mobilite", state.status === "done" || state.status === "error");
  if (state.status === "error") return <Failure error={state.error} retry={reload} />;
  if (state.status !== "done") return <Loading />;
  return <MobilityView data={state.result.data} errors={state.result.errors} />;
}

function MobilityView({ data, errors }: { data: Data; errors: GqlError[] }) {
  const m = data.mobility;
  const programs = useMemo(() => {
    const rows = m.byProgram;
    return {
      labels: rows.map((r) => PROGRAMS[r.program] ?? r.program),
      series: [{ label: "Mobilités", values: rows.map((r) => r.figures.mobilities) }],
      rows: rows.map((r) => [
        PROGRAMS[r.program] ?? r.program,
        integer(r.figures.mobilities),
        integer(r.figures.participants),
        money(r.figures.amount),
      ]),
    };
  }, [m.byProgram]);
  const countries = useMemo(() => {
    const rows = [...m.byCountry].sort((a, b) => b.figures.mobilities - a.figures.mobilities).slice(0, 10);
    return {
      labels: rows.map((r) => country(r.key)),
      series: [{ label: "Mobilités", values: rows.map((r) => r.figures.mobilities) }],
      rows: rows.map((r) => [country(r.key), integer(r.figures.mobilities), integer(r.figures.participants), money(r.figures.amount)]),
    };
  }, [m.byCountry]);
  const months = useMemo(() => {
    const rows = [...m.byMonth].sort((a, b) => a.key.localeCompare(b.key));
    return {
      labels: rows.map((r) => month(r.key)),
      series: [{ label: "Montant des aides", values: rows.map((r) => moneyNumber(r.figures.amount)) }],
      exact: rows.map((r) => r.figures.amount),
      rows: rows.map((r) => [month(r.key), integer(r.figures.mobilities), integer(r.figures.participants), money(r.figures.amount)]),
    };
  }, [m.byMonth]);
  const head = ["Mobilités", "Apprentis", "Montant"];

  return (
    <>
      <PartnerNotices errors={errors} />
      <section aria-labelledby="mobility-totals">
        <h2 id="mobility-totals">En tout</h2>
        <dl class="key-figures">
          <KeyFigure id="mobility-count" label="Mobilités" value={integer(m.total.mobilities)} />
          <KeyFigure id="mobility-participants" label="Apprentis partis" value={integer(m.total.participants)} />
          <KeyFigure id="mobility-days" label="Jours à l'étranger" value={integer(m.total.days)} />
          <KeyFigure id="mobility-amount" label="Aides versées" value={money(m.total.amount)} raw={m.total.amount} />
        </dl>
      </section>
      <section aria-labelledby="mobility-charts" class="charts">
        <h2 id="mobility-charts">Répartition</h2>
        <ChartFigure
          title="Mobilités par programme"
          description={`Diagramme en barres : nombre de mobilités pour chacun des ${programs.labels.length} programmes.`}
          kind="hbar"
          labels={programs.labels}
          series={programs.series}
          tick={count}
          table={{ head: ["Programme", ...head], rows: programs.rows }}
        />
        <ChartFigure
          title="Les dix premiers pays de destination"
          description="Diagramme en barres horizontales : nombre de mobilités vers les dix pays les plus choisis."
          kind="hbar"
          labels={countries.labels}
          series={countries.series}
          tick={count}
          table={{ head: ["Pays", ...head], rows: countries.rows }}
        />
        <ChartFigure
          title="Aides par mois de départ"
          description={`Diagramme en barres : montant des aides selon le mois de départ, de ${months.labels[0] ?? "—"} à ${months.labels.at(-1) ?? "—"}.`}
          kind="bar"
          labels={months.labels}
          series={months.series}
          tick={compactMoney}
          tooltip={(_, i) => money(months.exact[i])}
          table={{ head: ["Mois", ...head], rows: months.rows }}
        />
      </section>
    </>
  );
}
