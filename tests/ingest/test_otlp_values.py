"""Table-driven tests of the value mapping rules of docs/records.md: AnyValue, attributes, ids, timestamps."""

from __future__ import annotations

import math

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValueList

from ingest.otlp import any_value, attributes, format_timestamp, hex_id
from tests.support.otlp import T0, kv


@pytest.mark.parametrize(
    "value, expected",
    [
        pytest.param(AnyValue(string_value="text"), "text", id="string"),
        pytest.param(AnyValue(string_value=""), "", id="empty string"),
        pytest.param(AnyValue(bool_value=True), True, id="true"),
        pytest.param(AnyValue(bool_value=False), False, id="false"),
        pytest.param(AnyValue(int_value=-(2**63)), -(2**63), id="int64 min"),
        pytest.param(AnyValue(int_value=0), 0, id="zero"),
        pytest.param(AnyValue(double_value=0.25), 0.25, id="double"),
        pytest.param(AnyValue(double_value=math.nan), None, id="NaN"),
        pytest.param(AnyValue(double_value=math.inf), None, id="+Inf"),
        pytest.param(AnyValue(double_value=-math.inf), None, id="-Inf"),
        pytest.param(AnyValue(bytes_value=b"\x00\x01\xff"), "AAH/", id="bytes as base64"),
        pytest.param(AnyValue(bytes_value=b""), "", id="empty bytes"),
        pytest.param(AnyValue(), None, id="empty value"),
        pytest.param(
            AnyValue(
                array_value=ArrayValue(
                    values=[AnyValue(int_value=1), AnyValue(), AnyValue(double_value=math.nan)]
                )
            ),
            [1, None, None],
            id="array",
        ),
        pytest.param(AnyValue(array_value=ArrayValue()), [], id="empty array"),
        pytest.param(
            AnyValue(
                kvlist_value=KeyValueList(
                    values=[kv("a", AnyValue(int_value=1)), kv("a", AnyValue(int_value=2))]
                )
            ),
            {"a": 2},
            id="kvlist last duplicate wins",
        ),
        pytest.param(
            AnyValue(
                kvlist_value=KeyValueList(
                    values=[
                        kv(
                            "deep",
                            AnyValue(
                                array_value=ArrayValue(
                                    values=[
                                        AnyValue(
                                            kvlist_value=KeyValueList(
                                                values=[kv("b", AnyValue(bytes_value=b"hi"))]
                                            )
                                        )
                                    ]
                                )
                            ),
                        )
                    ]
                )
            ),
            {"deep": [{"b": "aGk="}]},
            id="nested",
        ),
        pytest.param(AnyValue(string_value_strindex=3), None, id="profiles string index"),
    ],
)
def test_any_value_maps_to_json_values(value, expected):
    assert any_value(value) == expected


def test_attribute_lists_become_objects_and_the_last_duplicate_wins():
    items = [
        kv("k", AnyValue(string_value="first")),
        kv("x", AnyValue(bool_value=True)),
        kv("k", AnyValue(int_value=7)),
    ]
    assert attributes(items) == {"k": 7, "x": True}


@pytest.mark.parametrize(
    "raw, expected",
    [
        pytest.param(
            bytes.fromhex("5b8efff798038103d269b633813fc60c"),
            "5b8efff798038103d269b633813fc60c",
            id="trace id",
        ),
        pytest.param(
            bytes.fromhex("00000000000000000000000000000001"),
            "00000000000000000000000000000001",
            id="leading zeros kept",
        ),
        pytest.param(bytes(16), "", id="all-zero trace id"),
        pytest.param(bytes(8), "", id="all-zero span id"),
        pytest.param(b"", "", id="unset"),
        pytest.param(bytes.fromhex("EEE19B7EC3C1B174"), "eee19b7ec3c1b174", id="lowercase"),
    ],
)
def test_ids_are_lowercase_hex_and_all_zero_means_unset(raw, expected):
    assert hex_id(raw) == expected


@pytest.mark.parametrize(
    "unix_nano, expected",
    [
        pytest.param(0, "1970-01-01T00:00:00Z", id="epoch"),
        pytest.param(T0, "2024-01-15T10:30:00Z", id="whole second"),
        pytest.param(T0 + 500_000_000, "2024-01-15T10:30:00.5Z", id="half"),
        pytest.param(T0 + 120_000_000, "2024-01-15T10:30:00.12Z", id="trailing zero trimmed"),
        pytest.param(T0 + 123_000_000, "2024-01-15T10:30:00.123Z", id="millis"),
        pytest.param(T0 + 123_456_000, "2024-01-15T10:30:00.123456Z", id="micros"),
        pytest.param(T0 + 1, "2024-01-15T10:30:00.000000001Z", id="one ns"),
        pytest.param(T0 + 999_999_999, "2024-01-15T10:30:00.999999999Z", id="max fraction"),
        pytest.param(951_782_400 * 10**9, "2000-02-29T00:00:00Z", id="leap day"),
        pytest.param(2**64 - 1, "2554-07-21T23:34:33.709551615Z", id="largest fixed64"),
    ],
)
def test_timestamps_are_rfc3339_utc_with_minimal_fraction(unix_nano, expected):
    assert format_timestamp(unix_nano) == expected
