// Hive Gateway over a supergraph composed by compose.mjs. Run it from this
// folder, so that the CLI finds this file by its name:
//
//   node node_modules/.bin/hive-gateway supergraph /path/supergraph.graphql \
//     --host 127.0.0.1 --port 4100
//
// GraphQL is served at /graphql. /readiness answers 200 once the supergraph
// is loaded (503 while it is not); the file is read before the server
// listens, so wait for the first 200 there. /healthcheck only says the
// server is up. The CLI exits when the file is missing, and also when it
// does not parse, at start or on a reload. The file is watched and reloaded
// when rewritten in place (compose.mjs does that); replacing it by a rename
// stops the watching for good, so restart the gateway after one.
//
// A plain object in a .mjs file: no TypeScript loader, and no import of
// '@graphql-hive/gateway' (its defineConfig only returns its argument, and
// importing it adds about a quarter of a second to the start).
export const gatewayConfig = {
  // The caller's Authorization header goes to every subgraph request; a
  // request without one sends none. Hive Gateway forwards no client header
  // by default.
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({
      authorization: request.headers.get('authorization'),
    }),
  },
  // Errors that a subgraph returns in its GraphQL answer reach the client
  // even with masking on (message and extensions, with
  // extensions.serviceName added). Masking would still turn a failed
  // subgraph request (refused connection, bad HTTP answer) into
  // "Unexpected error." with code INTERNAL_SERVER_ERROR; with it off the
  // client sees the real message with code SUBREQUEST_HTTP_ERROR.
  maskedErrors: false,
};
