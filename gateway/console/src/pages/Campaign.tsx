// The taxe d'apprentissage campaign: where Normandy employers' money goes.
// Everything here needs `region:bi`, except a CFA's own line (`cfa` claim).

import { useMemo, useState } from "preact/hooks";
import { useQuery, type GqlError } from "../api";
import { compactMoney, integer, money, moneyNumber, parisYear, percent, week } from "../format";
import { setParams } from "../router";
import { useReady } from "../ready";
import { signInHref, type Session } from "../session";
import { ChartFigure } from "../components/ChartFigure";
import { Failure, KeyFigure, Loading, PartnerNotices } from "../components/status";
import { Establishments } from "./campaign/Establishments";
import { CfaLine } from "./campaign/CfaLine";
import type { PageProps } from "../app";

const OVERVIEW = /* GraphQL */ `
  query CampaignOverview($year: Int!) {
    taxCampaign(year: $year) {
      totals {
        amount allocations employers establishments
        toNormandy outsideNormandy fromNormandyEmployers leaked leakageRate
      }
      byOpco { key label amount allocations }
      byEmployerDepartement { key label amount allocations employers }
      byWeek { key amount allocations }
    }
  }
`;

interface Line {
  key: string;
  label: string | null;
  amount: string;
  allocations: number;
  employers?: number | null;
}

interface Overview {
  taxCampaign: {
    totals: {
      amount: string;
      allocations: number;
      employers: number;
      establishments: number;
      toNormandy: string;
      outsideNormandy: string;
      fromNormandyEmployers: string;
      leaked: string;
      leakageRate: number | null;
    };
    byOpco: Line[];
    byEmployerDepartement: Line[];
    byWeek: Line[];
  };
}

/** The campaigns offered: this year in Paris and the four before. */
export function campaignYears(): number[] {
  const now = parisYear();
  return [0, 1, 2, 3, 4].map((i) => now - i);
}

export default function Campaign({ route, session }: PageProps) {
  const years = campaignYears();
  const asked = Number(route.params.get("annee"));
  const year = years.includes(asked) ? asked : years[0]!;
  const bi = session.signedIn && !session.expired && session.scopes.includes("region:bi");
  const cfa = !bi && session.signedIn && !session.expired ? session.cfa : null;

  const yearSelect = (
    <p class="toolbar">
      <label for="campaign-year">Campagne</label>
      <select
        id="campaign-year"
        value={String(year)}
        onChange={(e) => setParams({ annee: (e.target as HTMLSelectElement).value })}
      >
        {years.map((y) => (
          <option key={y} value={String(y)}>
            {y}
          </option>
        ))}
      </select>
    </p>
  );

  if (cfa) {
    return (
      <>
        {yearSelect}
        <CfaLine year={year} uai={cfa} />
      </>
    );
  }
  if (!bi) return <Denied session={session} />;
  return (
    <>
      {yearSelect}
      <BiCampaign year={year} />
    </>
  );
}

function Denied({ session }: { session: Session }) {
  useReady("campagne", true);
  // An expired session already has its banner with a sign-in button.
  const showSignIn = session.signIn && !session.signedIn;
  return (
    <div id="campaign-denied" class="notice notice-info">
      <p>
        Cette page demande le droit region:bi, celui des analystes de la Région.{" "}
        {session.expired
          ? "Votre session a expiré : reconnectez-vous pour la voir."
          : session.signedIn
            ? "Votre session n'a pas ce droit : demandez-le à l'administrateur de la console."
            : "Connectez-vous pour la voir."}
      </p>
      {showSignIn && (
        <a class="button" href={signInHref()}>
          Se connecter
        </a>
      )}
    </div>
  );
}

function BiCampaign({ year }: { year: number }) {
  const [overview, reload] = useQuery<Overview>(OVERVIEW, { year });
  // The establishments' table reports when its own data is on screen.
  const [tableSettled, setTableSettled] = useState(false);
  useReady("campagne", (overview.status === "done" || overview.status === "error") && tableSettled);

  return (
    <>
      {overview.status === "error" ? (
        <Failure error={overview.error} retry={reload} />
      ) : overview.status !== "done" ? (
        <Loading label="Chargement de la campagne…" />
      ) : (
        <OverviewView data={overview.result.data} errors={overview.result.errors} year={year} />
      )}
      <Establishments key={year} year={year} onSettled={setTableSettled} />
    </>
  );
}

function OverviewView({ data, errors, year }: { data: Overview; errors: GqlError[]; year: number }) {
  const t = data.taxCampaign.totals;
  const c = data.taxCampaign;

  const weeks = useMemo(() => {
    const rows = c.byWeek;
    return {
      labels: rows.map((r) => week(r.key)),
      series: [{ label: "Montant", values: rows.map((r) => moneyNumber(r.amount)) }],
      table: rows.map((r) => [week(r.key), money(r.amount), integer(r.allocations)]),
      exact: rows.map((r) => r.amount),
    };
  }, [c.byWeek]);

  const opcos = useMemo(() => {
    const rows = [...c.byOpco].sort((a, b) => moneyNumber(b.amount) - moneyNumber(a.amount));
    return {
      labels: rows.map((r) => r.label ?? r.key),
      series: [{ label: "Montant", values: rows.map((r) => moneyNumber(r.amount)) }],
      table: rows.map((r) => [r.label ?? r.key, money(r.amount), integer(r.allocations)]),
      exact: rows.map((r) => r.amount),
    };
  }, [c.byOpco]);

  const deps = useMemo(() => {
    const rows = [...c.byEmployerDepartement].sort((a, b) => moneyNumber(b.amount) - moneyNumber(a.amount));
    const name = (r: Line) => (r.label ? `${r.label} (${r.key})` : `Département ${r.key}`);
    return {
      labels: rows.map(name),
      series: [{ label: "Montant", values: rows.map((r) => moneyNumber(r.amount)) }],
      table: rows.map((r) => [name(r), money(r.amount), integer(r.employers ?? null)]),
      exact: rows.map((r) => r.amount),
    };
  }, [c.byEmployerDepartement]);

  return (
    <>
      <PartnerNotices errors={errors} />
      <section aria-labelledby="campaign-totals">
        <h2 id="campaign-totals">Totaux de la campagne {year}</h2>
        <dl class="key-figures">
          <KeyFigure id="total-amount" label="Montant alloué" value={money(t.amount)} raw={t.amount} />
          <KeyFigure id="total-allocations" label="Allocations" value={integer(t.allocations)} />
          <KeyFigure id="total-employers" label="Employeurs" value={integer(t.employers)} />
          <KeyFigure id="total-establishments" label="Établissements bénéficiaires" value={integer(t.establishments)} />
        </dl>
        <h3>Ce qui reste en Normandie</h3>
        <dl class="key-figures">
          <KeyFigure id="to-normandy" label="Vers des établissements normands" value={money(t.toNormandy)} raw={t.toNormandy} />
          <KeyFigure
            id="outside-normandy"
            label="Vers des établissements hors Normandie"
            value={money(t.outsideNormandy)}
            raw={t.outsideNormandy}
          />
          <KeyFigure
            id="leaked"
            label="Fuite : d'employeurs normands vers l'extérieur"
            value={money(t.leaked)}
            raw={t.leaked}
            hint={`sur ${money(t.fromNormandyEmployers)} versés par des employeurs normands`}
          />
          <KeyFigure
            id="leakage-rate"
            label="Taux de fuite"
            value={percent(t.leakageRate)}
            raw={t.leakageRate == null ? undefined : String(t.leakageRate)}
          />
        </dl>
      </section>
      {t.allocations === 0 ? (
        <p class="notice notice-info">Aucune allocation n'a encore été versée pour la campagne {year}.</p>
      ) : (
      <section aria-labelledby="campaign-charts" class="charts">
        <h2 id="campaign-charts">Répartition</h2>
        <ChartFigure
          title="Montant alloué par semaine"
          description={`Diagramme en barres : montant alloué chaque semaine de la campagne ${year}, de ${weeks.labels[0] ?? "—"} à ${weeks.labels.at(-1) ?? "—"}.`}
          kind="bar"
          labels={weeks.labels}
          series={weeks.series}
          tick={compactMoney}
          tooltip={(_, i) => money(weeks.exact[i])}
          table={{ head: ["Semaine", "Montant", "Allocations"], rows: weeks.table }}
        />
        <ChartFigure
          title="Montant alloué par OPCO"
          description={`Diagramme en barres horizontales : montant alloué par chacun des ${opcos.labels.length} OPCO, du plus grand au plus petit.`}
          kind="hbar"
          labels={opcos.labels}
          series={opcos.series}
          tick={compactMoney}
          tooltip={(_, i) => money(opcos.exact[i])}
          table={{ head: ["OPCO", "Montant", "Allocations"], rows: opcos.table }}
        />
        <ChartFigure
          title="Montant alloué par département de l'employeur"
          description={`Diagramme en barres horizontales : montant alloué selon le département des employeurs, ${deps.labels.length} départements, du plus grand au plus petit.`}
          kind="hbar"
          labels={deps.labels}
          series={deps.series}
          tick={compactMoney}
          tooltip={(_, i) => money(deps.exact[i])}
          table={{ head: ["Département de l'employeur", "Montant", "Employeurs"], rows: deps.table }}
        />
      </section>
      )}
    </>
  );
}
