"""An Elasticsearch client from vac's settings, and a cluster probe.

The local integ-test distribution answers no `GET /`, so the version comes from the nodes
info API, which production clusters answer as well.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import elasticsearch
from elasticsearch import Elasticsearch

from vac.errors import SearchUnavailable
from vac.redact import redact_url
from vac.settings import ElasticsearchSettings

CLIENT_MAJOR: int = elasticsearch.__version__[0]


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
    return Elasticsearch(es.hosts, **options)


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
    try:
        health = client.cluster.health()
        nodes = client.nodes.info(metric="settings")["nodes"]
    except (elasticsearch.ConnectionError, elasticsearch.ConnectionTimeout) as exc:
        raise unreachable(exc, es.hosts) from None
    except elasticsearch.ApiError as exc:
        raise SearchUnavailable(
            f"Elasticsearch at {shown_hosts(es.hosts)} refused the health check: {exc.message}",
            hint="check the credentials in the elasticsearch section",
        ) from None
    finally:
        client.close()
    versions = sorted({node["version"] for node in nodes.values()})
    return SearchClusterInfo(
        cluster_name=health["cluster_name"],
        status=health["status"],
        version=", ".join(versions),
        nodes=health["number_of_nodes"],
    )
