// Relay against Passerelle: relay-compiler compiles the project of
// relay/src (every connection with @connection, every Node type
// @refetchable) against the schema given, then every query it generated
// runs live: the pages, each pagination query from its first page and
// from its second (the first page's endCursor), and each refetch by
// node(id).
//
//   node relay.mjs http://HOST:PORT/graphql SCHEMA_FILE [--token T]
//
// Prints one JSON line per query run, {"query":…,"variables":…,"errors":…},
// then {"compiled":N,"ran":M}; exits 0 when it compiled and every query
// ran without an error, 1 otherwise.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const [url, schema] = args;
const token = args.includes('--token') ? args[args.indexOf('--token') + 1] : undefined;
if (!url || !schema) {
  console.error('usage: node relay.mjs URL SCHEMA_FILE [--token T]');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));

// Compiled in a directory of its own: nothing generated is kept.
const project = mkdtempSync(join(tmpdir(), 'passerelle-relay-'));
cpSync(join(here, 'relay', 'src'), join(project, 'src'), { recursive: true });
mkdirSync(join(project, '__generated__'));
writeFileSync(
  join(project, 'relay.config.json'),
  JSON.stringify({
    src: './src',
    schema: resolve(schema),
    language: 'javascript',
    artifactDirectory: './__generated__',
    eagerEsModules: false,
  }),
);
const compiler = spawnSync(
  process.execPath,
  [join(here, 'node_modules', 'relay-compiler', 'cli.js')],
  { cwd: project, encoding: 'utf8' },
);
if (compiler.status !== 0) {
  console.log(JSON.stringify({ compiled: false, output: compiler.stdout + compiler.stderr }));
  process.exit(1);
}

const require = createRequire(join(project, 'package.json'));
const generated = join(project, '__generated__');
const requests = readdirSync(generated)
  .filter((f) => f.endsWith('.graphql.js'))
  .map((f) => require(join(generated, f)))
  .filter((a) => a.kind === 'Request');

let failed = false;
async function run(name, variables) {
  const request = requests.find((r) => r.params.name === name);
  if (!request) {
    console.log(JSON.stringify({ query: name, missing: true }));
    failed = true;
    return {};
  }
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query: request.params.text, variables }),
  });
  const body = await response.json();
  const errors = body.errors ?? null;
  if (errors || response.status !== 200 || !body.data) failed = true;
  console.log(JSON.stringify({ query: name, variables, status: response.status, errors }));
  return body.data ?? {};
}

// The first connection found in `data`, the way down to it.
function connection(data) {
  if (!data || typeof data !== 'object') return undefined;
  if (Array.isArray(data.edges) && data.pageInfo) return data;
  for (const v of Object.values(data)) {
    const found = connection(v);
    if (found) return found;
  }
  return undefined;
}

const ids = await run('PasserelleIdsQuery', {});
const first = (list) => ids[list]?.nodes?.[0];
await run('PasserelleHomeQuery', {});
await run('PasserelleEmployerQuery', { siret: first('offers')?.employer?.siret });
await run('PasserelleMobilityQuery', { cfa: first('cfas')?.uai });
await run('PasserelleCampaignQuery', { year: 2026, uai: first('cfas')?.uai });

const refetch = {
  PasserelleOfferRefetchQuery: first('offers')?.id,
  PasserelleFormationRefetchQuery: first('formations')?.id,
  PasserelleEventRefetchQuery: first('events')?.id,
  PasserelleSiteRefetchQuery: first('orientationSites')?.id,
  PasserelleCfaOffersPaginationQuery: first('cfas')?.id,
  PasserelleCfaFormationsPaginationQuery: first('cfas')?.id,
  PasserelleCfaEventsPaginationQuery: first('cfas')?.id,
};
for (const request of requests) {
  const name = request.params.name;
  if (!name.endsWith('RefetchQuery') && !name.endsWith('PaginationQuery')) continue;
  const id = refetch[name];
  const variables = { count: 2, cursor: null, ...(id ? { id } : {}) };
  // A pagination query: its first page, then the next from its endCursor.
  const data = await run(name, variables);
  const page = connection(data);
  if (name.endsWith('PaginationQuery') && page?.pageInfo?.hasNextPage) {
    await run(name, { ...variables, cursor: page.pageInfo.endCursor });
  }
}
console.log(JSON.stringify({ compiled: requests.length, failed }));
process.exit(failed ? 1 : 0);
