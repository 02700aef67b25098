"""Process definitions: the YAML files that describe a process, and what reads them."""

from pathlib import Path

from .loader import LoadedDefinition, load_definition, parse_definition
from .model import Definition, FORMAT_VERSION

DEFAULT_DEFINITION = Path(__file__).with_name("samverkan_2027_2030.yaml")

__all__ = ["DEFAULT_DEFINITION", "Definition", "FORMAT_VERSION", "LoadedDefinition", "load_definition", "parse_definition"]
