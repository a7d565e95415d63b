#!/usr/bin/env python3
"""A webhook receiver for the benchmarks: an HTTP/1.1 server that answers
every POST with 204 No Content after --latency-ms, as a partner's endpoint
that takes its time would, and counts them. Standard library only (asyncio).

    python3 bench/receiver.py [--port 0] [--host 127.0.0.1] [--latency-ms 50]
                              [--report-s 1] [--status 204] [--duration-s 0]

The first line on stdout is {"port":P}, the port listened on (--port 0, the
default, lets the system pick one). Then, every --report-s seconds,
{"received":N,"per_second":X}: N the POSTs answered so far, X those of the
last interval per second. A last such line when it stops (SIGINT, SIGTERM,
or after --duration-s when that is not 0), where X is the average from the
first request to the last.

Connections are kept alive (HTTP/1.1 unless the client says
`Connection: close`; HTTP/1.0 only with `Connection: keep-alive`), requests
on one connection are answered in order, and bodies are read whole, sized by
Content-Length or sent chunked. Other methods than POST get 405 and are not
counted. Each connection is one asyncio task, so a few hundred concurrent
connections, each waiting out the latency, cost little.
"""

import argparse
import asyncio
import json
import signal
import sys
import time

# The reason phrases of the statuses this server may answer with.
REASONS = {
    200: "OK",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    405: "Method Not Allowed",
    413: "Content Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}

# A request head or a body larger than these is refused (400 or 413) and its
# connection closed.
MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024


class BadRequest(Exception):
    """A request this server cannot read; its connection is closed."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Counter:
    """The POSTs answered, with the times of the first and the last."""

    def __init__(self):
        self.received = 0
        self.first = None
        self.last = None

    def count(self):
        now = time.monotonic()
        self.received += 1
        if self.first is None:
            self.first = now
        self.last = now


def emit(line):
    print(json.dumps(line, separators=(",", ":")), flush=True)


def response(status, keep_alive):
    """The bytes of an empty response."""
    reason = REASONS.get(status, "Unknown")
    head = [f"HTTP/1.1 {status} {reason}"]
    if status != 204:
        head.append("Content-Length: 0")
    if not keep_alive:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii")


async def read_head(reader):
    """The request line and headers (names lowercased), or None when the
    client closed the connection between requests."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if e.partial.strip():
            raise BadRequest(400, "the connection closed inside a request head")
        return None
    except asyncio.LimitOverrunError:
        raise BadRequest(400, "request head too large")
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise BadRequest(400, f"bad request line {lines[0]!r}")
    method, _target, version = parts
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest(400, f"bad header line {line!r}")
        name = name.strip().lower()
        value = value.strip()
        # Repeated headers join with commas, as HTTP says they may.
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return method, version, headers


async def read_body(reader, writer, version, headers):
    """Reads, and drops, the request's body."""
    if headers.get("expect", "").lower() == "100-continue" and version == "HTTP/1.1":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        size = 0
        while True:
            line = await reader.readuntil(b"\r\n")
            try:
                chunk = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadRequest(400, "bad chunk size")
            if chunk == 0:
                break
            size += chunk
            if size > MAX_BODY:
                raise BadRequest(413, "body too large")
            await reader.readexactly(chunk + 2)  # the chunk and its CRLF
        # Trailers, up to the empty line that ends them.
        while await reader.readuntil(b"\r\n") != b"\r\n":
            pass
        return
    length = headers.get("content-length", "0")
    if not length.isdigit():
        raise BadRequest(400, f"bad Content-Length {length!r}")
    length = int(length)
    if length > MAX_BODY:
        raise BadRequest(413, "body too large")
    while length > 0:
        chunk = await reader.read(min(length, 1 << 16))
        if not chunk:
            raise asyncio.IncompleteReadError(b"", length)
        length -= len(chunk)


def wants_keep_alive(version, headers):
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    if version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens


async def serve(reader, writer, counter, latency, status):
    """Answers one connection's requests, in order, until it closes."""
    try:
        while True:
            try:
                head = await read_head(reader)
                if head is None:
                    break
                method, version, headers = head
                await read_body(reader, writer, version, headers)
            except BadRequest as e:
                writer.write(response(e.status, keep_alive=False))
                await writer.drain()
                break
            keep_alive = wants_keep_alive(version, headers)
            if method == "POST":
                if latency > 0:
                    await asyncio.sleep(latency)
                writer.write(response(status, keep_alive))
                counter.count()
            else:
                writer.write(response(405, keep_alive))
            await writer.drain()
            if not keep_alive:
                break
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass  # the client went away mid-request
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--report-s", type=float, default=1.0)
    parser.add_argument("--status", type=int, default=204, help="the answer to every POST")
    parser.add_argument("--duration-s", type=float, default=0.0, help="0 runs until a signal")
    args = parser.parse_args()

    counter = Counter()
    latency = args.latency_ms / 1000
    server = await asyncio.start_server(
        lambda r, w: serve(r, w, counter, latency, args.status),
        args.host,
        args.port,
        backlog=1024,
        limit=MAX_HEAD,
    )
    emit({"port": server.sockets[0].getsockname()[1]})

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if args.duration_s > 0:
        loop.call_later(args.duration_s, stop.set)

    async def report():
        before, at = 0, time.monotonic()
        while True:
            await asyncio.sleep(args.report_s)
            now = time.monotonic()
            rate = (counter.received - before) / (now - at)
            emit({"received": counter.received, "per_second": round(rate, 1)})
            before, at = counter.received, now

    started = time.monotonic()
    reporter = asyncio.create_task(report()) if args.report_s > 0 else None
    await stop.wait()
    # Stops listening; the connections still open are dropped as asyncio.run
    # cancels their tasks (waiting for them, as Server.wait_closed does since
    # Python 3.12, would wait for the clients' keep-alive to end).
    server.close()
    if reporter:
        reporter.cancel()
    if counter.received > 1 and counter.last > counter.first:
        rate = counter.received / (counter.last - counter.first)
    else:
        rate = counter.received / max(time.monotonic() - started, 1e-9)
    emit({"received": counter.received, "per_second": round(rate, 1)})


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except BrokenPipeError:
        sys.exit(0)
