"""Connectors: one module per source family, each a streaming iterator of records."""

from corpuskit.connectors.base import Connector, Record, Skip, get_connector_class, known_kinds, register

__all__ = ["Connector", "Record", "Skip", "get_connector_class", "known_kinds", "register"]
