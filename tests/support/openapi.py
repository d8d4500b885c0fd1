"""Reading the API's OpenAPI schema and its error answers in tests."""

from __future__ import annotations


def operations(schema: dict):
    """Every (METHOD, path) the schema documents."""
    for path, item in schema["paths"].items():
        for method in ("get", "post", "put", "patch", "delete"):
            if method in item:
                yield method.upper(), path


def names_the_problem(body) -> bool:
    """A JSON error body that says something: at least one non-empty message somewhere in it."""
    if isinstance(body, str):
        return bool(body.strip())
    if isinstance(body, list):
        return any(names_the_problem(item) for item in body)
    if isinstance(body, dict):
        return any(names_the_problem(value) for value in body.values())
    return False
