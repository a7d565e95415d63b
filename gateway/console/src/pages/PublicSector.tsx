// Public-sector apprentices (CNFPT) by year and employer type.

import { useMemo } from "preact/hooks";
import { useQuery, type GqlError } from "../api";
import { integer, parisYear } from "../format";
import { useReady } from "../ready";
import { ChartFigure } from "../components/ChartFigure";
import { DataTable } from "../components/ChartFigure";
import { Failure, Loading, PartnerNotices } from "../components/status";
import type { PageProps } from "../app";

/** How many years back from this one; the CNFPT's figures start in 2016. */
const YEARS_SHOWN = 7;

interface Apprentices {
  year: number;
  etat: number;
  territoriale: number;
  hospitaliere: number;
  total: number;
}

function years(): number[] {
  const now = parisYear();
  return Array.from({ length: YEARS_SHOWN }, (_, i) => now - YEARS_SHOWN + 1 + i).filter((y) => y >= 2016);
}

/** One alias a year: `y2024: apprentices(year: 2024) { … }`. */
function query(ys: number[]): string {
  const fields = ys
    .map((y) => `y${y}: apprentices(year: ${y}) { year etat territoriale hospitaliere total }`)
    .join("\n");
  return `query ConsolePublicSector { publicSector { ${fields} } }`;
}

const count = (n: number) => integer(n);

export default function PublicSector(_: PageProps) {
  const ys = useMemo(years, []);
  const [state, reload] = useQuery<{ publicSector: Record<string, Apprentices | null> }>(
    useMemo(() => query(ys), [ys]),
    {},
  );
  useReady("secteur-public", state.status === "done" || state.status === "error");
  if (state.status === "error") return <Failure error={state.error} retry={reload} />;
  if (state.status !== "done") return <Loading />;
  return <View ys={ys} data={state.result.data.publicSector} errors={state.result.errors} />;
}

function View({ ys, data, errors }: { ys: number[]; data: Record<string, Apprentices | null>; errors: GqlError[] }) {
  const rows = ys.map((y) => data[`y${y}`] ?? null);
  const known = rows.filter((r): r is Apprentices => r !== null);
  const chart = useMemo(
    () => ({
      labels: known.map((r) => String(r.year)),
      series: [
        { label: "Fonction publique d'État", values: known.map((r) => r.etat) },
        { label: "Fonction publique territoriale", values: known.map((r) => r.territoriale) },
        { label: "Fonction publique hospitalière", values: known.map((r) => r.hospitaliere) },
      ],
    }),
    [data],
  );
  const table = ys.map((y, i) => {
    const r = rows[i];
    return r
      ? [String(y), integer(r.etat), integer(r.territoriale), integer(r.hospitaliere), integer(r.total)]
      : [String(y), "—", "—", "—", "non disponible"];
  });
  const head = ["Année", "État", "Territoriale", "Hospitalière", "Total"];
  return (
    <>
      <PartnerNotices errors={errors} />
      <p class="lead">Apprentis employés par la fonction publique en Normandie, par versant, de {ys[0]} à {ys.at(-1)}.</p>
      {known.length === 0 ? (
        <p class="notice notice-info">Le CNFPT n'a donné aucun chiffre pour ces années.</p>
      ) : (
        <div class="charts">
          <ChartFigure
            title="Apprentis du secteur public par année et par versant"
            description={`Diagramme en barres empilées : apprentis de la fonction publique d'État, territoriale et hospitalière, de ${known[0]!.year} à ${known.at(-1)!.year}.`}
            kind="stacked"
            labels={chart.labels}
            series={chart.series}
            tick={count}
            table={{ head, rows: table }}
          />
        </div>
      )}
      <section aria-labelledby="public-table">
        <h2 id="public-table">Tableau</h2>
        <DataTable caption="Apprentis du secteur public par année et par versant" head={head} rows={table} />
      </section>
    </>
  );
}
