// The partner systems' health, refreshed while the page is open.

import { useEffect, useRef, useState } from "preact/hooks";
import { useQuery, type GqlError } from "../api";
import { dateTime, duration, integer, time } from "../format";
import { useReady } from "../ready";
import { Failure, Loading, PartnerNotices } from "../components/status";
import type { PageProps } from "../app";

const PUBLIC_FIELDS = "id name mode status lastSuccess recordCount";
const BI_FIELDS = `
  lastError { at code message }
  syncs(last: 5) {
    startedAt durationMs outcome records rejected error
    rejections { index partnerId field reason }
  }
`;

function partnersQuery(bi: boolean): string {
  return `query ConsolePartners { partners { ${PUBLIC_FIELDS} ${bi ? BI_FIELDS : ""} } }`;
}

interface Sync {
  startedAt: string;
  durationMs: number;
  outcome: string;
  records: number;
  rejected: number;
  error: string | null;
  rejections: { index: number; partnerId: string | null; field: string; reason: string }[];
}

interface Partner {
  id: string;
  name: string;
  mode: "LIVE" | "SYNCED" | "PUSH";
  status: "UP" | "DEGRADED" | "DOWN" | "UNKNOWN";
  lastSuccess: string | null;
  recordCount: number | null;
  lastError?: { at: string; code: string; message: string } | null;
  syncs?: Sync[];
}

const STATUS_LABELS: Record<string, string> = {
  UP: "En service",
  DEGRADED: "Dégradé",
  DOWN: "En panne",
  UNKNOWN: "Pas encore appelé",
};

const MODE_LABELS: Record<string, string> = {
  LIVE: "En direct",
  SYNCED: "Synchronisé",
  PUSH: "Poussé par le partenaire",
};

const OUTCOME_LABELS: Record<string, string> = {
  updated: "Mis à jour",
  not_modified: "Inchangé",
  failed: "Échec",
};

const DEFAULT_REFRESH_S = 15;

/** `?rafraichir=N` shortens the refresh (seconds, at least 2). */
function refreshSeconds(params: URLSearchParams): number {
  const n = Number(params.get("rafraichir"));
  return Number.isFinite(n) && n > 0 ? Math.max(2, n) : DEFAULT_REFRESH_S;
}

/** The id as the gateway's logs and errors write it: `PASS_MONDE` → `passmonde`. */
function partnerKey(id: string): string {
  return id.toLowerCase().replace(/_/g, "");
}

export default function Partners({ route, session }: PageProps) {
  const bi = session.signedIn && !session.expired && session.scopes.includes("region:bi");
  const [state, reload] = useQuery<{ partners: Partner[] }>(partnersQuery(bi), {});
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const [announce, setAnnounce] = useState("");
  const previous = useRef<Map<string, string> | null>(null);
  const every = refreshSeconds(route.params);

  const [shown, setShown] = useState<{ partners: Partner[]; errors: GqlError[] } | null>(null);
  useReady("partenaires", state.status === "done" || state.status === "error");

  // Refreshes quietly (the table stays) every `every` seconds while the page is visible.
  useEffect(() => {
    let timer: ReturnType<typeof setInterval> | undefined;
    const start = () => {
      clearInterval(timer);
      timer = setInterval(() => reload(true), every * 1000);
    };
    const onVisibility = () => {
      if (document.hidden) clearInterval(timer);
      else {
        reload(true);
        start();
      }
    };
    if (!document.hidden) start();
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [every, reload]);

  // Tells screen readers which partners changed status since the last refresh.
  useEffect(() => {
    if (state.status !== "done") return;
    setUpdatedAt(new Date());
    setShown({ partners: state.result.data.partners, errors: state.result.errors });
    const now = new Map(state.result.data.partners.map((p) => [p.id, p.status]));
    const before = previous.current;
    if (before) {
      const changes = state.result.data.partners
        .filter((p) => before.has(p.id) && before.get(p.id) !== p.status)
        .map((p) => `${p.name} : ${STATUS_LABELS[p.status] ?? p.status}`);
      if (changes.length) setAnnounce(`Changement d'état — ${changes.join(" ; ")}.`);
    }
    previous.current = now;
  }, [state]);

  // A failed refresh keeps the last table on screen, under the error.
  const partners = state.status === "done" ? state.result.data.partners : (shown?.partners ?? null);
  const errors: GqlError[] = state.status === "done" ? state.result.errors : (shown?.errors ?? []);

  return (
    <>
      <p class="toolbar">
        <span id="partners-updated" aria-live="off">
          {updatedAt ? `Mis à jour à ${time(updatedAt)}` : "Pas encore mis à jour"}
        </span>
        <span class="hint">
          Actualisé toutes les {every} secondes tant que la page est affichée.
        </span>
        <button type="button" class="button-secondary" onClick={() => reload(true)}>
          Actualiser
        </button>
      </p>
      <p class="visually-hidden" aria-live="polite" id="partners-changes">
        {announce}
      </p>
      {!bi && (
        <p class="notice notice-info">
          Les dernières erreurs et les synchronisations sont réservées au droit region:bi.
        </p>
      )}
      {state.status === "error" && <Failure error={state.error} retry={() => reload()} />}
      {!partners && state.status !== "error" && <Loading />}
      {partners && (
        <>
          <PartnerNotices errors={errors.filter((e) => e.extensions?.code !== "FORBIDDEN")} />
          <PartnerTable partners={partners} bi={bi} />
        </>
      )}
    </>
  );
}

function PartnerTable({ partners, bi }: { partners: Partner[]; bi: boolean }) {
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label="Tableau des partenaires">
      <table class="data stack" id="partners">
        <caption class="visually-hidden">Partenaires et leur état</caption>
        <thead>
          <tr>
            <th scope="col">Partenaire</th>
            <th scope="col">Mode</th>
            <th scope="col">État</th>
            <th scope="col">Dernier succès</th>
            <th scope="col" class="num">
              Enregistrements
            </th>
            {bi && <th scope="col">Dernière erreur</th>}
            {bi && <th scope="col">Dernières synchronisations</th>}
          </tr>
        </thead>
        <tbody>
          {partners.map((p) => (
            <tr key={p.id} data-partner={partnerKey(p.id)} data-status={p.status}>
              <th scope="row">{p.name}</th>
              <td data-label="Mode">{MODE_LABELS[p.mode] ?? p.mode}</td>
              <td data-label="État">
                <span class={`status status-${p.status.toLowerCase()}`}>
                  <span class="status-dot" aria-hidden="true" />
                  {STATUS_LABELS[p.status] ?? p.status}
                </span>
              </td>
              <td data-label="Dernier succès">{dateTime(p.lastSuccess)}</td>
              <td data-label="Enregistrements" class="num">
                {integer(p.recordCount)}
              </td>
              {bi && (
                <td data-label="Dernière erreur">
                  {p.lastError ? (
                    <>
                      <code>{p.lastError.code}</code> {p.lastError.message}
                      <br />
                      <span class="hint">{dateTime(p.lastError.at)}</span>
                    </>
                  ) : (
                    "Aucune"
                  )}
                </td>
              )}
              {bi && (
                <td data-label="Synchronisations">
                  <Syncs partner={p} />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Syncs({ partner }: { partner: Partner }) {
  const syncs = partner.syncs ?? [];
  if (syncs.length === 0) return <>{partner.mode === "LIVE" ? "Partenaire en direct" : "Aucune"}</>;
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label={`Synchronisations de ${partner.name}`}>
    <table class="data syncs">
      <caption class="visually-hidden">Dernières synchronisations de {partner.name}</caption>
      <thead>
        <tr>
          <th scope="col">Début</th>
          <th scope="col">Durée</th>
          <th scope="col">Résultat</th>
          <th scope="col" class="num">
            Enregistrements
          </th>
          <th scope="col" class="num">
            Rejetés
          </th>
        </tr>
      </thead>
      <tbody>
        {syncs.map((s, i) => (
          <tr key={s.startedAt + i}>
            <td>{dateTime(s.startedAt)}</td>
            <td>{duration(s.durationMs)}</td>
            <td>
              {OUTCOME_LABELS[s.outcome] ?? s.outcome}
              {s.error && <span class="hint"> — {s.error}</span>}
            </td>
            <td class="num">{integer(s.records)}</td>
            <td class="num">
              {s.rejected === 0 ? (
                "0"
              ) : (
                <details>
                  <summary>{integer(s.rejected)}</summary>
                  <ul class="rejections">
                    {s.rejections.map((r) => (
                      <li key={r.index}>
                        n° {r.index}
                        {r.partnerId && ` (${r.partnerId})`}, <code>{r.field}</code> : {r.reason}
                      </li>
                    ))}
                  </ul>
                </details>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
    </div>
  );
}
