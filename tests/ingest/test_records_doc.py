"""docs/records.md stays true: every example is what the receiver makes of its named capture, and
every filter of the "Filtering more than one signal" table runs on all three signals without error."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from ingest.otlp import decode_request, flatten_logs, flatten_metrics, flatten_spans
from pipelines import expr
from tests.support.receiver import VECTORS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "records.md").read_text()
EXAMPLES = re.findall(r"<!-- capture: ([\w-]+)#(\d+) -->\n```json\n(.*?)\n```", DOC, re.S)
FILTERS = re.findall(r"^\| [^|]+ \| `(signal .*?)` \|$", DOC, re.M)
FLATTEN = {"logs": flatten_logs, "traces": flatten_spans, "metrics": flatten_metrics}


def flattened(capture: str) -> list[dict]:
    meta = json.loads((VECTORS / f"{capture}.json").read_text())
    body = (VECTORS / meta["body_file"]).read_bytes()
    if meta["content_encoding"] == "gzip":
        body = gzip.decompress(body)
    return FLATTEN[meta["signal"]](decode_request(meta["signal"], body, meta["content_type"]), 0)


def test_the_doc_has_an_example_of_each_signal_and_the_filter_table():
    signals = {json.loads(example)["signal"] for _, _, example in EXAMPLES}
    assert signals == {"log", "span", "metric"}
    assert len(FILTERS) == 4


@pytest.mark.parametrize("capture, index, example", EXAMPLES, ids=[f"{c}#{i}" for c, i, _ in EXAMPLES])
def test_each_example_is_the_receivers_record_of_its_capture(capture, index, example):
    assert json.loads(example) == flattened(capture)[int(index)]


@pytest.mark.parametrize("source", [source.replace("\\|", "|") for source in FILTERS])
def test_each_signal_aware_filter_runs_on_every_signal_without_error(source):
    program = expr.compile(source)
    for _, _, example in EXAMPLES:
        assert isinstance(program.run(json.loads(example)), bool), source
