"""Login: the OAuth 2.0 token endpoint (every grant type simple-salesforce and our adapter use),
token revocation and the SOAP `login` call (docs/crm-api-facts.md §1.1, §2.1).

`instance_url` points back at this emulator (the address the request arrived on), so after a
login simple-salesforce talks to the sandbox without further configuration.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import xml.etree.ElementTree as ET
from typing import Any
from xml.sax.saxutils import escape

import jwt
from fastapi import APIRouter, Request
from starlette.responses import Response

from sandbox.salesforce.emulator import SalesforceEmulator
from sandbox.salesforce.responses import json_response
from sandbox.salesforce.routes.common import add, read_form
from sandbox.salesforce.sessions import Session

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_SOAP_NS = "urn:partner.soap.sforce.com"


def instance_url(request: Request) -> str:
    """scheme://host:port of the socket the request came in on (not the Host header, which
    names login.salesforce.com when a test routes the login host here)."""
    server = request.scope.get("server") or ("127.0.0.1", 443)
    scheme = request.scope.get("scheme", "https")
    return f"{scheme}://{server[0]}:{server[1]}"


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": description}, status)


class _TokenEndpoint:
    def __init__(self, emu: SalesforceEmulator) -> None:
        self.emu = emu
        self.config = emu.config

    async def __call__(self, request: Request) -> Response:
        values = await read_form(request)
        client_id, client_secret = self._client(request, values)
        grant = values.get("grant_type", "")
        if grant == "password":
            return self._password(request, values, client_id, client_secret)
        if grant == "client_credentials":
            if not self._client_ok(client_id, client_secret):
                return _oauth_error("invalid_client", "invalid client credentials")
            return self._grant(request, self.emu.integration_user_id)
        if grant == "refresh_token":
            return self._refresh(request, values, client_id)
        if grant == JWT_GRANT:
            return self._jwt(request, values.get("assertion", ""))
        return _oauth_error("unsupported_grant_type", "grant type not supported")

    def _client(self, request: Request, values: dict[str, str]) -> tuple[str, str]:
        # Client credentials come in the form or as HTTP Basic (the usual client_credentials way).
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:]).decode()
            except (ValueError, UnicodeDecodeError):
                decoded = ""
            user, _, password = decoded.partition(":")
            return user, password
        return values.get("client_id", ""), values.get("client_secret", "")

    def _client_ok(self, client_id: str, client_secret: str) -> bool:
        return hmac.compare_digest(client_id, self.config.client_id) and hmac.compare_digest(
            client_secret, self.config.client_secret.get_secret_value()
        )

    def _password(
        self, request: Request, values: dict[str, str], client_id: str, client_secret: str
    ) -> Response:
        if client_id != self.config.client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if not self._client_ok(client_id, client_secret):
            return _oauth_error("invalid_client", "invalid client credentials")
        if not _user_ok(self.emu, values.get("username", ""), values.get("password", "")):
            return _oauth_error("invalid_grant", "authentication failure")
        return self._grant(request, self.emu.integration_user_id)

    def _refresh(self, request: Request, values: dict[str, str], client_id: str) -> Response:
        if client_id != self.config.client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        user_id = self.emu.sessions.user_for_refresh_token(values.get("refresh_token", ""))
        if user_id is None:
            return _oauth_error("invalid_grant", "expired access/refresh token")
        return self._grant(request, user_id)

    def _jwt(self, request: Request, assertion: str) -> Response:
        key = self.config.jwt_public_key_pem
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                key=key or "",
                algorithms=["RS256"],
                audience=["https://login.salesforce.com", "https://test.salesforce.com"],
                # Without a configured key only the claims are checked (PyJWT would otherwise
                # skip exp/aud along with the signature).
                options={
                    "verify_signature": key is not None,
                    "verify_exp": True,
                    "verify_aud": True,
                    "require": ["exp", "iss", "sub", "aud"],
                },
                leeway=5,
            )
        except jwt.ExpiredSignatureError:
            return _oauth_error("invalid_grant", "expired authorization code")
        except jwt.PyJWTError:
            return _oauth_error("invalid_grant", "invalid assertion")
        if claims.get("iss") != self.config.client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if claims.get("sub") != self.config.username:
            return _oauth_error("invalid_grant", "user hasn't approved this consumer")
        return self._grant(request, self.emu.integration_user_id)

    def _grant(self, request: Request, user_id: str) -> Response:
        session = self.emu.sessions.issue(user_id)
        return json_response(token_body(self.emu, session, instance_url(request)))


def token_body(emu: SalesforceEmulator, session: Session, base: str) -> dict[str, Any]:
    """A token response: no `expires_in`, like the real one."""
    issued_at = str(int(session.issued_at.timestamp() * 1000))
    identity = f"{base}/id/{emu.org_id}/{session.user_id}"
    signature = hmac.new(
        emu.config.client_secret.get_secret_value().encode(),
        (identity + issued_at).encode(),
        hashlib.sha256,
    ).digest()
    return {
        "access_token": session.token,
        "instance_url": base,
        "id": identity,
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": base64.b64encode(signature).decode(),
        "scope": "api refresh_token",
    }


def _user_ok(emu: SalesforceEmulator, username: str, password: str) -> bool:
    config = emu.config
    # The password may carry the security token appended to it, as the real login expects.
    expected = config.password.get_secret_value()
    with_token = expected + config.security_token.get_secret_value()
    return hmac.compare_digest(username, config.username) and (
        hmac.compare_digest(password, with_token) or hmac.compare_digest(password, expected)
    )


def _soap_fault(code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com">'
        f"<soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode>"
        f"<faultstring>{code}: {message}</faultstring><detail><sf:LoginFault>"
        f"<sf:exceptionCode>{code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{message}</sf:exceptionMessage>"
        "</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response(body, status_code=500, media_type="text/xml; charset=utf-8")


def _soap_value(root: ET.Element, name: str) -> str:
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == name:
            return element.text or ""
    return ""


def build_auth_router(emu: SalesforceEmulator) -> APIRouter:
    """Token, revoke and SOAP login routes."""
    router = APIRouter()
    add(router, "/services/oauth2/token", _TokenEndpoint(emu), ["POST"])

    async def revoke(request: Request) -> Response:
        form = await read_form(request)
        token = form.get("token") or request.query_params.get("token") or ""
        if not emu.sessions.revoke(token):
            return _oauth_error("unsupported_token_type", "this token type is not supported")
        return Response(status_code=200)

    add(router, "/services/oauth2/revoke", revoke, ["POST"])

    async def soap_login(request: Request, version: str) -> Response:
        raw = await request.body()
        try:
            root = ET.fromstring(raw)  # noqa: S314 - expat does not expand external entities
        except ET.ParseError:
            return _soap_fault("INVALID_LOGIN", "Invalid request: malformed XML")
        if not _user_ok(emu, _soap_value(root, "username"), _soap_value(root, "password")):
            return _soap_fault(
                "INVALID_LOGIN", "Invalid username, password, security token; or user locked out."
            )
        session = emu.sessions.issue(emu.integration_user_id)
        base = instance_url(request)
        # simple-salesforce reads the un-prefixed sessionId and serverUrl elements.
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            f'xmlns="{_SOAP_NS}"><soapenv:Body><loginResponse><result>'
            f"<metadataServerUrl>{base}/services/Soap/m/{version}/{emu.org_id}</metadataServerUrl>"
            "<passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
            f"<serverUrl>{base}/services/Soap/u/{version}/{emu.org_id}</serverUrl>"
            f"<sessionId>{session.token}</sessionId><userId>{session.user_id}</userId>"
            f"<userInfo><organizationId>{emu.org_id}</organizationId>"
            f"<userName>{escape(emu.config.username)}</userName></userInfo>"
            "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )
        return Response(body, media_type="text/xml; charset=utf-8")

    add(router, "/services/Soap/u/{version}", soap_login, ["POST"])
    return router
