// What a young person sees for the words they type: the offers and programmes
// the API ranks first for them (`orderBy: RELEVANCE`), with the counts to refine
// by (facets). A count is a button: it applies its value to the page's filters,
// as a portal's would. "Plus de résultats" reads the next page.

import { useEffect, useState } from "preact/hooks";
import { ApiError, gql, partnerName, useQuery } from "../../api";
import { integer } from "../../format";
import { Failure, Loading, PartnerNotices } from "../../components/status";
import type { Filters } from "../Offers";

const SEARCH = /* GraphQL */ `
  query Search($offers: OfferFilter!, $training: FormationFilter!, $after: String, $afterTraining: String) {
    offers(filter: $offers, first: 10, after: $after, orderBy: RELEVANCE) {
      ...OfferPage
      understood {
        town { name radiusKm }
        level
        occupations { code label }
      }
      facets {
        levels { value label count }
        departements { value label count }
        sources { value label count }
        occupations(first: 6) { value label count }
      }
    }
    formations(filter: $training, first: 10, after: $afterTraining, orderBy: RELEVANCE) {
      ...FormationPage
      facets {
        levels { value label count }
        withVacancies
      }
    }
  }
  fragment OfferPage on OfferConnection {
    totalCount
    pageInfo { endCursor hasNextPage }
    nodes { id title level employer { name } location { communeName } sources { partner } }
  }
  fragment FormationPage on FormationConnection {
    totalCount
    pageInfo { endCursor hasNextPage }
    nodes { id title level vacancies cfa { name } places { location { communeName } } }
  }
`;

const MORE_OFFERS = /* GraphQL */ `
  query MoreOffers($offers: OfferFilter!, $after: String) {
    offers(filter: $offers, first: 10, after: $after, orderBy: RELEVANCE) {
      pageInfo { endCursor hasNextPage }
      nodes { id title level employer { name } location { communeName } sources { partner } }
    }
  }
`;

const MORE_FORMATIONS = /* GraphQL */ `
  query MoreFormations($training: FormationFilter!, $after: String) {
    formations(filter: $training, first: 10, after: $after, orderBy: RELEVANCE) {
      pageInfo { endCursor hasNextPage }
      nodes { id title level vacancies cfa { name } places { location { communeName } } }
    }
  }
`;

interface Facet {
  value: string;
  label: string | null;
  count: number;
}
interface PageInfo {
  endCursor: string | null;
  hasNextPage: boolean;
}
interface OfferItem {
  id: string;
  title: string;
  level: number | null;
  employer: { name: string };
  location: { communeName: string };
  sources: { partner: string }[];
}
interface FormationItem {
  id: string;
  title: string;
  level: number | null;
  vacancies: number;
  cfa: { name: string | null };
  places: { location: { communeName: string } | null }[];
}
interface Data {
  offers: {
    totalCount: number;
    pageInfo: PageInfo;
    nodes: OfferItem[];
    understood: {
      town: { name: string; radiusKm: number } | null;
      level: number | null;
      occupations: { code: string; label: string | null }[];
    } | null;
    facets: { levels: Facet[]; departements: Facet[]; sources: Facet[]; occupations: Facet[] };
  };
  formations: {
    totalCount: number;
    pageInfo: PageInfo;
    nodes: FormationItem[];
    facets: { levels: Facet[]; withVacancies: number };
  };
}

/** The filters of the page a facet's value sets (URL parameters). */
type Refine = (changes: Record<string, string | null>) => void;

export function SearchResults(props: {
  filters: Filters;
  /** The département or commune selected on the map. */
  where: { departement?: string; commune?: string };
  onRefine: Refine;
  onSettled: (settled: boolean) => void;
}) {
  const { filters, where } = props;
  const rome = filters.rome ? [filters.rome] : null;
  const offerFilter = { ...where, text: filters.words, rome, level: filters.level, source: filters.source };
  const trainingFilter = { ...where, text: filters.words, rome, level: filters.level };
  const [state, reload] = useQuery<Data>(SEARCH, { offers: offerFilter, training: trainingFilter });
  const settled = state.status === "done" || state.status === "error";
  useEffect(() => props.onSettled(settled), [settled]);

  // Pages read after the first, appended; cleared by a new search.
  const [moreOffers, setMoreOffers] = useState<{ nodes: OfferItem[]; pageInfo: PageInfo } | null>(null);
  const [moreFormations, setMoreFormations] = useState<{ nodes: FormationItem[]; pageInfo: PageInfo } | null>(null);
  const [moreError, setMoreError] = useState<ApiError | null>(null);
  const key = JSON.stringify([offerFilter, trainingFilter]);
  useEffect(() => {
    setMoreOffers(null);
    setMoreFormations(null);
    setMoreError(null);
  }, [key]);

  if (state.status === "error") return <Failure error={state.error} retry={reload} />;
  if (state.status !== "done") return <Loading label="Recherche…" />;
  const result = state.result;
  const data = result.data;

  const offers = [...data.offers.nodes, ...(moreOffers?.nodes ?? [])];
  const offersPage = moreOffers?.pageInfo ?? data.offers.pageInfo;
  const formations = [...data.formations.nodes, ...(moreFormations?.nodes ?? [])];
  const formationsPage = moreFormations?.pageInfo ?? data.formations.pageInfo;

  // A page that cannot be read is said, with a retry; the pages read stay.
  const failed = (e: unknown) => setMoreError(e instanceof ApiError ? e : new ApiError(String(e)));
  const nextOffers = async () => {
    try {
      const r = await gql<{ offers: { nodes: OfferItem[]; pageInfo: PageInfo } }>(MORE_OFFERS, {
        offers: offerFilter,
        after: offersPage.endCursor,
      });
      setMoreOffers({ nodes: [...(moreOffers?.nodes ?? []), ...r.data.offers.nodes], pageInfo: r.data.offers.pageInfo });
    } catch (e) {
      failed(e);
    }
  };
  const nextFormations = async () => {
    try {
      const r = await gql<{ formations: { nodes: FormationItem[]; pageInfo: PageInfo } }>(MORE_FORMATIONS, {
        training: trainingFilter,
        after: formationsPage.endCursor,
      });
      setMoreFormations({
        nodes: [...(moreFormations?.nodes ?? []), ...r.data.formations.nodes],
        pageInfo: r.data.formations.pageInfo,
      });
    } catch (e) {
      failed(e);
    }
  };

  const f = data.offers.facets;
  return (
    <section
      id="search-results"
      class="panel"
      aria-labelledby="search-results-title"
      data-total-offers={String(data.offers.totalCount)}
      data-total-formations={String(data.formations.totalCount)}
    >
      <h2 id="search-results-title">Résultats pour « {filters.words} »</h2>
      <Understood read={data.offers.understood} />
      <PartnerNotices errors={result.errors} />
      {moreError && <Failure error={moreError} retry={() => setMoreError(null)} />}
      <div class="facets" role="group" aria-label="Affiner la recherche d'offres">
        <FacetGroup title="Niveau" id="facet-levels" facets={f.levels} active={filters.level ? String(filters.level) : null} onPick={(v) => props.onRefine({ diplome: v })} />
        <FacetGroup title="Département" id="facet-departements" facets={f.departements} active={where.departement ?? null} onPick={(v) => props.onRefine({ dep: v, commune: null })} />
        <FacetGroup title="Bourse" id="facet-sources" facets={f.sources} active={filters.source} label={(x) => partnerName(x.value)} onPick={(v) => props.onRefine({ source: v })} />
        <FacetGroup title="Métier" id="facet-occupations" facets={f.occupations} active={filters.rome} onPick={(v) => props.onRefine({ rome: v })} />
      </div>
      <div class="selection-columns">
        <div>
          <h3 id="search-offers-title">
            {integer(data.offers.totalCount)} offre{data.offers.totalCount > 1 ? "s" : ""}, les plus pertinentes d'abord
          </h3>
          <ol class="items" aria-labelledby="search-offers-title">
            {offers.map((o) => (
              <li key={o.id}>
                <strong>{o.title}</strong>
                <span class="meta">
                  {o.employer.name} · {o.location.communeName}
                  {o.level != null && ` · niveau ${o.level}`} · {o.sources.map((s) => partnerName(s.partner)).join(", ")}
                </span>
              </li>
            ))}
          </ol>
          {offersPage.hasNextPage && (
            <button type="button" class="button-secondary" onClick={nextOffers}>
              Plus d'offres
            </button>
          )}
        </div>
        <div>
          <h3 id="search-formations-title">
            {integer(data.formations.totalCount)} formation{data.formations.totalCount > 1 ? "s" : ""}
            {data.formations.facets.withVacancies > 0 && `, dont ${integer(data.formations.facets.withVacancies)} avec des places libres`}
          </h3>
          <ol class="items" aria-labelledby="search-formations-title">
            {formations.map((x) => (
              <li key={x.id}>
                <strong>{x.title}</strong>
                <span class="meta">
                  {x.cfa.name ?? "CFA"}
                  {x.places[0]?.location && ` · ${x.places[0].location.communeName}`}
                  {x.level != null && ` · niveau ${x.level}`} · {integer(x.vacancies)} place{x.vacancies > 1 ? "s" : ""} libre
                  {x.vacancies > 1 ? "s" : ""}
                </span>
              </li>
            ))}
          </ol>
          {formationsPage.hasNextPage && (
            <button type="button" class="button-secondary" onClick={nextFormations}>
              Plus de formations
            </button>
          )}
        </div>
      </div>
    </section>
  );
}

/** One facet: its values as buttons, the one applied pressed (a second press clears it). */
function FacetGroup(props: {
  title: string;
  id: string;
  facets: Facet[];
  active: string | null;
  label?: (f: Facet) => string;
  onPick: (value: string | null) => void;
}) {
  if (props.facets.length === 0) return null;
  return (
    <div class="facet" id={props.id}>
      <span class="facet-title">{props.title}</span>
      <ul>
        {props.facets.map((f) => {
          const on = f.value === props.active;
          return (
            <li key={f.value}>
              <button
                type="button"
                class="facet-value"
                aria-pressed={on}
                data-value={f.value}
                data-count={String(f.count)}
                onClick={() => props.onPick(on ? null : f.value)}
              >
                {props.label ? props.label(f) : (f.label ?? f.value)} <span class="count">({integer(f.count)})</span>
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** How the words were read, as the API says: the town, the level, the occupations. */
function Understood(props: { read: Data["offers"]["understood"] }) {
  const read = props.read;
  if (!read) return null;
  const parts: string[] = [];
  if (read.town) parts.push(`autour de ${read.town.name} (${integer(read.town.radiusKm)} km)`);
  if (read.level != null) parts.push(`niveau ${read.level} d'abord`);
  for (const o of read.occupations) parts.push(o.label ?? o.code);
  if (parts.length === 0) return null;
  return (
    <p class="hint" id="search-understood">
      Compris : {parts.join(" · ")}
    </p>
  );
}
