"""Filter, transforms and output-type conversion on plain records, table-driven."""

from __future__ import annotations

import math

import pytest

from pipelines.stages import (
    ConfigError,
    ConversionError,
    RecordOutcome,
    compile_pipeline,
    convert,
    parse_pipeline,
)

ERROR_LOG = {"severityNumber": 17, "severityText": "ERROR", "body": "Connection refused: pool exhausted",
             "resourceAttributes": {"service.name": "checkout"}, "attributes": {"http.status": "503"}}
INFO_LOG = dict(ERROR_LOG, severityNumber=9, severityText="INFO", body="all good")


def pipeline(filter_source: str = "", transforms: list[dict] | None = None):
    document = {"projectId": "p1", "version": 3,
                "pipeline": {"enabled": True, "agentEndpoint": "http://agent", "filter": filter_source,
                             "transforms": transforms or []}}
    return compile_pipeline(parse_pipeline(document))


@pytest.mark.parametrize(("filter_source", "record", "outcome"), [
    ("", INFO_LOG, RecordOutcome.PASSED),
    ("severityNumber >= 17", ERROR_LOG, RecordOutcome.PASSED),
    ("severityNumber >= 17", INFO_LOG, RecordOutcome.FILTERED),
    ('body contains "refused"', ERROR_LOG, RecordOutcome.PASSED),
    ('resourceAttributes["service.name"] == "payments"', ERROR_LOG, RecordOutcome.FILTERED),
    ("severityNumber > 10 && attributes.missing.deeper == 1", ERROR_LOG, RecordOutcome.FILTER_ERROR),
    ("attributes", ERROR_LOG, RecordOutcome.FILTER_ERROR),  # not a bool: counted as an error, never a match
])
def test_the_filter_passes_drops_or_reports_each_record(filter_source, record, outcome):
    result, _ = pipeline(filter_source).process(dict(record))
    assert result is outcome


@pytest.mark.parametrize(("transforms", "expected"), [
    ([{"expression": "upper(severityText)", "output_name": "level", "output_type": "string"}],
     {"level": "ERROR"}),
    ([{"expression": 'attributes["http.status"]', "output_name": "status", "output_type": "int"}],
     {"status": 503}),
    ([{"expression": "severityNumber / 2", "output_name": "half", "output_type": "float64"}],
     {"half": 8.5}),
    ([{"expression": "severityNumber >= 17", "output_name": "is_error", "output_type": "bool"}],
     {"is_error": True}),
    # Each transform sees the outputs of the ones before it.
    ([{"expression": "severityNumber * 2", "output_name": "double", "output_type": "int64"},
      {"expression": "double + 1", "output_name": "double_plus_one", "output_type": "int"}],
     {"double": 34, "double_plus_one": 35}),
    ([{"expression": "len(body)", "output_name": "body", "output_type": "string"}],
     {"body": "34"}),
])
def test_transforms_store_converted_outputs_in_order(transforms, expected):
    result, record = pipeline(transforms=transforms).process(dict(ERROR_LOG))
    assert result is RecordOutcome.PASSED
    for key, value in expected.items():
        assert record[key] == value and type(record[key]) is type(value)


@pytest.mark.parametrize(("transform", "reason_part"), [
    ({"expression": "body", "output_name": "n", "output_type": "int"}, "not a base-10 integer"),
    ({"expression": "attributes.nothing", "output_name": "n", "output_type": "float64"}, "add a default with ??"),
    ({"expression": "body", "output_name": "flag", "output_type": "bool"}, "not true or false"),
    ({"expression": "attributes.x.y", "output_name": "v", "output_type": "string"}, "transform 1 (v) failed"),
])
def test_a_transform_that_cannot_produce_its_type_reports_a_reason(transform, reason_part):
    result, reason = pipeline(transforms=[transform]).process(dict(ERROR_LOG))
    assert result is RecordOutcome.TRANSFORM_ERROR
    assert reason_part in reason and "transform 1" in reason


@pytest.mark.parametrize(("value", "output_type", "expected"), [
    ("abc", "string", "abc"), (True, "string", "true"), (3, "string", "3"), (2.5, "string", "2.5"),
    (100.0, "string", "100"), (1e21, "string", "1e+21"), ({"a": [1, "x"]}, "string", '{"a":[1,"x"]}'),
    (7, "int", 7), (7.9, "int", 7), (-7.9, "int64", -7), (" 42 ", "int", 42), (2**63 - 1, "int64", 2**63 - 1),
    (3, "float64", 3.0), ("2.5", "float64", 2.5),
    (False, "bool", False), ("t", "bool", True), ("FALSE", "bool", False), (0, "bool", False), (2, "bool", True),
])
def test_values_convert_to_their_output_type(value, output_type, expected):
    result = convert(value, output_type)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(("value", "output_type"), [
    (None, "string"), (True, "int"), ("4.5", "int"), (2**63, "int64"), (math.inf, "int"), ([1], "int"),
    (math.nan, "float64"), ("inf", "float64"), (True, "float64"), ("yes", "bool"), (1.5, "bool"),
])
def test_values_that_do_not_fit_their_type_are_refused(value, output_type):
    with pytest.raises(ConversionError):
        convert(value, output_type)


def test_a_pipeline_with_bad_expressions_names_every_one_and_does_not_compile():
    with pytest.raises(ConfigError) as caught:
        pipeline("severityNumber >=", [{"expression": "len(", "output_name": "a", "output_type": "string"}])
    message = str(caught.value)
    assert "filter" in message and "transform 1 (a)" in message and "stays stopped" in message


@pytest.mark.parametrize(("section", "problem"), [
    ({"batchSize": 0}, "batchSize"),
    ({"signals": ["logs", "traces"]}, "signals"),
    ({"transforms": [{"expression": "1", "output_name": "x", "output_type": "decimal"}]}, "output_type"),
    ({"agentHeaders": {"X-Key": 5}}, "agentHeaders"),
    ({"retry": {"initialBackoffMs": 0}}, "initialBackoffMs"),
    ({"deadLetterAfterSeconds": 0}, "deadLetterAfterSeconds"),
])
def test_invalid_settings_are_reported_in_plain_words(section, problem):
    with pytest.raises(ConfigError, match=problem):
        parse_pipeline({"projectId": "p1", "version": 1, "pipeline": section})


def test_a_document_without_a_pipeline_section_takes_the_model_defaults():
    config = parse_pipeline({"projectId": "p1", "version": 2})
    assert (config.enabled, config.batch_size, config.batch_max_wait_ms, config.signals) == (False, 10, 1000,
                                                                                           ("logs",))
    assert config.retry.dead_letter_after is None and not config.active  # outages pause, never dead-letter
