"""The simulated agents of ``bench/agent_concurrency.py``, run as ``python -c AGENT_SOURCE PORT MODE``.

A minimal asyncio HTTP/1.1 server (keep-alive, Content-Length bodies) in its own process, so
its CPU is not the worker's. Modes:

- ``fixed:S`` answers 200 after S seconds;
- ``capacity:N:S`` answers 429 with ``Retry-After: 1`` at once when more than N requests are
  open, else 200 after S seconds;
- ``queue:B:K`` answers 200 after B x max(1, open / K) seconds (a queue that slows with load);
- ``instant`` answers 200 at once;
- ``slack:G`` answers 429 with ``Retry-After: 1`` to a request less than G seconds after the
  previous accepted one (Slack's one message a second), else 200, and notes ``req-NN`` in order.

On SIGTERM it prints one JSON line: requests, refused, records, latency p50/p99 (ms) of the
answers after the first 5 s, the order of ``req-NN`` ids and the accepted rate.
"""

AGENT_SOURCE = r'''
import asyncio, json, re, signal, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
kind, *args = mode.split(":")
args = [float(a) for a in args]
state = {"requests": 0, "refused": 0, "records": 0, "open": 0, "first": None, "latencies": [], "order": [],
         "accepted": [], "last_ok": 0.0}
REFUSE = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 4\r\n\r\nbusy"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"

async def answer(body):
    now = time.monotonic()
    if state["first"] is None:
        state["first"] = now
    if kind == "instant":
        return OK
    if kind == "fixed":
        await asyncio.sleep(args[0])
        return OK
    if kind == "capacity":
        if state["open"] > args[0]:
            state["refused"] += 1
            return REFUSE
        await asyncio.sleep(args[1])
        return OK
    if kind == "queue":
        delay = args[0] * max(1.0, state["open"] / args[1])
        await asyncio.sleep(delay)
        if now - state["first"] >= 5.0:
            state["latencies"].append(delay)
        return OK
    if kind == "slack":
        if now - state["last_ok"] < args[0] * 0.9:
            state["refused"] += 1
            return REFUSE
        state["last_ok"] = now
        state["accepted"].append(now)
        found = re.search(rb"req-(\d+)", body)
        state["order"].append(int(found.group(1)) if found else -1)
        return OK
    raise SystemExit(f"unknown mode {mode}")

async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            state["requests"] += 1
            state["records"] += body.count(b'"timestamp":')
            state["open"] += 1
            try:
                reply = await answer(body)
            finally:
                state["open"] -= 1
            writer.write(reply)
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
        writer.close()

def percentile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[round(q * (len(ordered) - 1))] * 1000, 1)

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with server:
        await stop.wait()
    accepted = state["accepted"]
    rate = (len(accepted) - 1) / (accepted[-1] - accepted[0]) if len(accepted) > 1 else 0.0
    print(json.dumps({"requests": state["requests"], "refused": state["refused"], "records": state["records"],
                      "p50_ms": percentile(state["latencies"], 0.5), "p99_ms": percentile(state["latencies"], 0.99),
                      "order": state["order"], "rate": rate}), flush=True)

asyncio.run(main())
'''
