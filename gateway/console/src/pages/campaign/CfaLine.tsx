// A CFA's own view of the campaign (`cfa` claim): its line and its allocations.

import { useQuery } from "../../api";
import { integer, money } from "../../format";
import { useReady } from "../../ready";
import { useState } from "preact/hooks";
import { Failure, KeyFigure, Loading } from "../../components/status";
import { AllocationsPanel } from "./AllocationsPanel";
import type { EstablishmentLine } from "./Establishments";

const LINE = /* GraphQL */ `
  query CampaignCfaLine($year: Int!, $uai: String!) {
    taxCampaign(year: $year) {
      establishment(uai: $uai) {
        uai name inNormandy knownToCatalogue amount allocations employers
        departement { code name }
      }
    }
  }
`;

export function CfaLine(props: { year: number; uai: string }) {
  const [state, reload] = useQuery<{ taxCampaign: { establishment: EstablishmentLine | null } }>(LINE, {
    year: props.year,
    uai: props.uai,
  });
  const [panelSettled, setPanelSettled] = useState(false);
  const line = state.status === "done" ? state.result.data.taxCampaign.establishment : null;
  useReady("campagne", state.status === "error" || (state.status === "done" && (!line || panelSettled)));

  if (state.status === "error") return <Failure error={state.error} retry={reload} />;
  if (state.status !== "done") return <Loading />;
  if (!line) {
    return (
      <p class="notice notice-info">
        Aucune allocation n'a encore été versée à votre établissement ({props.uai}) pour la campagne {props.year}.
      </p>
    );
  }
  return (
    <>
      <p>Votre établissement lit sa propre ligne de la campagne ; les autres chiffres sont réservés à la Région.</p>
      <section aria-labelledby="cfa-line-title">
        <h2 id="cfa-line-title">{line.name ?? line.uai}</h2>
        <dl class="key-figures">
          <KeyFigure id="cfa-amount" label="Montant reçu" value={money(line.amount)} raw={line.amount} />
          <KeyFigure label="Allocations" value={integer(line.allocations)} />
          <KeyFigure label="Employeurs" value={integer(line.employers)} />
        </dl>
      </section>
      <AllocationsPanel key={props.year} year={props.year} establishment={line} onSettled={setPanelSettled} />
    </>
  );
}
