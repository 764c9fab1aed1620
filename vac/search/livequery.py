"""The dashboard's live log filter: the KQL of `vac query` (vac.search.kql), evaluated on the
records in memory as Elasticsearch would match them (the live stream has no Elasticsearch
behind it). Lucene (`lucene:...`) runs only in `vac query`."""

from __future__ import annotations

from datetime import tzinfo

from vac.errors import UsageError
from vac.search import kql
from vac.search.kql import Predicate

__all__ = ["Predicate", "compile_query"]


def compile_query(query: str, local: tzinfo | None = None) -> Predicate:
    """A predicate for the KQL text `query`; raises UsageError (one line) if it is not KQL."""
    lucene, text = kql.split_language(query)
    if lucene:
        raise UsageError("the live filter speaks KQL only; Lucene queries run in `vac query`", hint=kql.QUERY_HINT)
    return kql.to_predicate(kql.parse(text), local=local)
