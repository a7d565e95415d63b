// Many idle subscribers: opens COUNT graphql-ws subscriptions to
// `offerPublished`, each on its own WebSocket, and keeps them open, counting
// the results that reach them. The client side of graphql-transport-ws is
// written out here over the `ws` package (connection_init, connection_ack,
// one subscribe, pongs) rather than through graphql-ws's client, to keep the
// memory of each connection small.
//
//   (cd tests/audit && npm ci)      # once: `ws` comes from the audit's packages
//   ulimit -n 65536                 # a descriptor per connection, and the gateway's too
//   node --max-old-space-size=4096 bench/subscribers.mjs \
//       --url ws://127.0.0.1:PORT/graphql [--count 10000] [--concurrency 200] \
//       [--filters plain|varied|distinct] [--token T] [--report-ms 0] [--query Q] \
//       [--ack-timeout-ms 10000] [--local-addresses 1]
//
// Progress goes to stderr. Once every handshake has ended, one line goes to
// stdout: {"connected":N,"failed":F,"seconds":S} ("failures" says why, when
// F > 0; a failure is reported, never fatal). The subscriptions then stay open;
// on SIGUSR2, and every --report-ms when it is not 0, one line tells what
// reached them:
//   {"received":R,"firstAt":t0,"lastAt":t1,"open":O,"closed":{"1013":n},"ended":E}
// where R counts `next` messages over all connections, t0 and t1 are the
// Date.now() of the first and the last, O the connections still open,
// "closed" the server's closes after the handshake by code, and E the
// subscriptions the server ended (`error` or `complete`). SIGINT or SIGTERM
// prints that line a last time, closes every connection (1000) and exits.
//
// --filters varied gives subscriber i one filter of a fixed cycle (see
// `variedVariables`): a département, ROME codes within a département, a
// circle around a commune of Normandy, or no filter at all; distinct gives
// each subscriber a filter no other has (the gateway shares nothing between
// them); plain (the default) gives every subscriber the empty filter {}.
// The query takes the filter as $f.
//
// Each connection takes a local port: past about 28,000 connections to one
// address, spread them over several source addresses with --local-addresses N
// (127.0.0.1 to 127.0.0.N, all loopback on Linux).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tests/audit/package.json', import.meta.url));
let WebSocket;
try {
  WebSocket = require('ws');
} catch {
  process.stderr.write('the ws package is missing: run `npm ci` in tests/audit first\n');
  process.exit(2);
}

const USAGE = `usage: node bench/subscribers.mjs --url ws://127.0.0.1:PORT/graphql
         [--count 10000] [--concurrency 200] [--filters plain|varied|distinct] [--token T]
         [--report-ms 0] [--query Q] [--ack-timeout-ms 10000] [--local-addresses 1]`;

const DEFAULT_QUERY = 'subscription ($f: OfferFilter) { offerPublished(filter: $f) { distanceKm offer { id title } } }';

// ---- arguments ------------------------------------------------------------

function usageError(message) {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

const OPTIONS = {
  url: 'string',
  count: 'count',
  concurrency: 'count',
  filters: 'string',
  token: 'string',
  'report-ms': 'count',
  query: 'string',
  'ack-timeout-ms': 'count',
  'local-addresses': 'count',
};

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (!arg.startsWith('--')) usageError(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const kind = OPTIONS[name];
    if (!kind) usageError(`unknown option --${name}`);
    let value;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i];
    else usageError(`--${name} needs a value`);
    if (kind === 'count') {
      if (!/^\d+$/.test(value)) usageError(`--${name} takes a whole number, not ${value}`);
      value = Number(value);
    }
    args[name] = value;
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
if (!args.url) usageError('--url is required');
const url = args.url;
const total = args.count ?? 10000;
const concurrency = Math.max(1, args.concurrency ?? 200);
const filters = args.filters ?? 'plain';
if (!['plain', 'varied', 'distinct'].includes(filters)) {
  usageError('--filters must be plain, varied or distinct');
}
const reportMs = args['report-ms'] ?? 0;
const query = args.query ?? DEFAULT_QUERY;
const ackTimeoutMs = args['ack-timeout-ms'] ?? 10000;
const localAddresses = Math.max(1, args['local-addresses'] ?? 1);
if (localAddresses > 254) usageError('--local-addresses goes up to 254');

// ---- the filters ----------------------------------------------------------

const DEPARTEMENTS = ['14', '27', '50', '61', '76'];
const ROMES = ['D1102', 'D1106', 'F1603', 'G1602', 'H2909', 'I1604', 'K2204', 'M1607', 'D1211', 'G1803'];
// Every commune of Normandy the project has coordinates for.
const COMMUNES = readFileSync(
  new URL('../mappings/reference/communes-coordinates.csv', import.meta.url),
  'utf8',
)
  .split('\n')
  .slice(1)
  .map((line) => line.split(',')[0])
  .filter((code) => code && DEPARTEMENTS.includes(code.slice(0, 2)));

// Subscriber i's variables under --filters varied: a cycle of four kinds,
// the values within a kind cycling on their own (k = i / 4), so that the
// same count of subscribers always gets the same filters.
function variedVariables(i) {
  const k = Math.floor(i / 4);
  switch (i % 4) {
    case 0:
      return { f: { departement: DEPARTEMENTS[k % DEPARTEMENTS.length] } };
    case 1: {
      // One ROME code, or two for every third of them.
      const rome = [ROMES[k % ROMES.length]];
      if (k % 3 === 0) rome.push(ROMES[(k + 3) % ROMES.length]);
      return { f: { departement: DEPARTEMENTS[(k + 1) % DEPARTEMENTS.length], rome } };
    }
    case 2:
      // 10, 20, 30 or 50 km around a commune of Normandy (spread over
      // them by a prime stride).
      return {
        f: { near: { commune: COMMUNES[(k * 7919) % COMMUNES.length], radiusKm: [10, 20, 30, 50][k % 4] } },
      };
    default:
      return {}; // no filter: every published offer
  }
}

// Under --filters distinct, a filter of its own: a circle around commune
// i (cycling), its radius growing by a kilometre at each cycle.
function distinctVariables(i) {
  const n = COMMUNES.length;
  return { f: { near: { commune: COMMUNES[i % n], radiusKm: 5 + Math.floor(i / n) } } };
}

function subscribeMessage(i) {
  const variables =
    filters === 'varied' ? variedVariables(i) : filters === 'distinct' ? distinctVariables(i) : { f: {} };
  return JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } });
}

const initMessage = JSON.stringify(
  args.token !== undefined
    ? { type: 'connection_init', payload: { Authorization: `Bearer ${args.token}` } }
    : { type: 'connection_init' },
);
const pongMessage = JSON.stringify({ type: 'pong' });

// ---- the connections ------------------------------------------------------

const sockets = new Set(); // every connection opened and not yet closed
let connected = 0;
let failed = 0;
const failures = {}; // why handshakes failed: reason → count
let received = 0;
let firstAt = null;
let lastAt = null;
let ended = 0;
const closed = {}; // closes by the server after the handshake: code → count
let stopping = false;

function countFailure(reason) {
  failed += 1;
  failures[reason] = (failures[reason] ?? 0) + 1;
}

// Opens subscriber i's connection; resolves once its handshake has ended,
// acknowledged and subscribed, or failed.
function open(i) {
  return new Promise((resolve) => {
    const localAddress = localAddresses > 1 ? `127.0.0.${1 + (i % localAddresses)}` : undefined;
    const ws = new WebSocket(url, 'graphql-transport-ws', {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: ackTimeoutMs || undefined,
      ...(localAddress && { localAddress }),
    });
    sockets.add(ws);
    let acked = false;
    let settled = false;
    const fail = (reason) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      countFailure(reason);
      ws.terminate();
      resolve();
    };
    const timer = ackTimeoutMs > 0 ? setTimeout(() => fail('no connection_ack in time'), ackTimeoutMs) : undefined;

    ws.on('open', () => ws.send(initMessage));
    ws.on('message', (data) => {
      let message;
      try {
        message = JSON.parse(data);
      } catch {
        return fail('a message that is not JSON');
      }
      switch (message.type) {
        case 'next': {
          const now = Date.now();
          received += 1;
          firstAt ??= now;
          lastAt = now;
          break;
        }
        case 'ping':
          ws.send(pongMessage);
          break;
        case 'connection_ack':
          if (acked || settled) break;
          acked = true;
          settled = true;
          clearTimeout(timer);
          ws.send(subscribeMessage(i));
          connected += 1;
          resolve();
          break;
        case 'error':
        case 'complete':
          ended += 1;
          break;
      }
    });
    // A failed socket is followed by its close; the reason is told there.
    ws.on('error', (err) => {
      if (!settled) fail(err.code ?? err.message);
    });
    ws.on('close', (code) => {
      sockets.delete(ws);
      if (!settled) fail(`closed with ${code} before connection_ack`);
      else if (acked && !stopping) closed[code] = (closed[code] ?? 0) + 1;
    });
  });
}

// ---- reports --------------------------------------------------------------

function report() {
  const line = { received, firstAt, lastAt, open: sockets.size, closed, ended };
  process.stdout.write(JSON.stringify(line) + '\n');
}

process.on('SIGUSR2', report);
if (reportMs > 0) setInterval(report, reportMs).unref();

async function stop() {
  if (stopping) return;
  stopping = true;
  clearInterval(progress);
  report();
  for (const ws of sockets) ws.close(1000);
  // The closing handshakes, for a few seconds at most.
  const deadline = Date.now() + 3000;
  while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const ws of sockets) ws.terminate();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

// ---- the run --------------------------------------------------------------

const started = Date.now();
const progressLine = () =>
  `connected ${connected}, failed ${failed}, of ${total} (${((Date.now() - started) / 1000).toFixed(1)} s)`;
const progress = setInterval(() => process.stderr.write(`${progressLine()}\n`), 1000);

// At most `concurrency` handshakes at once: each worker opens the next
// subscriber's connection once its previous handshake has ended.
let next = 0;
async function worker() {
  while (next < total && !stopping) await open(next++);
}
await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));

clearInterval(progress);
if (!stopping) {
  process.stderr.write(`${progressLine()}: all handshakes done\n`);
  const summary = { connected, failed, seconds: Number(((Date.now() - started) / 1000).toFixed(3)) };
  if (failed > 0) summary.failures = failures;
  process.stdout.write(JSON.stringify(summary) + '\n');
}
// Runs until a signal stops it, even with no connection left open.
setInterval(() => {}, 1 << 30);
