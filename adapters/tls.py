"""Telling a TLS failure apart from a network one, for both CRMs' transports.

requests wraps a failed certificate check in `requests.exceptions.SSLError` (a ConnectionError)
and a missing CA bundle file in a bare `OSError` ("Could not find a suitable TLS CA certificate
bundle"); urllib3 (under the HubSpot SDK) raises `urllib3.exceptions.SSLError` or a
`MaxRetryError` whose `reason` is one; the standard library's `ssl.SSLCertVerificationError`
sits somewhere in the chain. Either way no retry can fix it — the CA bundle or the server's
certificate must change — so it becomes `CrmTlsError` (a config error) naming host and reason,
instead of "cannot reach …" after a minute of back-off.
"""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from service.ports import CrmTlsError

_MISSING_BUNDLE = "Could not find a suitable TLS CA certificate bundle"
_SSL_ERRORS = (ssl.SSLError, requests.exceptions.SSLError, urllib3.exceptions.SSLError)


def _chain(error: BaseException) -> list[BaseException]:
    """`error` and every exception it wraps (cause, context, urllib3's `reason`, args)."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [error]
    while todo and len(seen) < 20:
        current = todo.pop()
        if any(current is s for s in seen):
            continue
        seen.append(current)
        wrapped = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        wrapped += [a for a in current.args if isinstance(a, BaseException)]
        todo.extend(w for w in wrapped if isinstance(w, BaseException))
    return seen


def tls_reason(error: BaseException) -> str | None:
    """Why TLS failed, when `error` is (or wraps) a TLS failure; None otherwise."""
    chain = _chain(error)
    for item in chain:
        if isinstance(item, ssl.SSLCertVerificationError):
            return str(item.verify_message or item.reason or "certificate verify failed")
    for item in chain:
        if isinstance(item, OSError) and _MISSING_BUNDLE in str(item):
            return "CA bundle not found (" + str(item).split("invalid path:")[-1].strip() + ")"
        if isinstance(item, FileNotFoundError) and not isinstance(item, _SSL_ERRORS):
            # ssl.SSLContext.load_verify_locations on a missing CA file (urllib3's path).
            return f"CA bundle not found ({item.filename or item})"
    for item in chain:
        if isinstance(item, _SSL_ERRORS):
            text = str(item)
            if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
                return "certificate verify failed"
            return "TLS handshake failed"
    return None


def tls_error(error: BaseException, base_url: str, connection: str) -> CrmTlsError | None:
    """`CrmTlsError` for a TLS failure talking to `base_url`; None for any other error."""
    reason = tls_reason(error)
    if reason is None:
        return None
    host = urlsplit(base_url).hostname or base_url
    return CrmTlsError(
        f"TLS certificate could not be verified for {host}: {reason}. Check the connection's "
        "CA_BUNDLE (a readable PEM file trusting the server's certificate).",
        connection=connection,
    )
