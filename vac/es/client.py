"""An Elasticsearch client from vac's settings, and a cluster probe.

The local integ-test distribution answers no `GET /`, so the version comes from the nodes
info API, which production clusters answer as well.

The client's errors become vac errors here, at the one edge every request passes, not call
site by call site: a refusal nobody has a policy for (a 401 for a wrong password during
`vac index`) reaches the CLI as one `vac: error:` line instead of a traceback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import elasticsearch
from elastic_transport import ApiResponse
from elasticsearch import Elasticsearch

from vac.errors import PermissionDenied, SearchUnavailable, VacError
from vac.redact import redact_url
from vac.settings import ElasticsearchSettings

CLIENT_MAJOR: int = elasticsearch.__version__[0]


class SearchRefused(VacError, elasticsearch.ApiError):
    """Elasticsearch answered a request with an error status. It is still the client's own
    error class (`elasticsearch.NotFoundError`...; status and body intact), so callers with a
    policy for a status (bulk retries, query errors) catch it as before."""

    def __init__(self, original: elasticsearch.ApiError, message: str, hint: str | None) -> None:
        # Not VacError.__init__: the client's ApiError needs its response metadata and body.
        elasticsearch.ApiError.__init__(self, message, original.meta, original.body, original.errors)
        self.hint = hint


class SearchDenied(PermissionDenied, SearchRefused):
    """401 or 403: the credentials are wrong, or lack a privilege."""


class SearchUnreachable(SearchUnavailable, elasticsearch.ConnectionError):
    """No answer (refused connection, timeout); still the client's error class, for retries."""

    def __init__(self, original: elasticsearch.TransportError, message: str, hint: str | None) -> None:
        elasticsearch.ConnectionError.__init__(self, message, original.errors)
        self.hint = hint


class SearchTransportFailed(SearchUnavailable, elasticsearch.TransportError):
    """The client failed on the way (an answer that is not JSON, a failed sniff), not
    Elasticsearch; still the client's class. Not a ConnectionError: nothing retries it."""

    def __init__(self, original: elasticsearch.TransportError, message: str) -> None:
        elasticsearch.TransportError.__init__(self, message, original.errors)
        self.hint = "check that elasticsearch.hosts names Elasticsearch itself, not a proxy's error page"


_WRAPPED: dict[tuple[type[Exception], type[Exception]], type[Exception]] = {}


def _wrapped_class(vac_class: type[Exception], client_class: type[Exception]) -> type[Exception]:
    """A class that is both: `except VacError` and `except elasticsearch.NotFoundError` match."""
    key = (vac_class, client_class)
    if key not in _WRAPPED:
        _WRAPPED[key] = type(client_class.__name__, key, {"__module__": __name__})
    return _WRAPPED[key]


# Elasticsearch quotes the values it refuses in brackets (`id [xxxx...] is too long`): a long
# quote is shortened in the middle, so that what it says about the value stays in the reason.
_QUOTED = re.compile(r"\[([^\]]{80,})\]")


def describe_api_error(exc: elasticsearch.ApiError) -> str:
    """`type: reason` of Elasticsearch's answer (long quoted values shortened, the whole cut
    to 300 characters), else the client's message."""
    error = exc.body.get("error") if isinstance(exc.body, dict) else None
    if isinstance(error, dict):
        reason = _QUOTED.sub(lambda quoted: f"[{quoted[1][:40]}...{quoted[1][-8:]}]", str(error.get("reason", "")))
        return f"{error.get('type', exc.message)}: {reason[:300]}"
    return str(exc.message)


class VacElasticsearch(Elasticsearch):
    """The client `make_client` builds: every request goes through `perform_request` (the
    namespaced APIs, `indices.*`, `cat.*`, call the parent's), so its errors are wrapped here."""

    hosts_for_errors: list[str] | None = None

    def perform_request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any | None = None,
        endpoint_id: str | None = None,
        path_parts: Mapping[str, Any] | None = None,
    ) -> ApiResponse[Any]:
        try:
            return super().perform_request(
                method, path, params=params, headers=headers, body=body, endpoint_id=endpoint_id, path_parts=path_parts
            )
        except VacError:
            raise
        except elasticsearch.ApiError as exc:
            status = exc.meta.status
            message = f"Elasticsearch answered HTTP {status} to {method} {path}: {describe_api_error(exc)}"
            if status == 401:
                vac_class: type[SearchRefused] = SearchDenied
                hint: str | None = "check elasticsearch.username and password (or api_key) in the config"
            elif status == 403:
                vac_class, hint = SearchDenied, "the Elasticsearch user lacks a privilege this needs: ask for it"
            else:
                vac_class, hint = SearchRefused, None
            wrapped = cast(type[SearchRefused], _wrapped_class(vac_class, type(exc)))
            raise wrapped(exc, message, hint) from exc
        except (elasticsearch.ConnectionError, elasticsearch.ConnectionTimeout) as exc:
            reason = unreachable(exc, getattr(self, "hosts_for_errors", None))
            unreachable_class = cast(type[SearchUnreachable], _wrapped_class(SearchUnreachable, type(exc)))
            raise unreachable_class(exc, reason.message, reason.hint) from exc
        except elasticsearch.TransportError as exc:  # an answer the client could not read (not JSON...)
            failed_class = cast(type[SearchTransportFailed], _wrapped_class(SearchTransportFailed, type(exc)))
            raise failed_class(exc, f"Elasticsearch's answer to {method} {path} could not be read: {exc}") from exc


def make_client(es: ElasticsearchSettings, timeout_s: float | None = None) -> Elasticsearch:
    # vac reports an unreachable cluster itself, once; the transport would warn per attempt.
    logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    options: dict[str, Any] = {
        "request_timeout": es.request_timeout_s if timeout_s is None else timeout_s,
        "verify_certs": es.verify_certs,
        "retry_on_timeout": False,
        "max_retries": 0,
    }
    if es.ca_file is not None:
        options["ca_certs"] = str(es.ca_file)
    if es.api_key is not None:
        options["api_key"] = es.api_key.get_secret_value()
    elif es.username is not None and es.password is not None:
        options["basic_auth"] = (es.username, es.password.get_secret_value())
    client = VacElasticsearch(es.hosts, **options)
    client.hosts_for_errors = es.hosts
    return client


def shown_hosts(hosts: list[str]) -> str:
    """The hosts as vac prints them: without the passwords some write into the URL."""
    return ", ".join(redact_url(host) for host in hosts)


def unreachable(exc: Exception, hosts: list[str] | None = None) -> SearchUnavailable:
    """The one way vac says that Elasticsearch did not answer."""
    where = f" at {shown_hosts(hosts)}" if hosts else ""
    return SearchUnavailable(
        f"Elasticsearch{where} did not answer ({type(exc).__name__})",
        hint="check elasticsearch.hosts and that it runs (`vac local up` starts the local stack)",
    )


@dataclass(frozen=True)
class SearchClusterInfo:
    cluster_name: str
    status: str
    """green, yellow or red."""
    version: str
    nodes: int


def probe_cluster(es: ElasticsearchSettings, timeout_s: float | None = None) -> SearchClusterInfo:
    """Cluster health and version; raise SearchUnavailable if Elasticsearch does not answer."""
    client = make_client(es, timeout_s)
    try:  # what fails is already a VacError (VacElasticsearch): a 401 says so, exit 1
        health = client.cluster.health()
        nodes = client.nodes.info(metric="settings")["nodes"]
    finally:
        client.close()
    versions = sorted({node["version"] for node in nodes.values()})
    return SearchClusterInfo(
        cluster_name=health["cluster_name"],
        status=health["status"],
        version=", ".join(versions),
        nodes=health["number_of_nodes"],
    )
