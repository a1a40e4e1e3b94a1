"""Client-side helper: send simple-salesforce's login calls to the sandbox.

simple-salesforce hard-codes `https://{domain}.salesforce.com` for every login flow
(docs/crm-api-facts.md §1.1), so a client logging in against the sandbox needs a `requests` session
whose adapter re-targets those hosts at the emulator. After login the token response's
`instance_url` already points at the sandbox, so nothing else needs rewriting. Test and demo
code only: production code never mounts this.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

LOGIN_HOSTS = ("https://login.salesforce.com", "https://test.salesforce.com")


class RouteToSandbox(HTTPAdapter):
    """Rewrites scheme, host and port of every request to `base_url`, keeping path and query."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        target = urlsplit(base_url)
        self._scheme, self._netloc = target.scheme, target.netloc

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """Send `request` to the sandbox instead of its original host."""
        parts = urlsplit(request.url or "")
        request.url = urlunsplit((self._scheme, self._netloc, parts.path, parts.query, ""))
        return super().send(request, **kwargs)


def sandbox_login_session(
    base_url: str, ca_path: Path | str | None, extra_hosts: tuple[str, ...] = ()
) -> requests.Session:
    """A session for `Salesforce(username=…, password=…, consumer_key=…, session=…)` logins.

    `trust_env = False` so a `REQUESTS_CA_BUNDLE` in the environment cannot override the
    sandbox CA (docs/crm-api-facts.md §1.2 D). `extra_hosts` adds My Domain hosts, e.g.
    `"https://acme.my.salesforce.com"` for the client-credentials flow.
    """
    session = requests.Session()
    session.trust_env = False
    if ca_path is not None:
        session.verify = str(ca_path)
    for host in (*LOGIN_HOSTS, *extra_hosts):
        session.mount(host, RouteToSandbox(base_url))
    return session
