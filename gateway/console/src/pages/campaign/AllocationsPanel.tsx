// One establishment's allocations, oldest first, fifty at a time.

import { useEffect, useState } from "preact/hooks";
import { useQuery } from "../../api";
import { dateTime, integer, money } from "../../format";
import { Pager } from "../../components/Pager";
import { Failure, Loading } from "../../components/status";
import { useFocusOnMount } from "../../components/focus";
import type { EstablishmentLine } from "./Establishments";

const PAGE = 50;

const ALLOCATIONS = /* GraphQL */ `
  query CampaignAllocations($year: Int!, $uai: String, $first: Int!, $after: String) {
    taxCampaign(year: $year) {
      allocations(uai: $uai, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { opco reference employerSiret employerCommune amount allocatedAt }
      }
    }
  }
`;

interface Data {
  taxCampaign: {
    allocations: {
      totalCount: number;
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
      nodes: {
        opco: string;
        reference: string;
        employerSiret: string;
        employerCommune: string;
        amount: string;
        allocatedAt: string;
      }[];
    };
  };
}

export function AllocationsPanel(props: {
  year: number;
  establishment: Pick<EstablishmentLine, "uai" | "name">;
  onClose?: () => void;
  onSettled: (settled: boolean) => void;
}) {
  const { uai, name } = props.establishment;
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const page = cursors.length - 1;
  const [state, reload] = useQuery<Data>(ALLOCATIONS, {
    year: props.year,
    uai,
    first: PAGE,
    after: cursors[page] ?? null,
  });
  const settled = state.status === "done" || state.status === "error";
  useEffect(() => props.onSettled(settled), [settled]);
  const heading = useFocusOnMount<HTMLHeadingElement>();

  const shown = state.status === "done" ? state.result : state.status === "loading" ? state.previous : null;
  const conn = shown?.data.taxCampaign.allocations;

  return (
    <section id="allocations-panel" class="panel" aria-labelledby="allocations-title">
      <div class="panel-head">
        <h3 id="allocations-title" tabIndex={-1} ref={heading}>
          Allocations de {name ?? "l'établissement"} ({uai})
        </h3>
        {props.onClose && (
          <button type="button" class="button-secondary" onClick={props.onClose}>
            Fermer
          </button>
        )}
      </div>
      {state.status === "error" ? (
        <Failure error={state.error} retry={reload} />
      ) : !conn ? (
        <Loading label="Chargement des allocations…" />
      ) : (
        <>
          <p class="range">
            {conn.totalCount === 0
              ? "Aucune allocation."
              : `${integer(page * PAGE + 1)}–${integer(page * PAGE + conn.nodes.length)} sur ${integer(conn.totalCount)}`}
          </p>
          <div class="table-scroll" tabIndex={0} role="region" aria-label="Tableau des allocations">
            <table id="allocations" class="data" aria-busy={state.status === "loading"}>
              <thead>
                <tr>
                  <th scope="col">OPCO</th>
                  <th scope="col">Référence</th>
                  <th scope="col">SIRET de l'employeur</th>
                  <th scope="col">Commune de l'employeur</th>
                  <th scope="col" class="num">
                    Montant
                  </th>
                  <th scope="col">Date</th>
                </tr>
              </thead>
              <tbody>
                {conn.nodes.map((a) => (
                  <tr key={a.opco + a.reference}>
                    <td>{a.opco}</td>
                    <td class="mono">{a.reference}</td>
                    <td class="mono">{a.employerSiret}</td>
                    <td class="mono">{a.employerCommune}</td>
                    <td class="num" data-money={a.amount}>
                      {money(a.amount)}
                    </td>
                    <td>{dateTime(a.allocatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            label="Pages des allocations"
            cursors={cursors}
            setCursors={setCursors}
            hasNextPage={conn.pageInfo.hasNextPage}
            endCursor={conn.pageInfo.endCursor}
            loading={state.status === "loading"}
          />
        </>
      )}
    </section>
  );
}
