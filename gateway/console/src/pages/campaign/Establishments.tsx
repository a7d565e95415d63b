// The establishments allocated to: sorted by the server, a page of fifty at a
// time, searched by name or UAI, filtered by département.

import { useEffect, useState } from "preact/hooks";
import { useQuery } from "../../api";
import { integer, money } from "../../format";
import { clearReady } from "../../ready";
import { downloadText, toCsv } from "../../csv";
import { Pager } from "../../components/Pager";
import { Failure, Loading, PartnerNotices } from "../../components/status";
import { BookLink } from "../../components/BookLink";
import { AllocationsPanel } from "./AllocationsPanel";

const PAGE = 50;

const ESTABLISHMENTS = /* GraphQL */ `
  query CampaignEstablishments(
    $year: Int!
    $first: Int!
    $after: String
    $orderBy: EstablishmentOrder!
    $departement: String
    $search: String
  ) {
    taxCampaign(year: $year) {
      establishments(first: $first, after: $after, orderBy: $orderBy, departement: $departement, search: $search) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes {
          uai name inNormandy knownToCatalogue amount allocations employers
          departement { code name }
        }
      }
    }
  }
`;

export interface EstablishmentLine {
  uai: string;
  name: string | null;
  inNormandy: boolean;
  knownToCatalogue: boolean;
  amount: string;
  allocations: number;
  employers: number;
  departement: { code: string; name: string | null } | null;
}

interface Data {
  taxCampaign: {
    establishments: {
      totalCount: number;
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
      nodes: EstablishmentLine[];
    };
  };
}

type Order = "AMOUNT_DESC" | "AMOUNT_ASC" | "EMPLOYERS_DESC" | "UAI";

const DEPARTEMENTS = [
  ["14", "Calvados"],
  ["27", "Eure"],
  ["50", "Manche"],
  ["61", "Orne"],
  ["76", "Seine-Maritime"],
] as const;

export function Establishments(props: { year: number; onSettled: (settled: boolean) => void }) {
  const [order, setOrder] = useState<Order>("AMOUNT_DESC");
  const [departement, setDepartement] = useState("");
  const [typed, setTyped] = useState("");
  const [search, setSearch] = useState("");
  // cursors[i] is the `after` of page i; page 0 has none.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [selected, setSelected] = useState<EstablishmentLine | null>(null);
  const [panelSettled, setPanelSettled] = useState(true);
  const page = cursors.length - 1;

  // Typing waits 300 ms for a pause before asking the server.
  // A new order, filter or search starts again from the first page.
  useEffect(() => {
    const t = setTimeout(() => {
      if (typed.trim() === search) return;
      setSearch(typed.trim());
      setCursors([null]);
    }, 300);
    return () => clearTimeout(t);
  }, [typed]);

  const [state, reload] = useQuery<Data>(ESTABLISHMENTS, {
    year: props.year,
    first: PAGE,
    after: cursors[page] ?? null,
    orderBy: order,
    departement: departement || null,
    search: search || null,
  });

  const settled =
    (state.status === "done" || state.status === "error") && typed.trim() === search && (!selected || panelSettled);
  useEffect(() => props.onSettled(settled), [settled]);

  const shown = state.status === "done" ? state.result : state.status === "loading" ? state.previous : null;
  const conn = shown?.data.taxCampaign.establishments;
  const rows = conn?.nodes ?? [];

  const sortHeader = (label: string, orders: Order[], id: string) => {
    const active = orders.includes(order);
    const sort = !active ? undefined : order === "AMOUNT_ASC" || order === "UAI" ? "ascending" : "descending";
    const next = active && orders.length > 1 ? orders[(orders.indexOf(order) + 1) % orders.length]! : orders[0]!;
    return (
      <th scope="col" aria-sort={sort} class={id === "uai" ? undefined : "num"}>
        <button
          type="button"
          class="sort"
          id={`sort-${id}`}
          onClick={() => {
            clearReady();
            setOrder(next);
            setCursors([null]);
          }}
        >
          {label}
          <span aria-hidden="true" class="sort-mark">
            {sort === "ascending" ? "▲" : sort === "descending" ? "▼" : "↕"}
          </span>
        </button>
      </th>
    );
  };

  const download = () => {
    const csv = toCsv(
      ["uai", "nom", "departement", "en_normandie", "montant", "allocations", "employeurs"],
      rows.map((r) => [
        r.uai,
        r.name ?? "",
        r.departement?.code ?? "",
        r.inNormandy ? "oui" : "non",
        r.amount,
        r.allocations,
        r.employers,
      ]),
    );
    downloadText(`etablissements-${props.year}-page-${page + 1}.csv`, csv);
  };

  const first = page * PAGE + 1;
  const last = page * PAGE + rows.length;

  return (
    <section aria-labelledby="establishments-title">
      <h2 id="establishments-title">Établissements bénéficiaires</h2>
      <div class="filters">
        <p class="field">
          <label for="establishment-search">Rechercher (nom ou UAI)</label>
          <input
            id="establishment-search"
            type="search"
            value={typed}
            autocomplete="off"
            spellcheck={false}
            onInput={(e) => {
              clearReady();
              setTyped((e.target as HTMLInputElement).value);
            }}
          />
        </p>
        <p class="field">
          <label for="establishment-departement">Département de l'établissement</label>
          <select
            id="establishment-departement"
            value={departement}
            onChange={(e) => {
              clearReady();
              setDepartement((e.target as HTMLSelectElement).value);
              setCursors([null]);
            }}
          >
            <option value="">Tous</option>
            {DEPARTEMENTS.map(([code, name]) => (
              <option key={code} value={code}>
                {code} — {name}
              </option>
            ))}
          </select>
        </p>
        <p class="downloads">
          <a id="export-csv" class="button-secondary" href={`/export/tax-campaign/${props.year}.csv`} download>
            Exporter toutes les allocations (CSV)
          </a>
          <button type="button" id="download-table" class="button-secondary" onClick={download} disabled={rows.length === 0}>
            Télécharger le tableau (CSV)
          </button>
          <BookLink class="downloads-help" chapter="analysts/export.html">
            Exporter vers un outil de BI
          </BookLink>
        </p>
      </div>

      {state.status === "error" ? (
        <Failure error={state.error} retry={reload} />
      ) : !conn ? (
        <Loading label="Chargement des établissements…" />
      ) : (
        <>
          <PartnerNotices errors={shown!.errors} />
          <p class="range" role="status" aria-busy={state.status === "loading"}>
            {conn.totalCount === 0
              ? "Aucun établissement ne correspond."
              : `${integer(first)}–${integer(last)} sur ${integer(conn.totalCount)}`}
            {state.status === "loading" && " (chargement…)"}
          </p>
          <div class="table-scroll" tabIndex={0} role="region" aria-label="Tableau des établissements">
            <table id="establishments" class="data" aria-busy={state.status === "loading"}>
              <caption class="visually-hidden">
                Établissements bénéficiaires de la campagne {props.year}, triés{" "}
                {order === "UAI" ? "par UAI" : order === "EMPLOYERS_DESC" ? "par nombre d'employeurs" : "par montant"}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Établissement</th>
                  {sortHeader("UAI", ["UAI"], "uai")}
                  <th scope="col">Département</th>
                  <th scope="col">En Normandie</th>
                  {sortHeader("Montant", ["AMOUNT_DESC", "AMOUNT_ASC"], "amount")}
                  <th scope="col" class="num">
                    Allocations
                  </th>
                  {sortHeader("Employeurs", ["EMPLOYERS_DESC"], "employers")}
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.uai} data-uai={r.uai} class={selected?.uai === r.uai ? "selected" : undefined}>
                    <th scope="row">
                      <button
                        type="button"
                        class="link-button"
                        aria-expanded={selected?.uai === r.uai}
                        aria-controls={selected?.uai === r.uai ? "allocations-panel" : undefined}
                        onClick={() => {
                          clearReady();
                          setPanelSettled(false);
                          setSelected(selected?.uai === r.uai ? null : r);
                        }}
                      >
                        {r.name ?? "Établissement inconnu du catalogue"}
                      </button>
                    </th>
                    <td class="mono">{r.uai}</td>
                    <td>{r.departement ? (r.departement.name ?? r.departement.code) : "—"}</td>
                    <td>{r.inNormandy ? "Oui" : "Non"}</td>
                    <td class="num" data-money={r.amount}>
                      {money(r.amount)}
                    </td>
                    <td class="num">{integer(r.allocations)}</td>
                    <td class="num">{integer(r.employers)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            label="Pages des établissements"
            cursors={cursors}
            setCursors={setCursors}
            hasNextPage={conn.pageInfo.hasNextPage}
            endCursor={conn.pageInfo.endCursor}
            loading={state.status === "loading"}
          >
            <span>Page {page + 1} sur {Math.max(1, Math.ceil(conn.totalCount / PAGE))}</span>
          </Pager>
        </>
      )}
      {selected && (
        <AllocationsPanel
          key={selected.uai}
          year={props.year}
          establishment={selected}
          onClose={() => setSelected(null)}
          onSettled={setPanelSettled}
        />
      )}
    </section>
  );
}
