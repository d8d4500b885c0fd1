"""The contract every sink kind implements: validate, mask and restore its typed config."""

from __future__ import annotations

from typing import Any, ClassVar


class ConfigError(ValueError):
    """Invalid sink config; ``errors`` maps each config key to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))
        self.errors = errors


class SinkKind:
    name: ClassVar[str]
    label: ClassVar[str]

    @classmethod
    def clean_config(cls, config: Any, *, allow_private: bool, stored: dict | None = None) -> dict:
        """Return the normalised config or raise ConfigError; masked values keep ``stored`` secrets."""
        raise NotImplementedError

    @classmethod
    def mask_config(cls, config: dict) -> dict:
        raise NotImplementedError
