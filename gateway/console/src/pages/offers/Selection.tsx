// What a click on the map lists: the area's offers and programmes, with totals.

import { useEffect } from "preact/hooks";
import { partnerName, useQuery } from "../../api";
import { integer } from "../../format";
import { Failure, Loading, PartnerNotices } from "../../components/status";
import type { Filters } from "../Offers";

const SELECTION = /* GraphQL */ `
  query MapSelection($offers: OfferFilter!, $training: FormationFilter!) {
    offers(filter: $offers, first: 20) {
      totalCount
      nodes {
        id title level
        employer { name }
        location { communeName }
        romeCodes { code label }
        sources { partner }
      }
    }
    formations(filter: $training, first: 20) {
      totalCount
      totals { capacity vacancies }
      nodes {
        id title level capacity vacancies
        cfa { name }
        places { location { communeName } }
      }
    }
  }
`;

interface Data {
  offers: {
    totalCount: number;
    nodes: {
      id: string;
      title: string;
      level: number | null;
      employer: { name: string };
      location: { communeName: string };
      romeCodes: { code: string; label: string | null }[];
      sources: { partner: string }[];
    }[];
  };
  formations: {
    totalCount: number;
    totals: { capacity: number; vacancies: number };
    nodes: {
      id: string;
      title: string;
      level: number | null;
      capacity: number;
      vacancies: number;
      cfa: { name: string };
      places: { location: { communeName: string } | null }[];
    }[];
  };
}

export interface SelectedArea {
  kind: "departement" | "commune";
  code: string;
  name: string;
}

export function Selection(props: { selection: SelectedArea; filters: Filters; onSettled: (s: boolean) => void }) {
  const { selection, filters } = props;
  const where = selection.kind === "commune" ? { commune: selection.code } : { departement: selection.code };
  const rome = filters.rome ? [filters.rome] : null;
  const [state, reload] = useQuery<Data>(SELECTION, {
    offers: { ...where, text: filters.words, rome, level: filters.level, source: filters.source },
    training: { ...where, text: filters.words, rome, level: filters.level },
  });
  const settled = state.status === "done" || state.status === "error";
  useEffect(() => props.onSettled(settled), [settled]);

  const data = state.status === "done" ? state.result.data : null;
  return (
    <section
      id="map-selection"
      class="panel"
      aria-labelledby="map-selection-title"
      aria-busy={state.status === "loading"}
      data-total-offers={data ? String(data.offers.totalCount) : undefined}
      data-total-formations={data ? String(data.formations.totalCount) : undefined}
    >
      <h2 id="map-selection-title">
        {selection.name} ({selection.code})
      </h2>
      {state.status === "error" && <Failure error={state.error} retry={reload} />}
      {state.status === "loading" && <Loading />}
      {data && state.status === "done" && (
        <>
          <PartnerNotices errors={state.result.errors} />
          <div class="selection-columns">
            <div>
              <h3>
                {integer(data.offers.totalCount)} offre{data.offers.totalCount > 1 ? "s" : ""} ouverte
                {data.offers.totalCount > 1 ? "s" : ""}
              </h3>
              {data.offers.totalCount > data.offers.nodes.length && (
                <p class="hint">Les {data.offers.nodes.length} plus récentes :</p>
              )}
              <ul class="items">
                {data.offers.nodes.map((o) => (
                  <li key={o.id}>
                    <strong>{o.title}</strong>
                    <span class="meta">
                      {o.employer.name} · {o.location.communeName}
                      {o.romeCodes[0] && (
                        <>
                          {" "}
                          · ROME <abbr title={o.romeCodes[0].label ?? undefined}>{o.romeCodes[0].code}</abbr>
                        </>
                      )}
                      {o.level != null && ` · niveau ${o.level}`} · {o.sources.map((s) => partnerName(s.partner)).join(", ")}
                    </span>
                  </li>
                ))}
              </ul>
            </div>
            <div>
              <h3>
                {integer(data.formations.totalCount)} formation{data.formations.totalCount > 1 ? "s" : ""}
              </h3>
              <p class="hint">
                {integer(data.formations.totals.vacancies)} places libres sur {integer(data.formations.totals.capacity)}
              </p>
              <ul class="items">
                {data.formations.nodes.map((f) => (
                  <li key={f.id}>
                    <strong>{f.title}</strong>
                    <span class="meta">
                      {f.cfa.name}
                      {f.places[0]?.location && ` · ${f.places[0].location.communeName}`}
                      {f.level != null && ` · niveau ${f.level}`} · {integer(f.vacancies)} place
                      {f.vacancies > 1 ? "s" : ""} libre{f.vacancies > 1 ? "s" : ""} sur {integer(f.capacity)}
                    </span>
                  </li>
                ))}
              </ul>
            </div>
          </div>
        </>
      )}
    </section>
  );
}
