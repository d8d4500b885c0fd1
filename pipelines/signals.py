"""Which signals a filter can run on without failing: the editor's signal-aware check (pure).

Every record names its signal (``"log"``, ``"span"``, ``"metric"``; docs/records.md), and one
pipeline filter runs on every signal the pipeline takes. A log-only filter such as
``severityNumber >= 13`` fails on a span or metric (no such field: ``nil >= 13``), and each such
record counts as a filter error. The editor therefore runs the filter over one sample record of
each other enabled signal, shaped exactly like the receiver's records, and warns with the fix:
make the signal explicit (``signal != "log" || severityNumber >= 13``).
"""

from __future__ import annotations

from typing import Any

SAMPLES: dict[str, dict[str, Any]] = {
    "logs": {
        "resourceAttributes": {"service.name": "checkout"}, "scope": {"name": "shop"},
        "severityNumber": 17, "severityText": "ERROR", "body": "Connection refused", "attributes": {},
        "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
        "timestamp": "2024-01-15T10:30:00Z", "signal": "log",
    },
    "spans": {
        "signal": "span", "resourceAttributes": {"service.name": "checkout"}, "scope": {"name": "shop"},
        "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "parentSpanId": "",
        "name": "GET /cart", "kind": "SERVER", "startTimestamp": "2024-01-15T10:30:00Z",
        "endTimestamp": "2024-01-15T10:30:00.25Z", "durationMs": 250.0,
        "status": {"code": "ERROR", "message": "timeout"}, "attributes": {}, "events": [], "links": [],
    },
    "metrics": {
        "signal": "metric", "resourceAttributes": {"service.name": "checkout"}, "scope": {"name": "shop"},
        "name": "orders", "description": "", "unit": "1", "type": "sum", "attributes": {},
        "timestamp": "2024-01-15T10:30:00Z", "startTimestamp": None, "value": 3, "isMonotonic": True,
        "aggregationTemporality": "CUMULATIVE",
    },
}
RECORD_SIGNAL = {"logs": "log", "spans": "span", "metrics": "metric"}


def filter_warning(source: str, signals: list[str]) -> str:
    """A sentence naming the enabled signals whose records the filter cannot evaluate, with the fix ("" if none).

    The caller has already checked that ``source`` compiles.
    """
    from pipelines import expr  # imported late: the engine is a separate, pure package

    source = (source or "").strip()
    if not source or len(signals) < 2:
        return ""
    try:
        program = expr.compile(source)
    except expr.ExprError:
        return ""
    works: list[str] = []
    fails: list[tuple[str, str]] = []
    for signal in signals:
        if signal not in SAMPLES:
            continue
        try:
            result = program.run(dict(SAMPLES[signal]))
        except expr.ExprError as exc:
            fails.append((signal, str(exc).splitlines()[0]))
            continue
        if isinstance(result, bool):
            works.append(RECORD_SIGNAL[signal])
        else:
            fails.append((signal, f"it returns {type(result).__name__}, not bool"))
    if not fails:
        return ""
    failing = " and ".join(signal for signal, _ in fails)
    message = (f"This filter fails on {failing} ({fails[0][1]}): every such record would count as a filter "
               f"error. Make the signal explicit")
    if not works:
        return message + ", e.g. signal == \"log\" && (...)."
    listed = "[" + ", ".join(f'"{name}"' for name in works) + "]"
    others = f'signal != "{works[0]}"' if len(works) == 1 else f"signal not in {listed}"
    these = f'signal == "{works[0]}"' if len(works) == 1 else f"signal in {listed}"
    return (f"{message}: {others} || ({source}) also keeps every record of the other signals; "
            f"{these} && ({source}) keeps none of them.")
