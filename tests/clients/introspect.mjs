// What GraphiQL, graphql-codegen and every schema-loading tool do first:
// graphql-js's standard introspection query, with every option it has,
// then `buildClientSchema` on the answer. The schema built must be the
// committed SDL's, type for type and description for description.
//
//   node introspect.mjs http://HOST:PORT/graphql path/to/passerelle.graphql
//
// Prints one JSON line: {"ok":true,"types":N} or {"ok":false,"why":…}; exits
// 0 when the schemas are the same, 1 otherwise.
import { readFileSync } from 'node:fs';
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  lexicographicSortSchema,
  printSchema,
} from 'graphql';

const [url, sdlPath] = process.argv.slice(2);
if (!url || !sdlPath) {
  console.error('usage: node introspect.mjs URL SDL_FILE');
  process.exit(2);
}

function fail(why, extra = {}) {
  console.log(JSON.stringify({ ok: false, why, ...extra }));
  process.exit(1);
}

const query = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
});
const response = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
  body: JSON.stringify({ query, operationName: 'IntrospectionQuery' }),
});
const body = await response.json();
if (response.status !== 200 || body.errors) {
  fail('the introspection query was refused', { status: response.status, errors: body.errors });
}
if (body.data.__schema.description !== null) {
  fail('the schema has no description, and __schema.description answers one', {
    description: body.data.__schema.description,
  });
}

let served;
try {
  served = buildClientSchema(body.data);
} catch (e) {
  fail(`buildClientSchema refused the answer: ${e.message}`);
}
// The committed SDL, as graphql-js reads it (async-graphql's printer and
// graphql-js's differ in layout only: both are printed by graphql-js).
const committed = buildSchema(readFileSync(sdlPath, 'utf8'));
const print = (s) => printSchema(lexicographicSortSchema(s));
const [a, b] = [print(served), print(committed)];
if (a !== b) {
  const left = a.split('\n');
  const right = b.split('\n');
  const at = left.findIndex((line, i) => line !== right[i]);
  fail('the introspected schema differs from the committed SDL', {
    line: at + 1,
    served: left.slice(Math.max(0, at - 3), at + 4),
    committed: right.slice(Math.max(0, at - 3), at + 4),
  });
}
console.log(JSON.stringify({ ok: true, types: Object.keys(served.getTypeMap()).length }));
