// A GraphQL subscription client for the test suite: subscribes through the
// reference client libraries, graphql-ws (the `graphql-transport-ws`
// subprotocol, at ws://HOST:PORT/graphql) or graphql-sse (GraphQL over
// Server-Sent Events in distinct connections mode, at
// http://HOST:PORT/graphql/stream), and prints what happens as JSON lines.
//
//   node subscribe.mjs --transport ws|sse --url http://HOST:PORT/graphql
//       --query 'subscription ($f: OfferFilter) { offerPublished(filter: $f) { id } }'
//       [--variables '{"f":{"departement":"14"}}'] [--token T]
//       [--count N] [--timeout-ms T] [--subscriptions K]
//       [--retry N] [--retry-wait-ms MS]
//
// One line per event on stdout, written as it happens:
//   {"event":"connected"}                         ws: connection_ack received;
//                                                 sse: the first stream's response arrived
//   {"event":"next","subscription":i,"data":…}    a result ("errors" too when it has some)
//   {"event":"error","subscription":i,"error":…}  a subscription failed: the message, or
//                                                 the close code (with "reason") when the
//                                                 socket closed under it; "status" for an
//                                                 HTTP answer that was no event stream
//   {"event":"closed","code":c,"reason":r}        ws: the socket closed
//   {"event":"complete","subscription":i}         the server completed a subscription
//   {"event":"done"}                              last line, just before exiting
// Subscriptions are numbered from 0; with --subscriptions K they all share one
// WebSocket (ws) or one client (sse, one HTTP stream each).
//
// The run ends after N results in all (--count), after --timeout-ms (default
// 30000; 0 waits forever), once every subscription has ended, or on SIGINT or
// SIGTERM; it then closes the connection (1000 for ws) and prints "done".
// Exit codes: 0 when it ran to one of those ends having reached the server
// (even if the server then refused or closed: read the events); 1 when the
// server could not be reached at all or the client itself failed; 2 for bad
// arguments.
//
// Without --retry the clients never reconnect; with --retry N they reconnect
// up to N times in a row, --retry-wait-ms (default 500) apart, whatever the
// close code: both libraries start counting again once a connection succeeds
// (graphql-ws: connection_ack; graphql-sse: a result on the stream).
// graphql-ws subscribes again on the new connection, and prints "connected"
// again; graphql-sse sends the operation again, "connected" staying the first
// stream's alone.
import WebSocket from 'ws';
import { createClient as createWsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';

const USAGE = `usage: node subscribe.mjs --transport ws|sse --url http://HOST:PORT/graphql
         --query 'subscription ...' [--variables JSON] [--token T]
         [--count N] [--timeout-ms T] [--subscriptions K]
         [--retry N] [--retry-wait-ms MS]`;

// ---- output ---------------------------------------------------------------

// Set once the run is ending: events the closing itself causes (our own
// close of the socket) are not reported.
let finishing = false;

function writeLine(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

function emit(event) {
  if (!finishing) writeLine(event);
}

// A reader that stops reading (a closed pipe) has what it wanted: stop quietly.
process.stdout.on('error', () => process.exit(0));

// A failure of the client itself: reported, then exit 1.
function fatal(err) {
  if (finishing) process.exit(1);
  finishing = true;
  writeLine({ event: 'error', subscription: null, ...describe(err) });
  writeLine({ event: 'done' });
  process.exit(1);
}
process.on('unhandledRejection', fatal);
process.on('uncaughtException', fatal);

// What went wrong, as the fields of an error event. The clients hand a sink
// GraphQL errors (an array, from a ws `error` message), a close event (code
// and reason), an ErrorEvent or Error (the socket or the fetch failed), or
// graphql-sse's NetworkError carrying the HTTP response that was refused.
function describe(err) {
  if (Array.isArray(err)) {
    return { error: err.map((e) => e?.message ?? String(e)).join('; '), errors: err };
  }
  if (err && typeof err === 'object') {
    if (typeof err.code === 'number' && 'reason' in err) {
      return { error: err.code, reason: String(err.reason) };
    }
    const message = err.message ?? err.error?.message ?? String(err);
    if (err.response && typeof err.response.status === 'number') {
      return { error: message, status: err.response.status };
    }
    return { error: message };
  }
  return { error: String(err) };
}

// ---- arguments ------------------------------------------------------------

function usageError(message) {
  writeLine({ event: 'error', subscription: null, error: message });
  writeLine({ event: 'done' });
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

// How each option's value is read; an option missing here is unknown.
const OPTIONS = {
  transport: 'string',
  url: 'string',
  token: 'string',
  query: 'string',
  variables: 'json',
  count: 'count',
  'timeout-ms': 'count',
  subscriptions: 'count',
  retry: 'count',
  'retry-wait-ms': 'count',
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
    // Both `--name value` and `--name=value`.
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const kind = OPTIONS[name];
    if (!kind) usageError(`unknown option --${name}`);
    let value;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i];
    else usageError(`--${name} needs a value`);
    if (kind === 'json') {
      try {
        value = JSON.parse(value);
      } catch (e) {
        usageError(`--${name} is not JSON: ${e.message}`);
      }
    } else if (kind === 'count') {
      if (!/^\d+$/.test(value)) usageError(`--${name} takes a whole number, not ${value}`);
      value = Number(value);
    }
    args[name] = value;
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const transport = args.transport;
if (transport !== 'ws' && transport !== 'sse') usageError('--transport must be ws or sse');
if (!args.url) usageError('--url is required');
if (!args.query) usageError('--query is required');
const count = args.count ?? 0; // 0: no limit
const timeoutMs = args['timeout-ms'] ?? 30000; // 0: no limit
const subscriptions = args.subscriptions ?? 1;
if (subscriptions < 1) usageError('--subscriptions must be at least 1');
const retry = args.retry ?? 0;
const retryWaitMs = args['retry-wait-ms'] ?? 500;
const request = { query: args.query, ...(args.variables !== undefined && { variables: args.variables }) };
const authorization = args.token !== undefined ? `Bearer ${args.token}` : undefined;

// The endpoint for a transport, from the GraphQL URL over HTTP: ws://…/graphql
// for graphql-ws, http://…/graphql/stream for graphql-sse (used as it is:
// the client POSTs the operation to that very URL).
function endpoint(url, transport) {
  let u;
  try {
    u = new URL(url);
  } catch {
    usageError(`--url is not a URL: ${url}`);
  }
  const secure = u.protocol === 'https:' || u.protocol === 'wss:';
  if (transport === 'ws') {
    u.protocol = secure ? 'wss:' : 'ws:';
  } else {
    u.protocol = secure ? 'https:' : 'http:';
    const path = u.pathname.replace(/\/+$/, '');
    if (!path.endsWith('/stream')) u.pathname = `${path}/stream`;
  }
  return u.toString();
}

// ---- the run --------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let received = 0; // results of every subscription
let active = subscriptions; // subscriptions not yet ended
let reached = false; // the server answered at least once
let closeTransport = async () => {};
let timer; // the --timeout-ms one

async function finish(code) {
  if (finishing) return;
  finishing = true;
  clearTimeout(timer);
  try {
    await closeTransport();
  } catch {
    // Closing is best effort: the run is over either way.
  }
  process.stdout.write(JSON.stringify({ event: 'done' }) + '\n', () => process.exit(code));
}

if (timeoutMs > 0) timer = setTimeout(() => finish(reached ? 0 : 1), timeoutMs);
process.on('SIGINT', () => finish(0));
process.on('SIGTERM', () => finish(0));

function sink(i) {
  return {
    next(result) {
      emit({
        event: 'next',
        subscription: i,
        data: result.data ?? null,
        ...(result.errors && { errors: result.errors }),
      });
      received += 1;
      if (count > 0 && received >= count) finish(0);
    },
    error(err) {
      if (err?.response) reached = true;
      emit({ event: 'error', subscription: i, ...describe(err) });
      ended();
    },
    complete() {
      emit({ event: 'complete', subscription: i });
      ended();
    },
  };
}

function ended() {
  active -= 1;
  if (active === 0) finish(reached ? 0 : 1);
}

if (transport === 'ws') {
  let open = false; // a socket is open, and closing it is worth waiting for
  const client = createWsClient({
    url: endpoint(args.url, 'ws'),
    webSocketImpl: WebSocket,
    lazy: false,
    connectionParams: authorization && { Authorization: authorization },
    retryAttempts: retry,
    ...(retry > 0 && { shouldRetry: () => true }),
    retryWait: () => sleep(retryWaitMs),
    // The non-lazy connection's failure reaches every subscription's sink,
    // which reports it.
    onNonLazyError: () => {},
    on: {
      opened: () => {
        open = true;
        reached = true;
      },
      connected: () => emit({ event: 'connected' }),
      closed: (e) => {
        open = false;
        emit({ event: 'closed', code: e?.code ?? null, reason: String(e?.reason ?? '') });
      },
    },
  });
  for (let i = 0; i < subscriptions; i++) client.subscribe(request, sink(i));
  closeTransport = async () => {
    // Wait, briefly, for the server's answer to our close (1000); a
    // connection still being made is not waited for long either.
    const closed = open ? new Promise((resolve) => client.on('closed', resolve)) : undefined;
    await Promise.race([Promise.all([client.dispose(), closed]), sleep(300)]);
  };
} else {
  // Node's fetch fails with a bare "fetch failed", the reason (ECONNREFUSED…)
  // in its cause, which graphql-sse's NetworkError drops: keep it in the message.
  const fetchWithCause = async (...params) => {
    try {
      return await fetch(...params);
    } catch (err) {
      if (err?.cause?.message) err.message = `${err.message}: ${err.cause.message}`;
      throw err;
    }
  };
  let connected = false;
  const client = createSseClient({
    url: endpoint(args.url, 'sse'),
    headers: authorization ? { Authorization: authorization } : {},
    retryAttempts: retry,
    retry: () => sleep(retryWaitMs),
    fetchFn: fetchWithCause,
  });
  const on = {
    // The stream's response headers arrived: the server took the operation.
    connected: () => {
      reached = true;
      if (!connected) {
        connected = true;
        emit({ event: 'connected' });
      }
    },
  };
  for (let i = 0; i < subscriptions; i++) client.subscribe(request, sink(i), on);
  closeTransport = async () => client.dispose();
}
