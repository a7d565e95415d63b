// Offers and training places on the map of Normandy, by département and commune.
// The URL holds the whole view (`?mesure=places&niveau=communes&dep=14`), so it
// can be bookmarked and shared.

import { useEffect, useMemo, useState } from "preact/hooks";
import { useQuery } from "../api";
import { integer } from "../format";
import { setParams } from "../router";
import { clearReady, useReady } from "../ready";
import { Failure, Loading, PartnerNotices } from "../components/status";
import { loadGeometry, type MapGeometry } from "./offers/geometry";
import { MapView } from "./offers/MapView";
import { Selection } from "./offers/Selection";
import { OccupationField } from "./offers/OccupationField";
import { SearchResults } from "./offers/SearchResults";
import type { PageProps } from "../app";

const FIGURES = /* GraphQL */ `
  query MapFigures($offers: OfferFilter, $training: FormationFilter, $withOffers: Boolean!, $withTraining: Boolean!) {
    region {
      offers(filter: $offers) @include(if: $withOffers) {
        total
        byDepartement { key count }
        byCommune { key count }
      }
      training(filter: $training) @include(if: $withTraining) {
        total { key programmes capacity vacancies }
        byDepartement { key programmes capacity vacancies }
        byCommune { key programmes capacity vacancies }
      }
    }
  }
`;

interface KeyCount {
  key: string;
  count: number;
}
interface TrainingFigures {
  key: string;
  programmes: number;
  capacity: number;
  vacancies: number;
}
interface Figures {
  region: {
    offers?: { total: number; byDepartement: KeyCount[]; byCommune: KeyCount[] };
    training?: { total: TrainingFigures; byDepartement: TrainingFigures[]; byCommune: TrainingFigures[] };
  };
}

export type Measure = "offres" | "places";

export const LEVELS: [string, string][] = [
  ["3", "3 — CAP, BEP"],
  ["4", "4 — Bac"],
  ["5", "5 — Bac+2"],
  ["6", "6 — Bac+3/4"],
  ["7", "7 — Bac+5"],
  ["8", "8 — Doctorat"],
];

/** The exchanges that publish offers (PartnerId values). */
const SOURCES: [string, string][] = [
  ["CCI", "CCI Normandie"],
  ["CMA", "CMA Normandie"],
  ["CNFPT", "CNFPT (secteur public)"],
];

const ROME = /^[A-Z]\d{4}$/;

export interface Filters {
  /** Words as a young person types them (`q`). */
  words: string | null;
  rome: string | null;
  level: number | null;
  source: string | null;
}

export default function Offers({ route }: PageProps) {
  const p = route.params;
  const measure: Measure = p.get("mesure") === "places" ? "places" : "offres";
  const communesLevel = p.get("niveau") === "communes";
  const filters: Filters = {
    words: (p.get("q") ?? "").trim() || null,
    rome: ROME.test(p.get("rome") ?? "") ? p.get("rome") : null,
    level: /^[3-8]$/.test(p.get("diplome") ?? "") ? Number(p.get("diplome")) : null,
    source: SOURCES.some(([k]) => k === p.get("source")) ? p.get("source") : null,
  };
  const selectedCommune = /^\d[\dAB]\d{3}$/.test(p.get("commune") ?? "") ? p.get("commune") : null;
  const selectedDep = selectedCommune ? null : p.get("dep");

  const [geometry, setGeometry] = useState<MapGeometry | null>(null);
  const [geoError, setGeoError] = useState<Error | null>(null);
  const [geoTry, setGeoTry] = useState(0);
  useEffect(() => {
    setGeoError(null);
    loadGeometry().then(setGeometry, setGeoError);
  }, [geoTry]);

  const offerFilter = { text: filters.words, rome: filters.rome ? [filters.rome] : null, level: filters.level, source: filters.source };
  const trainingFilter = { text: filters.words, rome: filters.rome ? [filters.rome] : null, level: filters.level };
  const [figures, reload] = useQuery<Figures>(FIGURES, {
    offers: offerFilter,
    training: trainingFilter,
    withOffers: measure === "offres",
    withTraining: measure === "places",
  });

  const data = figures.status === "done" ? figures.result.data.region : null;
  const values = useMemo(() => {
    const dep = new Map<string, number>();
    const com = new Map<string, number>();
    if (data?.offers) {
      for (const r of data.offers.byDepartement) dep.set(r.key, r.count);
      for (const r of data.offers.byCommune) com.set(r.key, r.count);
    } else if (data?.training) {
      for (const r of data.training.byDepartement) dep.set(r.key, r.vacancies);
      for (const r of data.training.byCommune) com.set(r.key, r.vacancies);
    }
    return { dep, com };
  }, [data]);

  const commune = selectedCommune && geometry?.communes.find((c) => c.code === selectedCommune);
  const zoomDep = selectedDep ?? (commune ? commune.dep : null);
  const showCommunes = communesLevel || zoomDep !== null;

  const unit = (n: number) => integer(n);
  const describe = (n: number) =>
    measure === "offres"
      ? `${integer(n)} offre${n > 1 ? "s" : ""} ouverte${n > 1 ? "s" : ""}`
      : `${integer(n)} place${n > 1 ? "s" : ""} libre${n > 1 ? "s" : ""}`;

  const selection = selectedCommune
    ? { kind: "commune" as const, code: selectedCommune, name: commune ? commune.name : selectedCommune }
    : selectedDep
      ? {
          kind: "departement" as const,
          code: selectedDep,
          name: geometry?.departements.find((d) => d.code === selectedDep)?.name ?? selectedDep,
        }
      : null;
  const [selectionSettled, setSelectionSettled] = useState(false);
  const [searchSettled, setSearchSettled] = useState(false);
  // An occupation being typed will change the figures: the page is not ready meanwhile.
  const [romePending, setRomePending] = useState(false);
  const settled =
    !romePending &&
    (geometry !== null || geoError !== null) &&
    (figures.status === "done" || figures.status === "error") &&
    (!selection || selectionSettled) &&
    (!filters.words || searchSettled);
  useReady("offres", settled);

  const change = (changes: Record<string, string | null>) => {
    clearReady();
    if ("q" in changes || "rome" in changes || "diplome" in changes || "source" in changes || "dep" in changes || "commune" in changes) {
      setSearchSettled(false);
    }
    setParams(changes);
  };
  const selectDep = (code: string) => {
    setSelectionSettled(false);
    change({ dep: code === selectedDep ? null : code, commune: null });
  };
  const selectCommune = (code: string) => {
    setSelectionSettled(false);
    change({ commune: code, dep: null });
  };

  const depName = (code: string) => geometry?.departements.find((d) => d.code === code)?.name ?? code;
  const topCommunes = useMemo(() => {
    if (!geometry) return [];
    return geometry.communes
      .filter((c) => !zoomDep || c.dep === zoomDep)
      .map((c) => ({ code: c.code, name: c.name, value: values.com.get(c.code) ?? 0 }))
      .filter((c) => c.value > 0)
      .sort((a, b) => b.value - a.value || a.name.localeCompare(b.name, "fr"))
      .slice(0, 15);
  }, [geometry, values, zoomDep]);

  return (
    <>
      <MapFilters
        measure={measure}
        filters={filters}
        communesLevel={communesLevel}
        onChange={change}
        onPending={setRomePending}
      />
      {figures.status === "done" && <PartnerNotices errors={figures.result.errors} />}
      {figures.status === "error" && <Failure error={figures.error} retry={reload} />}
      {geoError && (
        <Failure
          error={{ name: "Error", message: `la carte n'a pas pu être chargée (${geoError.message}).`, code: null }}
          retry={() => setGeoTry(geoTry + 1)}
        />
      )}
      <div class="map-layout">
        <div class="map-column" aria-busy={figures.status === "loading"}>
          {!geometry && !geoError && <Loading label="Chargement de la carte…" />}
          {geometry && (
            <>
              {zoomDep && (
                <p class="toolbar">
                  <button type="button" class="button-secondary" onClick={() => change({ dep: null, commune: null })}>
                    Revenir à la région
                  </button>
                </p>
              )}
              <MapView
                geometry={geometry}
                depValues={values.dep}
                communeValues={values.com}
                showCommunes={showCommunes}
                selectedDep={zoomDep}
                selectedCommune={selectedCommune}
                describe={describe}
                unit={unit}
                onSelectDep={selectDep}
                onSelectCommune={selectCommune}
              />
            </>
          )}
          {figures.status === "loading" && <Loading label="Chargement des chiffres…" />}
        </div>
        <div class="map-side">
          <table class="data" id="map-departements">
            <caption>{measure === "offres" ? "Offres ouvertes" : "Places libres"} par département</caption>
            <thead>
              <tr>
                <th scope="col">Département</th>
                <th scope="col" class="num">
                  {measure === "offres" ? "Offres" : "Places libres"}
                </th>
              </tr>
            </thead>
            <tbody>
              {["14", "27", "50", "61", "76"].map((code) => (
                <tr key={code} class={code === zoomDep ? "selected" : undefined}>
                  <th scope="row">
                    <button type="button" class="link-button" aria-pressed={code === selectedDep} onClick={() => selectDep(code)}>
                      {depName(code)} ({code})
                    </button>
                  </th>
                  <td class="num">{data ? integer(values.dep.get(code) ?? 0) : "…"}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {showCommunes && (
            <table class="data" id="map-communes">
              <caption>
                Communes {zoomDep ? `de ${depName(zoomDep)}` : "de Normandie"} les plus fournies
              </caption>
              <thead>
                <tr>
                  <th scope="col">Commune</th>
                  <th scope="col" class="num">
                    {measure === "offres" ? "Offres" : "Places libres"}
                  </th>
                </tr>
              </thead>
              <tbody>
                {topCommunes.length === 0 && (
                  <tr>
                    <td colSpan={2}>Aucune commune.</td>
                  </tr>
                )}
                {topCommunes.map((c) => (
                  <tr key={c.code} class={c.code === selectedCommune ? "selected" : undefined}>
                    <th scope="row">
                      <button type="button" class="link-button" onClick={() => selectCommune(c.code)}>
                        {c.name}
                      </button>
                    </th>
                    <td class="num">{integer(c.value)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>
      {filters.words && (
        <SearchResults
          filters={filters}
          where={selectedCommune ? { commune: selectedCommune } : selectedDep ? { departement: selectedDep } : {}}
          onRefine={(changes) => {
            if ("dep" in changes || "commune" in changes) setSelectionSettled(false);
            change(changes);
          }}
          onSettled={setSearchSettled}
        />
      )}
      {selection && (
        <Selection
          key={`${selection.kind}:${selection.code}`}
          selection={selection}
          filters={filters}
          onSettled={setSelectionSettled}
        />
      )}
    </>
  );
}

function MapFilters(props: {
  measure: Measure;
  filters: Filters;
  communesLevel: boolean;
  onChange: (changes: Record<string, string | null>) => void;
  onPending: (pending: boolean) => void;
}) {
  const select = (name: string) => (e: Event) => props.onChange({ [name]: (e.target as HTMLSelectElement).value || null });
  const [words, setWords] = useState(props.filters.words ?? "");
  // Back and forward bring their own words.
  useEffect(() => setWords(props.filters.words ?? ""), [props.filters.words]);
  return (
    <form
      class="filters"
      onSubmit={(e) => {
        e.preventDefault();
        const q = words.trim() || null;
        if (q !== props.filters.words) props.onChange({ q });
      }}
      aria-label="Filtres de la carte"
    >
      <p class="field field-words">
        <label for="filter-words">Recherche</label>
        <input
          id="filter-words"
          type="search"
          value={words}
          placeholder="boulangère caen, cap coiffure…"
          aria-describedby="filter-words-help"
          maxLength={200}
          onInput={(e) => setWords((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Rechercher</button>
        <span id="filter-words-help" class="hint">
          Les mots d'un jeune, comme il les tape : les offres et formations les plus pertinentes d'abord.
        </span>
      </p>
      <p class="field">
        <label for="map-measure">Mesure</label>
        <select id="map-measure" value={props.measure} onChange={select("mesure")}>
          <option value="offres">Offres ouvertes</option>
          <option value="places">Places libres en formation</option>
        </select>
      </p>
      <p class="field">
        <label for="map-level">Niveau d'affichage</label>
        <select id="map-level" value={props.communesLevel ? "communes" : "departements"} onChange={(e) => {
          const v = (e.target as HTMLSelectElement).value;
          props.onChange({ niveau: v === "communes" ? "communes" : null });
        }}>
          <option value="departements">Départements</option>
          <option value="communes">Communes</option>
        </select>
      </p>
      <OccupationField
        value={props.filters.rome}
        onChange={(code) => props.onChange({ rome: code })}
        onPending={props.onPending}
      />
      <p class="field">
        <label for="filter-level">Niveau de diplôme</label>
        <select id="filter-level" value={props.filters.level ? String(props.filters.level) : ""} onChange={select("diplome")}>
          <option value="">Tous</option>
          {LEVELS.map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
        </select>
      </p>
      <p class="field">
        <label for="filter-source">Bourse d'offres</label>
        <select
          id="filter-source"
          value={props.filters.source ?? ""}
          onChange={select("source")}
          aria-describedby={props.measure === "places" ? "filter-source-help" : undefined}
        >
          <option value="">Toutes</option>
          {SOURCES.map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
        </select>
        {props.measure === "places" && (
          <span id="filter-source-help" class="hint">
            Ne s'applique qu'aux offres.
          </span>
        )}
      </p>
    </form>
  );
}
