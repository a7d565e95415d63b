// The development server's stand-in for what the gateway binary serves around
// the console: `/console/session` (from a token given in the environment), the
// sign-in and sign-out routes, the map's files, and `/graphql`, `/export` and
// `/book` proxied to a running gateway. None of this is in the built console.
//
//   PASSERELLE_DEV_TOKEN=$(passerelle dev-token --scope region:bi) npm run dev
//
// Against a gateway older than the console, a few fields it reads do not exist
// yet (`region.offers(filter).byCommune`, `region.training`, `Partner.syncs`,
// the establishments' `search`): `COMPAT=1` answers them from older fields.

import type { Plugin } from "vite";
import type { IncomingMessage, ServerResponse } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const upstream = process.env.PASSERELLE_URL ?? "http://127.0.0.1:4000";
const token = process.env.PASSERELLE_DEV_TOKEN?.trim() || null;
const compat = process.env.COMPAT === "1";
const geoDir = join(fileURLToPath(new URL(".", import.meta.url)), "geo");

function claims(jwt: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8"));
  } catch {
    return {};
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function devServer(): Plugin {
  return {
    name: "passerelle-console-dev",
    // `vite preview` serves the built console the way the gateway does, CSP included.
    configurePreviewServer(server) {
      server.middlewares.use((_req, res, next) => {
        res.setHeader("content-security-policy", CSP);
        next();
      });
      server.middlewares.use(routes);
    },
    configureServer(server) {
      server.middlewares.use(routes);
    },
  };
}

/** The gateway's policy for the console. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

type Next = (err?: unknown) => void;

async function routes(req: IncomingMessage, res: ServerResponse, next: Next): Promise<void> {
  const url = new URL(req.url ?? "/", "http://dev");
  try {
    if (url.pathname === "/console/session") return session(res);
    if (url.pathname === "/console/login") {
      res.statusCode = 302;
      res.setHeader("location", url.searchParams.get("return") ?? "/");
      return void res.end();
    }
    if (url.pathname === "/console/logout" && req.method === "POST") {
      res.statusCode = 303;
      res.setHeader("location", "/");
      return void res.end();
    }
    if (url.pathname.startsWith("/geo/")) return geo(url.pathname, res);
    if (url.pathname === "/graphql" && req.method === "POST") {
      return graphql(JSON.parse(await readBody(req)), req.headers.authorization, res);
    }
    if (url.pathname.startsWith("/export/")) return exportCsv(url, res);
    if (url.pathname === "/book" || url.pathname.startsWith("/book/")) return book(url, res);
  } catch (e) {
    return json(res, 502, { errors: [{ message: String(e), extensions: { code: "DEV_PROXY" } }] });
  }
  next();
}

/** The export with the dev token, as the gateway reads it from the session cookie. */
async function exportCsv(url: URL, res: ServerResponse): Promise<void> {
  const up = await fetch(upstream + url.pathname + url.search, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  res.statusCode = up.status;
  for (const h of ["content-type", "content-disposition"]) {
    const v = up.headers.get(h);
    if (v) res.setHeader(h, v);
  }
  res.end(Buffer.from(await up.arrayBuffer()));
}

/** The book, which the gateway serves under /book/ (the console's help links lead there). */
async function book(url: URL, res: ServerResponse): Promise<void> {
  const up = await fetch(upstream + url.pathname + url.search, { redirect: "manual" });
  res.statusCode = up.status;
  for (const h of ["content-type", "location"]) {
    const v = up.headers.get(h);
    if (v) res.setHeader(h, v);
  }
  res.end(Buffer.from(await up.arrayBuffer()));
}

function session(res: ServerResponse): void {
  if (!token) return json(res, 401, { signedIn: false, sandbox: true, signIn: true });
  const c = claims(token);
  json(res, 200, {
    signedIn: true,
    accessToken: token,
    expiresAt: typeof c.exp === "number" ? new Date(c.exp * 1000).toISOString() : null,
    subject: c.sub ?? "dev",
    scopes: typeof c.scope === "string" ? c.scope.split(" ").filter(Boolean) : [],
    opco: c.opco ?? null,
    cfa: c.cfa ?? null,
    sandbox: true,
  });
}

async function geo(path: string, res: ServerResponse): Promise<void> {
  const local = join(geoDir, path.slice("/geo/".length));
  if (existsSync(local)) {
    res.setHeader("content-type", "application/geo+json");
    return void res.end(readFileSync(local));
  }
  const up = await fetch(upstream + path);
  res.statusCode = up.status;
  res.setHeader("content-type", up.headers.get("content-type") ?? "application/json");
  res.end(Buffer.from(await up.arrayBuffer()));
}

interface Request {
  query: string;
  variables?: Record<string, unknown>;
}

async function post(body: Request, auth: string | undefined): Promise<{ status: number; json: any }> {
  const up = await fetch(`${upstream}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...(auth ? { authorization: auth } : {}) },
    body: JSON.stringify(body),
  });
  return { status: up.status, json: await up.json() };
}

async function graphql(body: Request, auth: string | undefined, res: ServerResponse): Promise<void> {
  if (compat && /query MapFigures/.test(body.query)) return json(res, 200, await mapFigures(body, auth));
  let query = body.query;
  const syncs = compat && /syncs\(last: \d+\)/.test(query);
  if (compat) {
    query = query.replace(/syncs\(last: \d+\)/, "syncs: lastSync");
    query = query.replace(/,?\s*search: \$search/, "").replace(/\s*\$search: String/, "");
  }
  const variables = { ...body.variables };
  if (compat) delete variables.search;
  const up = await post({ query, variables }, auth);
  if (syncs) {
    for (const p of up.json?.data?.partners ?? []) p.syncs = p.syncs ? [p.syncs] : [];
  }
  json(res, up.status, up.json);
}

/** `region.offers(filter)` and `region.training(filter)` counted from the older lists. */
async function mapFigures(body: Request, auth: string | undefined): Promise<unknown> {
  const v = body.variables ?? {};
  const region: Record<string, unknown> = {};
  const errors: unknown[] = [];
  if (v.withOffers) {
    const dep = new Map<string, number>();
    const com = new Map<string, number>();
    let after: string | null = null;
    let total = 0;
    for (;;) {
      const r = await post(
        {
          query: `query($f: OfferFilter, $after: String) { offers(filter: $f, first: 1000, after: $after) {
            totalCount pageInfo { hasNextPage endCursor } nodes { location { communeCode departement { code } } } } }`,
          variables: { f: v.offers, after },
        },
        auth,
      );
      errors.push(...(r.json.errors ?? []));
      const conn = r.json.data?.offers;
      if (!conn) break;
      total = conn.totalCount;
      for (const n of conn.nodes) {
        dep.set(n.location.departement.code, (dep.get(n.location.departement.code) ?? 0) + 1);
        com.set(n.location.communeCode, (com.get(n.location.communeCode) ?? 0) + 1);
      }
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    const list = (m: Map<string, number>) => [...m].map(([key, count]) => ({ key, count }));
    region.offers = { total, byDepartement: list(dep), byCommune: list(com) };
  }
  if (v.withTraining) {
    const r = await post(
      {
        query: `query($f: FormationFilter) { formations(filter: $f, first: 1000) { totalCount totals { capacity vacancies }
          nodes { places { capacity vacancies location { communeCode departement { code } } } } } }`,
        variables: { f: v.training },
      },
      auth,
    );
    errors.push(...(r.json.errors ?? []));
    const conn = r.json.data?.formations;
    const add = (m: Map<string, any>, key: string, p: { capacity: number; vacancies: number }) => {
      const e = m.get(key) ?? { key, programmes: 0, capacity: 0, vacancies: 0 };
      e.programmes += 1;
      e.capacity += p.capacity;
      e.vacancies += p.vacancies;
      m.set(key, e);
    };
    const dep = new Map();
    const com = new Map();
    for (const n of conn?.nodes ?? []) {
      for (const p of n.places) {
        if (!p.location) continue;
        add(dep, p.location.departement.code, p);
        add(com, p.location.communeCode, p);
      }
    }
    region.training = {
      total: { key: "all", programmes: conn?.totalCount ?? 0, ...(conn?.totals ?? { capacity: 0, vacancies: 0 }) },
      byDepartement: [...dep.values()],
      byCommune: [...com.values()],
    };
  }
  return errors.length ? { data: { region }, errors } : { data: { region } };
}
