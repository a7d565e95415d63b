// Loads a supergraph as @apollo/gateway does before serving it:
// `Supergraph.build` of @apollo/federation-internals with its default
// supported features, which refuse a `for: SECURITY` feature it does not
// enforce (`@requiresScopes`).
//
//   node load.mjs SUPERGRAPH_FILE
//
// Prints {"loaded":true,"subgraphs":[…]} and exits 0, or
// {"loaded":false,"errors":[…]} and exits 1.
import { readFileSync } from 'node:fs';
import { Supergraph } from '@apollo/federation-internals';

const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: node load.mjs SUPERGRAPH_FILE');
  process.exit(2);
}
try {
  const supergraph = Supergraph.build(readFileSync(file, 'utf8'));
  const subgraphs = supergraph.subgraphs().names();
  console.log(JSON.stringify({ loaded: true, subgraphs }));
} catch (e) {
  const errors = (e.causes ?? [e]).map((c) => c.message);
  console.log(JSON.stringify({ loaded: false, errors }));
  process.exit(1);
}
