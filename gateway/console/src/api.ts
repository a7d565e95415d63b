// The console's only way to the data: the gateway's public GraphQL API, with
// the caller's own token. Partial answers are normal (a partner down): their
// errors come back beside the data for the page to show, never thrown.

import { useEffect, useLayoutEffect, useState, useCallback } from "preact/hooks";
import { accessToken, expire } from "./session";

export interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; partner?: string; [key: string]: unknown };
}

export interface GqlResult<T> {
  data: T;
  errors: GqlError[];
}

/** A request that gave no data: the network, the gateway or the session failed. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

export async function gql<T>(
  query: string,
  variables: Record<string, unknown> = {},
  signal?: AbortSignal,
): Promise<GqlResult<T>> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json",
  };
  const token = accessToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch("/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
      credentials: "same-origin",
      signal,
    });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ApiError("Le serveur ne répond pas.");
  }
  let body: { data?: T | null; errors?: GqlError[] } | null = null;
  if (res.headers.get("content-type")?.includes("json")) {
    body = await res.json().catch(() => null);
  }
  const errors = body?.errors ?? [];
  if (res.status === 401 || errors.some((e) => e.extensions?.code === "UNAUTHENTICATED")) {
    expire();
    throw new ApiError("Session expirée : reconnectez-vous.", "UNAUTHENTICATED");
  }
  if (res.status === 429) {
    throw new ApiError("Trop de requêtes : réessayez dans un instant.", "RATE_LIMITED");
  }
  if (!body?.data) {
    const first = errors[0];
    throw new ApiError(
      first ? first.message : `Le serveur a répondu ${res.status}.`,
      first?.extensions?.code ?? null,
    );
  }
  return { data: body.data, errors };
}

const PARTNER_NAMES: Record<string, string> = {
  cci: "CCI Normandie",
  cma: "CMA Normandie",
  carif: "Carif-Oref Normandie",
  erasmus: "Erasmus+",
  passmonde: "Pass Monde",
  spro: "SPRO",
  cnfpt: "CNFPT",
};

export function partnerName(id: string): string {
  return PARTNER_NAMES[id.toLowerCase().replace(/_/g, "")] ?? id;
}

/** One line per partner named in the errors, in French. */
export function partnerNotices(errors: GqlError[]): string[] {
  const seen = new Map<string, string>();
  for (const e of errors) {
    const partner = e.extensions?.partner;
    if (!partner || seen.has(partner)) continue;
    const name = partnerName(partner);
    const code = e.extensions?.code;
    seen.set(
      partner,
      code === "STALE_DATA"
        ? `Données anciennes : le partenaire ${name} ne répond pas, ses dernières données connues sont affichées.`
        : code === "PARTIAL_DATA"
          ? `Données partielles : des enregistrements du partenaire ${name} ont été rejetés.`
          : `Données partielles : le partenaire ${name} ne répond pas.`,
    );
  }
  return [...seen.values()];
}

/** Whether a field under `path` was refused for a missing scope. */
export function forbidden(errors: GqlError[], path?: string): boolean {
  return errors.some(
    (e) => e.extensions?.code === "FORBIDDEN" && (!path || e.path?.[0] === path),
  );
}

export type QueryState<T> =
  | { status: "idle" }
  | { status: "loading"; previous: GqlResult<T> | null }
  | { status: "done"; result: GqlResult<T> }
  | { status: "error"; error: ApiError };

/**
 * Runs `query` whenever its variables change (`null` skips it), cancelling the
 * request it replaces. `reload` runs it again, for "Réessayer" and refreshes.
 */
export function useQuery<T>(
  query: string,
  variables: Record<string, unknown> | null,
): [QueryState<T>, (quiet?: boolean) => void] {
  const key = variables === null ? null : JSON.stringify(variables);
  const [state, setState] = useState<QueryState<T>>(
    key === null ? { status: "idle" } : { status: "loading", previous: null },
  );
  const [run, setRun] = useState({ n: 0, quiet: false });

  // Marks the state loading before paint, so that a page never shows itself
  // ready with figures of the previous filters.
  useLayoutEffect(() => {
    if (key === null) return setState({ status: "idle" });
    if (!run.quiet) {
      setState((s) => ({ status: "loading", previous: s.status === "done" ? s.result : null }));
    }
  }, [key, run]);

  useEffect(() => {
    if (key === null) return;
    const ctrl = new AbortController();
    gql<T>(query, JSON.parse(key), ctrl.signal).then(
      (result) => !ctrl.signal.aborted && setState({ status: "done", result }),
      (error) =>
        !ctrl.signal.aborted &&
        setState({
          status: "error",
          error: error instanceof ApiError ? error : new ApiError(String(error)),
        }),
    );
    return () => ctrl.abort();
  }, [query, key, run]);

  const reload = useCallback((quiet = false) => setRun((r) => ({ n: r.n + 1, quiet })), []);
  return [state, reload];
}
