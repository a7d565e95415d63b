// Composes an Apollo Federation 2 supergraph from subgraph SDL files with
// the reference composition library (@apollo/composition).
//
//   node compose.mjs OUT_SUPERGRAPH_FILE NAME=URL=SDL_FILE [NAME=URL=SDL_FILE ...]
//
// NAME is the subgraph's name (everything before the first "="), SDL_FILE
// the path of its SDL (everything after the last "="), and URL, in between,
// the address the supergraph records for it (the gateway sends that
// subgraph's requests there), e.g.
//
//   node compose.mjs /tmp/supergraph.graphql \
//     a=http://127.0.0.1:4001/graphql=/tmp/a.graphql \
//     b=http://127.0.0.1:4002/graphql=/tmp/b.graphql
//
// On success the supergraph SDL is written to OUT_SUPERGRAPH_FILE. Either
// way one line of JSON goes to stdout:
//
//   {"errors":["CODE: message", ...],"hints":[{"code":"...","message":"..."}]}
//
// An error is "CODE: message" when the library gives it a code, the bare
// message otherwise (an SDL file that does not parse is reported as
// "INVALID_GRAPHQL: [NAME] ..."). Hints are only given on success.
// Exit codes: 0 composed, 1 composition (or SDL parse) errors, 2 bad usage
// or an unreadable file.
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'graphql';
import { composeServices } from '@apollo/composition';

const [out, ...specs] = process.argv.slice(2);
if (!out || specs.length === 0) {
  console.error('usage: node compose.mjs OUT_SUPERGRAPH_FILE NAME=URL=SDL_FILE [NAME=URL=SDL_FILE ...]');
  process.exit(2);
}

const report = (errors, hints = []) => console.log(JSON.stringify({ errors, hints }));
const withCode = (e) => (e.extensions?.code ? `${e.extensions.code}: ${e.message}` : e.message);

const services = [];
const parseErrors = [];
for (const spec of specs) {
  const first = spec.indexOf('=');
  const last = spec.lastIndexOf('=');
  if (first <= 0 || last === first) {
    console.error(`not NAME=URL=SDL_FILE: ${spec}`);
    process.exit(2);
  }
  const name = spec.slice(0, first);
  const url = spec.slice(first + 1, last);
  const file = spec.slice(last + 1);
  let sdl;
  try {
    sdl = readFileSync(file, 'utf8');
  } catch (e) {
    console.error(`cannot read ${file}: ${e.message}`);
    process.exit(2);
  }
  try {
    services.push({ name, url, typeDefs: parse(sdl) });
  } catch (e) {
    parseErrors.push(`INVALID_GRAPHQL: [${name}] ${e.message}`);
  }
}
if (parseErrors.length > 0) {
  report(parseErrors);
  process.exit(1);
}

const result = composeServices(services);
if (result.errors) {
  report(result.errors.map(withCode));
  process.exit(1);
}
// Rewritten in place, in one write: Hive Gateway watches the file itself and
// stops watching for good when it is replaced by a rename.
writeFileSync(out, result.supergraphSdl);
report([], result.hints.map((h) => ({ code: h.definition.code, message: h.message })));
