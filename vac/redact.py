"""Keeping secrets out of what vac prints.

Passwords live in typed fields (SecretStr, printed as stars by pydantic), but also where vac
cannot type them: librdkafka properties passed through (`sasl.password`, `ssl.key.pem`...)
and credentials written into an Elasticsearch URL (`https://user:pass@host:9200`). Everything
vac shows (`config show`, `doctor`, error messages) goes through these helpers; the CLI runs
every error message through `redact_text` as a last guard.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

REDACTED = "**********"
MIN_SECRET_LENGTH = 4
"""Shorter "secrets" would blank out ordinary words of a message; no real password is that short."""

# Parts of a property name that say its value is a secret or key material. A name is split on
# '.', '_' and '-' (`sasl.oauthbearer.client.secret`, `ssl.key.password`, `ssl_key`).
_SECRET_PARTS = {"password", "passwd", "pwd", "secret", "token", "credentials", "credential", "jaas", "apikey"}
# `ssl.key.pem` is the private key itself; `sasl.oauthbearer.config` holds client secrets.
_SECRET_NAMES = {"ssl.key.pem", "ssl_key", "ssl.key", "sasl.oauthbearer.config", "api_key", "api.key"}
# ... but where a file of key material is, is not a secret.
_PATH_SUFFIXES = (".location", "_location", ".file", "_file", ".path", "_path")


def secret_property(name: str) -> bool:
    """Whether the value of the property `name` must never be printed."""
    lowered = name.lower()
    if lowered in _SECRET_NAMES:
        return True
    parts = set(re.split(r"[._-]", lowered))
    if parts & _SECRET_PARTS:
        return True
    # Key material, not a path to it: `ssl.key.pem`, `ssl.keystore.password` are caught above.
    return ("key" in parts or "pem" in parts and "certificate" not in parts) and not lowered.endswith(_PATH_SUFFIXES)


def redact_properties(properties: dict[str, object]) -> dict[str, object]:
    return {name: REDACTED if secret_property(name) else value for name, value in properties.items()}


def redact_url(url: str) -> str:
    """`https://user:pass@host:9200` -> `https://user:**********@host:9200`; a user alone may
    be a token, so it goes too. Anything that is not such a URL is returned as it is."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, has_password, _ = userinfo.partition(":")
    safe = f"{user}:{REDACTED}" if has_password else REDACTED
    return urlunsplit(parts._replace(netloc=f"{safe}@{hostport}"))


# scheme://userinfo@ anywhere in free text (error messages of libraries quote URLs).
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/\s@]+)@")
# `sasl.password=...` or `"ssl.key.password": "..."`: a secret-named key and its value. An
# unquoted `key: ` is left alone: it is how vac names a config key before its problem.
_SECRET_ASSIGNMENT = re.compile(
    r"""(?P<key>(?P<name>[\w.-]+)\s*=\s*|(?P<q>["'])(?P<qname>[\w.-]+)(?P=q)\s*:\s*)"""
    r"""(?P<value>"[^"]*"|'[^']*'|[^\s,;)}\]]+)"""
)


def url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with URL credentials, the values of secret-named `key=value` pairs and any of
    the known `secrets` (values from the settings, however a library quoted them) replaced."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)

    def url(match: re.Match[str]) -> str:
        user, has_password, _ = match["userinfo"].partition(":")
        return f"{match['scheme']}{user + ':' + REDACTED if has_password else REDACTED}@"

    def assignment(match: re.Match[str]) -> str:
        if not secret_property(match["name"] or match["qname"]):
            return match[0]
        return f"{match['key']}{REDACTED}"

    return _SECRET_ASSIGNMENT.sub(assignment, _URL_CREDENTIALS.sub(url, text))
