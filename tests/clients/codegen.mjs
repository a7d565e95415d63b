// graphql-codegen with its schema read from the live endpoint, as a portal
// developer sets it up (`schema: http://…/graphql`): the TypeScript types
// of the schema, and the schema printed back (schema-ast), which must be
// the committed SDL's.
//
//   node codegen.mjs http://HOST:PORT/graphql path/to/passerelle.graphql
//
// Prints {"generated":true,"types":N} and exits 0, or {"generated":false,…}
// and exits 1.
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { buildSchema, lexicographicSortSchema, printSchema } from 'graphql';

const [url, sdlPath] = process.argv.slice(2);
if (!url || !sdlPath) {
  console.error('usage: node codegen.mjs URL SDL_FILE');
  process.exit(2);
}
const out = mkdtempSync(join(tmpdir(), 'passerelle-codegen-'));
let files;
try {
  files = await generate(
    {
      schema: url,
      silent: true,
      generates: {
        [join(out, 'types.ts')]: { plugins: ['typescript'] },
        [join(out, 'schema.graphql')]: { plugins: ['schema-ast'] },
      },
    },
    true,
  );
} catch (e) {
  console.log(JSON.stringify({ generated: false, why: String(e.message ?? e) }));
  process.exit(1);
}
const types = readFileSync(join(out, 'types.ts'), 'utf8');
const printed = readFileSync(join(out, 'schema.graphql'), 'utf8');
const sorted = (sdl) => printSchema(lexicographicSortSchema(buildSchema(sdl)));
const same = sorted(printed) === sorted(readFileSync(sdlPath, 'utf8'));
const nodeTypes = ['Offer', 'Cfa', 'Formation', 'Event', 'OrientationSite'].filter((t) =>
  new RegExp(`export type ${t} = Node & \\{`).test(types),
);
console.log(
  JSON.stringify({
    generated: files.length === 2 && same,
    sameSchema: same,
    types: (types.match(/^export type /gm) ?? []).length,
    nodeTypes,
  }),
);
process.exit(files.length === 2 && same && nodeTypes.length === 5 ? 0 : 1);
