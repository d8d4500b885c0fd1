"""Filter and transforms over one record, compiled once per configuration version.

``compile_pipeline`` turns the settings into Programs (a bad expression raises
ConfigError naming where it is) and ``CompiledPipeline.process`` runs one decoded
record through them. The hot path is plain attribute access and a tuple return: it
runs for every record the worker receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from pipelines import expr
from pipelines.stages.config import ConfigError, PipelineConfig
from pipelines.stages.convert import ConversionError, convert


class RecordOutcome(Enum):
    PASSED = "passed"
    FILTERED = "filtered"
    FILTER_ERROR = "filter_error"
    TRANSFORM_ERROR = "transform_error"


@dataclass(frozen=True)
class CompiledTransform:
    program: expr.Program
    output_name: str
    output_type: str
    index: int


class CompiledPipeline:
    """A pipeline configuration with its expressions compiled; immutable once built."""

    def __init__(self, config: PipelineConfig, filter_program: expr.Program | None,
                 transforms: tuple[CompiledTransform, ...]):
        self.config = config
        self.filter_program = filter_program
        self.transforms = transforms

    def process(self, record: dict[str, Any]) -> tuple[RecordOutcome, Any]:
        """Run filter then transforms; the record is updated in place with each transform's output.

        Returns (PASSED, record), (FILTERED, None), (FILTER_ERROR, message) or
        (TRANSFORM_ERROR, reason for the dead letter).
        """
        if self.filter_program is not None:
            try:
                matched = self.filter_program.run(record)
            except expr.ExprError as exc:
                return RecordOutcome.FILTER_ERROR, f"filter failed: {exc}"
            if matched is not True:
                if matched is False:
                    return RecordOutcome.FILTERED, None
                return RecordOutcome.FILTER_ERROR, f"filter returned {type(matched).__name__}, not bool"
        for transform in self.transforms:
            try:
                value = transform.program.run(record)
                if type(value) is list or type(value) is dict:
                    expr.check_result_size(value)  # it is serialised with the record
            except expr.ExprError as exc:
                return RecordOutcome.TRANSFORM_ERROR, (
                    f"transform {transform.index} ({transform.output_name}) failed: {exc}")
            try:
                record[transform.output_name] = convert(value, transform.output_type)
            except ConversionError as exc:
                return RecordOutcome.TRANSFORM_ERROR, (
                    f"transform {transform.index} ({transform.output_name}) could not convert its result "
                    f"to {transform.output_type}: {exc}")
        return RecordOutcome.PASSED, record


def compile_pipeline(config: PipelineConfig) -> CompiledPipeline:
    """Compile every expression once; raise ConfigError listing each one that does not compile."""
    problems: list[str] = []
    filter_program = None
    if config.filter:
        try:
            filter_program = expr.compile(config.filter)
        except expr.ExprError as exc:
            problems.append(f"filter: {exc}")
    transforms = []
    for index, spec in enumerate(config.transforms, start=1):
        try:
            program = expr.compile(spec.expression)
        except expr.ExprError as exc:
            problems.append(f"transform {index} ({spec.output_name}): {exc}")
            continue
        transforms.append(CompiledTransform(program, spec.output_name, spec.output_type, index))
    if problems:
        raise ConfigError(f"pipeline of project {config.project_id} (version {config.version}) does not "
                          f"compile and stays stopped: {'; '.join(problems)}")
    return CompiledPipeline(config, filter_program, tuple(transforms))
