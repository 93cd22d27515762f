"""A sandbox OpenID Connect identity provider on 127.0.0.1, for development and the tests.

`leasehub idp-sandbox [--port 8091]` serves two realms, each an issuer of its own:
`http://127.0.0.1:PORT/bank` (the bank's online banking: customers) and `.../staff` (the
lessor's staff directory: people in groups). Per realm:

- GET /{realm}/.well-known/openid-configuration: the discovery document;
- GET /{realm}/jwks: the public keys (RS256, with a `kid`; generated at start);
- GET /{realm}/authorize: the authorization code flow with PKCE (S256 only); without `login`
  a page lists the demo identities to pick (the `login_hint`'s first), with `login=SUBJECT`
  it sends the browser back to `redirect_uri` with `code` and the `state`; the `nonce` goes
  into the ID token;
- POST /{realm}/token: a code (usable once, for 60 s) for an ID token and an access token; the
  client authenticates with its secret (HTTP Basic or in the form) and the PKCE verifier;
- GET /{realm}/logout: the end-session endpoint: ends the sandbox session and sends the
  back-channel logout, then back to `post_logout_redirect_uri`;
- POST /{realm}/sandbox/backchannel-logout (form or JSON `subject`, optional `sid`): sends
  the relying party (`{hub_url}/sso/{realm}/backchannel-logout`) a signed logout token for
  that person (`sub`: all their sessions) or, with `sid`, for that one sign-in;
- POST /{realm}/sandbox/switches (form or JSON; GET shows them): what the next tokens get
  wrong, until switched again (each POST sets every switch, unnamed ones back to normal):
  `signature` (signed with a key not published, under the published kid), `audience`,
  `issuer`, `expired`, `nonce`, `unverified_email` (`email_verified` false),
  `multi_audience` (`aud` names another client too, without `azp`), and `mfa` (false: `amr`
  is ["pwd"] instead of ["pwd", "mfa"]) and `acr` (a value to put in `acr`);
- POST /{realm}/sandbox/rotate: a new key with a new kid; the old one leaves the JWKS;
- POST /{realm}/sandbox/identities/{subject} (JSON `{"groups": [...]}`): a person's groups.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import orjson
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from hub.settings import PLACEHOLDER_SECRET

logger = logging.getLogger("leasehub.idp_sandbox")
CODE_SECONDS = 60
TOKEN_SECONDS = 300
LOGOUT_TIMEOUT = 5.0
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# The placeholder hub/settings.py refuses as a client secret outside development and tests.
DEFAULT_CLIENT_SECRET = PLACEHOLDER_SECRET
BOOLEAN_SWITCHES = (
    "signature",
    "audience",
    "issuer",
    "expired",
    "nonce",
    "unverified_email",
    "multi_audience",
)
# The bank customer `leasehub run` links to the demo main account (anna.kowalska@…).
DEMO_LINKED_SUBJECT = "ing-7001"


@dataclass
class Identity:
    subject: str
    email: str
    given_name: str
    family_name: str
    groups: list[str] = field(default_factory=list)
    note: str = ""  # what the demo person is for, on the page


@dataclass
class Switches:
    signature: bool = False
    audience: bool = False
    issuer: bool = False
    expired: bool = False
    nonce: bool = False
    unverified_email: bool = False
    multi_audience: bool = False  # `aud` lists another client too, and no `azp` is sent
    mfa: bool = True
    acr: str | None = None

    @classmethod
    def of(cls, given: dict[str, Any]) -> Switches:
        flags = {name: _truthy(given.get(name)) for name in BOOLEAN_SWITCHES}
        mfa = _truthy(given["mfa"]) if "mfa" in given else True
        return cls(**flags, mfa=mfa, acr=str(given["acr"]) if given.get("acr") else None)


@dataclass
class Grant:
    subject: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    sid: str
    expires: float


def _new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig"})


@dataclass
class Realm:
    name: str
    client_id: str
    client_secret: str
    identities: dict[str, Identity]
    key: RSAKey = field(default_factory=_new_key)
    switches: Switches = field(default_factory=Switches)
    grants: dict[str, Grant] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)  # sid → subject
    logouts: list[tuple[str, int]] = field(default_factory=list)  # (subject, the hub's answer)


def demo_realms(client_secret: str = DEFAULT_CLIENT_SECRET) -> dict[str, Realm]:
    """The bank's customers (one linked in the hub to the demo main account, one nobody's)
    and the lessor's staff: one person per staff role's group, and one in no group."""
    bank = {
        DEMO_LINKED_SUBJECT: Identity(
            DEMO_LINKED_SUBJECT,
            "anna.kowalska@demo.leasehub.pl",
            "Anna",
            "Kowalska",
            note="linked to the demo main account",
        ),
        "ing-7002": Identity(
            "ing-7002", "piotr.zielony@example.pl", "Piotr", "Zielony", note="linked to nobody"
        ),
    }
    staff = {
        person.subject: person
        for person in (
            Identity("emp-100", "staff@demo.leasehub.pl", "Ewa", "Zielińska", ["leasehub-admins"]),
            Identity(
                "emp-101", "obsluga@demo.leasehub.pl", "Marek", "Wójcik", ["leasehub-service"]
            ),
            Identity("emp-102", "opony@demo.leasehub.pl", "Piotr", "Lis", ["leasehub-tyres"]),
            Identity(
                "emp-103", "finanse@demo.leasehub.pl", "Joanna", "Mazur", ["leasehub-finance"]
            ),
            Identity("emp-104", "audyt@demo.leasehub.pl", "Tomasz", "Krawczyk", ["leasehub-audit"]),
            Identity("emp-105", "karol.nowy@demo.leasehub.pl", "Karol", "Nowy", note="no group"),
        )
    }
    return {
        "bank": Realm("bank", "leasehub-bank", client_secret, bank),
        "staff": Realm("staff", "leasehub-staff", client_secret, staff),
    }


# The group → role map the hub's `staff` provider needs for the realm above.
DEMO_STAFF_ROLES = {
    "leasehub-admins": "ADMIN",
    "leasehub-service": "CUSTOMER_SERVICE",
    "leasehub-tyres": "TYRE_DESK",
    "leasehub-finance": "FINANCE",
    "leasehub-audit": "AUDITOR",
}


def demo_providers(
    base_url: str, client_secret: str = DEFAULT_CLIENT_SECRET
) -> list[dict[str, Any]]:
    """LEASEHUB_SSO_PROVIDERS for a sandbox at `base_url`: `bank` (clients), `staff`."""
    realms = demo_realms(client_secret)
    return [
        {
            "name": "bank",
            "issuer": f"{base_url}/bank",
            "client_id": realms["bank"].client_id,
            "client_secret": client_secret,
            "audience": "clients",
        },
        {
            "name": "staff",
            "issuer": f"{base_url}/staff",
            "client_id": realms["staff"].client_id,
            "client_secret": client_secret,
            "audience": "staff",
            "group_claim": "groups",
            "roles": DEMO_STAFF_ROLES,
        },
    ]


class IdpSandbox:
    def __init__(self, realms: dict[str, Realm] | None = None, hub_url: str | None = None) -> None:
        self.realms = realms or demo_realms()
        # Where back-channel logouts go: `{hub_url}/sso/{realm}/backchannel-logout`.
        self.hub_url = hub_url

    # ---- helpers ------------------------------------------------------------------------------

    def _realm(self, request: Request) -> Realm | None:
        return self.realms.get(request.path_params["realm"])

    @staticmethod
    def _issuer(request: Request, realm: Realm) -> str:
        return f"{str(request.base_url).rstrip('/')}/{realm.name}"

    def _sign(self, realm: Realm, claims: dict[str, Any]) -> str:
        """Signed with the published key, or under its kid with another when switched."""
        key = _new_key() if realm.switches.signature else realm.key
        header = {"alg": "RS256", "kid": realm.key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, key)

    def _common(self, request: Request, realm: Realm, subject: str) -> dict[str, Any]:
        switches, now = realm.switches, int(time.time())
        issued = now - 7200 if switches.expired else now
        audience: str | list[str] = "someone-else" if switches.audience else realm.client_id
        if switches.multi_audience:
            audience = [realm.client_id, "someone-else"]
        return {
            "iss": "https://wrong.example" if switches.issuer else self._issuer(request, realm),
            "aud": audience,
            "sub": subject,
            "iat": issued,
            "exp": issued + TOKEN_SECONDS,
            "jti": secrets.token_hex(12),
        }

    def id_token(self, request: Request, realm: Realm, grant: Grant) -> str:
        person = realm.identities[grant.subject]
        switches = realm.switches
        claims = self._common(request, realm, grant.subject) | {
            "auth_time": int(time.time()),
            "sid": grant.sid,
            "amr": ["pwd", "mfa"] if switches.mfa else ["pwd"],
            "email": person.email,
            "email_verified": not switches.unverified_email,
            "given_name": person.given_name,
            "family_name": person.family_name,
            "name": f"{person.given_name} {person.family_name}",
            "groups": list(person.groups),
        }
        if grant.nonce is not None:
            claims["nonce"] = "forged-nonce" if switches.nonce else grant.nonce
        if switches.acr:
            claims["acr"] = switches.acr
        return self._sign(realm, claims)

    # ---- the provider ------------------------------------------------------------------------

    async def discovery(self, request: Request) -> Response:
        realm = self._realm(request)
        if realm is None:
            return _error(404, "not_found")
        issuer = self._issuer(request, realm)
        return JSONResponse(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "jwks_uri": f"{issuer}/jwks",
                "end_session_endpoint": f"{issuer}/logout",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "scopes_supported": ["openid", "email", "profile"],
                "claims_supported": ["sub", "email", "name", "groups", "amr", "acr", "sid"],
                "backchannel_logout_supported": True,
                "backchannel_logout_session_supported": True,
            }
        )

    async def jwks(self, request: Request) -> Response:
        realm = self._realm(request)
        if realm is None:
            return _error(404, "not_found")
        return JSONResponse({"keys": [realm.key.as_dict(private=False)]})

    async def authorize(self, request: Request) -> Response:
        realm = self._realm(request)
        if realm is None:
            return _error(404, "not_found")
        query = dict(request.query_params)
        problem = _authorize_problem(realm, query)
        if problem is not None:
            return HTMLResponse(f"<p>{html.escape(problem)}</p>", status_code=400)
        person = realm.identities.get(query.get("login", ""))
        if person is None:
            return HTMLResponse(_picker(realm, query))
        code, sid = secrets.token_urlsafe(24), secrets.token_urlsafe(12)
        realm.grants[code] = Grant(
            subject=person.subject,
            redirect_uri=query["redirect_uri"],
            challenge=query["code_challenge"],
            nonce=query.get("nonce"),
            sid=sid,
            expires=time.monotonic() + CODE_SECONDS,
        )
        realm.sessions[sid] = person.subject
        back = {"code": code, "state": query.get("state", "")}
        return RedirectResponse(_with_query(query["redirect_uri"], back), status_code=302)

    async def token(self, request: Request) -> Response:
        realm = self._realm(request)
        if realm is None:
            return _error(404, "not_found")
        form = await _form(request)
        if not _client_authenticated(realm, request, form):
            return _error(401, "invalid_client")
        if form.get("grant_type") != "authorization_code":
            return _error(400, "unsupported_grant_type")
        grant = realm.grants.pop(form.get("code", ""), None)  # once, whatever follows
        if grant is None or grant.expires < time.monotonic():
            return _error(400, "invalid_grant")
        if grant.redirect_uri != form.get("redirect_uri"):
            return _error(400, "invalid_grant")
        if not hmac.compare_digest(_s256(form.get("code_verifier", "")), grant.challenge):
            return _error(400, "invalid_grant")
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(32),
                "token_type": "Bearer",
                "expires_in": TOKEN_SECONDS,
                "id_token": self.id_token(request, realm, grant),
            },
            headers={"Cache-Control": "no-store"},
        )

    async def end_session(self, request: Request) -> Response:
        """Front-channel sign-out: the sandbox forgets the session and tells the hub."""
        realm = self._realm(request)
        if realm is None:
            return _error(404, "not_found")
        query = dict(request.query_params)
        subject = _hinted_subject(realm, query.get("id_token_hint", ""))
        if subject is not None:
            await self.send_logout(request, realm, subject)
        back = query.get("post_logout_redirect_uri")
        if back:
            return RedirectResponse(_with_query(back, {"state": query.get("state", "")}), 302)
        return HTMLResponse("<p>Signed out.</p>")

    # ---- back-channel logout ------------------------------------------------------------------

    def logout_token(
        self, request: Request, realm: Realm, subject: str, sid: str | None = None
    ) -> str:
        claims = self._common(request, realm, subject) | {"events": {BACKCHANNEL_EVENT: {}}}
        if sid is not None:
            claims["sid"] = sid
        return self._sign(realm, claims)

    async def send_logout(
        self, request: Request, realm: Realm, subject: str, sid: str | None = None
    ) -> int:
        """POSTs the logout token (the person's, or one sign-in's) to the hub; the hub's HTTP
        status (0: not reached)."""
        if self.hub_url is None:
            return 0
        token = self.logout_token(request, realm, subject, sid)
        for ended in [s for s, whose in realm.sessions.items() if whose == subject]:
            if sid is None or ended == sid:
                del realm.sessions[ended]
        url = f"{self.hub_url}/sso/{realm.name}/backchannel-logout"
        try:
            async with httpx.AsyncClient(timeout=LOGOUT_TIMEOUT) as http:
                answer = (await http.post(url, data={"logout_token": token})).status_code
        except httpx.HTTPError:
            logger.warning("back-channel logout to %s failed", url)
            answer = 0
        realm.logouts.append((subject, answer))
        return answer

    async def backchannel(self, request: Request) -> Response:
        realm = self._realm(request)
        if realm is None:
            return _error(404, "not_found")
        fields = await _fields(request)
        subject, sid = fields.get("subject", ""), fields.get("sid")
        if subject not in realm.identities:
            return _error(404, "unknown_subject")
        sent = await self.send_logout(request, realm, subject, str(sid) if sid else None)
        return JSONResponse({"hub_status": sent})

    # ---- switches ------------------------------------------------------------------------------

    async def switch(self, request: Request) -> Response:
        realm = self._realm(request)
        if realm is None:
            return _error(404, "not_found")
        if request.method == "POST":
            realm.switches = Switches.of(await _fields(request))
        return JSONResponse(realm.switches.__dict__)

    async def rotate(self, request: Request) -> Response:
        realm = self._realm(request)
        if realm is None:
            return _error(404, "not_found")
        realm.key = _new_key()  # the old key leaves the JWKS with it
        return JSONResponse({"kid": realm.key.kid})

    async def identity(self, request: Request) -> Response:
        realm = self._realm(request)
        person = realm.identities.get(request.path_params["subject"]) if realm else None
        if person is None:
            return _error(404, "unknown_subject")
        groups = (await _fields(request)).get("groups", [])
        person.groups = [str(group) for group in groups] if isinstance(groups, list) else []
        return JSONResponse({"subject": person.subject, "groups": person.groups})

    def app(self) -> Starlette:
        prefix = "/{realm}"
        return Starlette(
            routes=[
                Route(f"{prefix}/.well-known/openid-configuration", self.discovery),
                Route(f"{prefix}/jwks", self.jwks),
                Route(f"{prefix}/authorize", self.authorize),
                Route(f"{prefix}/token", self.token, methods=["POST"]),
                Route(f"{prefix}/logout", self.end_session),
                Route(f"{prefix}/sandbox/switches", self.switch, methods=["GET", "POST"]),
                Route(f"{prefix}/sandbox/rotate", self.rotate, methods=["POST"]),
                Route(f"{prefix}/sandbox/backchannel-logout", self.backchannel, methods=["POST"]),
                Route(f"{prefix}/sandbox/identities/{{subject}}", self.identity, methods=["POST"]),
            ]
        )


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in {"1", "true", "on", "yes"}


def _error(status: int, code: str) -> Response:
    return JSONResponse({"error": code}, status_code=status)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _with_query(url: str, values: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(values)}"


def _authorize_problem(realm: Realm, query: dict[str, str]) -> str | None:
    if query.get("client_id") != realm.client_id:
        return "unknown client_id"
    if query.get("response_type") != "code":
        return "response_type must be code"
    if not query.get("redirect_uri", "").startswith(("http://", "https://")):
        return "redirect_uri missing"
    if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
        return "PKCE (S256) is required"
    if "openid" not in query.get("scope", "").split():
        return "scope must include openid"
    return None


def _picker(realm: Realm, query: dict[str, str]) -> str:
    rows = []
    hint = query.get("login_hint")
    people = sorted(realm.identities.values(), key=lambda person: person.subject != hint)
    for person in people:
        link = _with_query("authorize", {**query, "login": person.subject})
        groups = ", ".join(person.groups) or "no group"
        about = person.note or groups
        rows.append(
            f'<li><a href="{html.escape(link)}">{html.escape(person.given_name)} '
            f"{html.escape(person.family_name)}</a> ({html.escape(person.email)}; "
            f"{html.escape(about)})</li>"
        )
    return (
        f"<!doctype html><title>Sandbox sign-in: {html.escape(realm.name)}</title>"
        f"<h1>Sign in at the sandbox ({html.escape(realm.name)})</h1>"
        f"<p>Pick a demo identity:</p><ul>{''.join(rows)}</ul>"
    )


def _client_authenticated(realm: Realm, request: Request, form: dict[str, str]) -> bool:
    client_id, secret = form.get("client_id"), form.get("client_secret")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except ValueError:
            return False
        client_id, _, secret = decoded.partition(":")
    return client_id == realm.client_id and hmac.compare_digest(
        (secret or "").encode(), realm.client_secret.encode()
    )


def _hinted_subject(realm: Realm, id_token: str) -> str | None:
    """The `sub` of an id_token_hint the realm signed with its current key."""
    try:
        subject = jwt.decode(id_token, realm.key, algorithms=["RS256"]).claims.get("sub")
    except JoseError:  # a hint the sandbox cannot read signs nobody out
        return None
    return str(subject) if subject in realm.identities else None


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form (without python-multipart, which the hub does not need)."""
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[-1] for name, values in fields.items()}


async def _fields(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        body = orjson.loads(await request.body() or b"{}")
        return body if isinstance(body, dict) else {}
    return dict(await _form(request))
