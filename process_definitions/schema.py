"""The JSON Schema of the definition format, published by `samverkan schema`."""

from __future__ import annotations

from .model import FORMAT_VERSION, Definition


def definition_json_schema() -> dict:
    schema = Definition.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://samverkan.example.org/schema/{FORMAT_VERSION.replace('/', '-')}.json",
        **schema,
        "title": "Samverkan process definition",
    }
