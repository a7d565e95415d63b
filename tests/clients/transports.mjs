// One operation, three transports: each operation given is run over plain
// HTTP (POST /graphql), the graphql-ws client (ws://…/graphql) and the
// graphql-sse client (POST /graphql/stream), and what each client hands
// its caller is printed side by side. An operation that ran is a result
// on every transport (graphql-ws's `error` message is for operations
// refused before they run), with the same data, errors and extensions.
// Then the WebSocket close handshake: the ws library closes with 1000 and
// must see the server's answering Close frame (1000), not a dropped
// connection (1006).
//
//   node transports.mjs http://HOST:PORT/graphql 'OPERATION' ['OPERATION' …]
//
// Prints one JSON line per operation,
//   {"query":…,"http":RESULT,"ws":RESULT,"sse":RESULT}
// where RESULT is {"kind":"result","payload":…} or {"kind":"error","errors":…},
// then {"close":{"code":…,"reason":…}}. Exits 0 once everything ran.
import WebSocket from 'ws';
import { createClient as createWsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';

const [url, ...queries] = process.argv.slice(2);
if (!url || queries.length === 0) {
  console.error('usage: node transports.mjs URL OPERATION [OPERATION …]');
  process.exit(2);
}
const wsUrl = url.replace(/^http/, 'ws');

async function overHttp(query) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query }),
  });
  return { kind: 'result', payload: await response.json() };
}

// What a client library hands its sink: the results, or the error it was
// given in their place.
function through(client, query) {
  return new Promise((resolve) => {
    const results = [];
    client.subscribe(
      { query },
      {
        next: (value) => results.push(value),
        error: (errors) =>
          resolve({
            kind: 'error',
            errors: Array.isArray(errors) ? errors : String(errors?.message ?? errors),
          }),
        complete: () =>
          resolve(
            results.length === 1
              ? { kind: 'result', payload: results[0] }
              : { kind: 'results', payloads: results },
          ),
      },
    );
  });
}

const ws = createWsClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
const sse = createSseClient({ url: `${url}/stream`, retryAttempts: 0 });
for (const query of queries) {
  const [http, overWs, overSse] = [
    await overHttp(query),
    await through(ws, query),
    await through(sse, query),
  ];
  console.log(JSON.stringify({ query, http, ws: overWs, sse: overSse }));
}
await ws.dispose();
sse.dispose();

// The close handshake, as the ws library sees it.
const close = await new Promise((resolve, reject) => {
  const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
  socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
  socket.on('message', (data) => {
    if (JSON.parse(String(data)).type === 'connection_ack') socket.close(1000, 'done');
  });
  socket.on('close', (code, reason) => resolve({ code, reason: String(reason) }));
  socket.on('error', reject);
});
console.log(JSON.stringify({ close }));
