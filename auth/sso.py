"""OpenID Connect relying party (AUTH-10): providers as settings, their published keys, the
authorization code flow with PKCE, and ID and logout tokens checked with joserfc (authlib's
JOSE library): signature against the provider's keys, issuer, audience, expiry and nonce.

Nothing secret of a sign-in under way is stored: the PKCE verifier and the nonce are keyed
hashes of the state (which only the browser holds) under the server's secret, so the row
`sso_logins` keeps only the state's own keyed hash.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from pydantic import BaseModel, Field, TypeAdapter, field_validator

from models.identity import StaffRole

# Asymmetric only: a provider's HS256 would be keyed with the client secret, which the hub
# shares; the provider's `id_token_signing_alg_values_supported` narrows these further.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
DEFAULT_ALGORITHMS = ("RS256",)  # what OpenID Connect Discovery 1.0 assumes when not listed
LEEWAY_SECONDS = 60  # clocks of the provider and the hub disagree a little
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# `otp` or `hwk` alone may be one factor: only `mfa` says two were used (RFC 8176).
DEFAULT_MFA_AMR = ("mfa",)
FAILURE_MEMORY_SECONDS = 30.0  # a provider that failed is not asked again sooner
DEEP_LINK_SEPARATOR = "."


class Audience(enum.StrEnum):
    CLIENTS = "clients"
    STAFF = "staff"


class ProviderSettings(BaseModel):
    """One provider, as an element of LEASEHUB_SSO_PROVIDERS (JSON)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    issuer: str
    client_id: str
    client_secret: str
    audience: Audience
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    subject_claim: str = "sub"
    email_claim: str = "email"
    # Staff providers: the claim listing the person's groups, and group → staff role.
    group_claim: str = "groups"
    roles: dict[str, StaffRole] = Field(default_factory=dict)
    # A staff provider's first sign-in may find the staff account by a verified e-mail claim
    # (None: yes for staff providers; a clients provider never matches by e-mail).
    match_email: bool | None = None
    # The bank signs deep links to a contract with this (HMAC-SHA256, `sign_deep_link`).
    deep_link_secret: str | None = Field(default=None, min_length=32)
    # The provider's second factor stands for the hub's when its `amr` holds one of these or
    # its `acr` is one of `mfa_acr`; `trust_mfa` false asks the hub's own every time.
    trust_mfa: bool = True
    mfa_amr: list[str] = Field(default_factory=lambda: list(DEFAULT_MFA_AMR))
    mfa_acr: list[str] = Field(default_factory=list)

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, value: list[str]) -> list[str]:
        return value if "openid" in value else ["openid", *value]

    @property
    def matches_email(self) -> bool:
        if self.audience is not Audience.STAFF:
            return False
        return True if self.match_email is None else self.match_email

    def serves(self, *, staff: bool) -> bool:
        """Whether an account (staff or a client's) may use this provider at all."""
        return staff == (self.audience is Audience.STAFF)

    @property
    def discovery_url(self) -> str:
        # OpenID Connect Discovery 1.0, 4: the issuer without its trailing "/", then the path;
        # the issuer itself is compared exactly as configured.
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"

    def asserts_mfa(self, claims: dict[str, Any]) -> bool:
        if not self.trust_mfa:
            return False
        amr = claims.get("amr")
        methods = set(amr) if isinstance(amr, list) else set()
        return bool(methods & set(self.mfa_amr)) or claims.get("acr") in self.mfa_acr

    def role_of(self, claims: dict[str, Any]) -> StaffRole | None:
        """The mapped role of the person's groups; several: the first in the map's order."""
        groups = claims.get(self.group_claim)
        held = set(groups) if isinstance(groups, list) else {groups}
        return next((role for group, role in self.roles.items() if group in held), None)


_PROVIDERS = TypeAdapter(list[ProviderSettings])


def parse_providers(text: str | None) -> dict[str, ProviderSettings]:
    """LEASEHUB_SSO_PROVIDERS: a JSON list; names must differ."""
    if not text or not text.strip():
        return {}
    providers = _PROVIDERS.validate_json(text)
    named = {provider.name: provider for provider in providers}
    if len(named) != len(providers):
        raise ValueError("two providers share a name")
    return named


# ---- PKCE and nonce, derived from the state --------------------------------------------------


def _derived(secret_key: str, purpose: str, state: str) -> str:
    digest = hmac.new(secret_key.encode(), f"sso:{purpose}:{state}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def state_hash(secret_key: str, state: str) -> str:
    return hmac.new(secret_key.encode(), f"sso:state:{state}".encode(), hashlib.sha256).hexdigest()


def code_verifier(secret_key: str, state: str) -> str:
    return _derived(secret_key, "pkce", state)  # 43 characters, as RFC 7636 allows


def nonce_of(secret_key: str, state: str) -> str:
    return _derived(secret_key, "nonce", state)


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# ---- the provider's documents and keys -------------------------------------------------------


class ProviderUnavailable(Exception):
    """The provider did not answer, or answered what is not OpenID Connect."""


class TokenRefused(Exception):
    """A token that must not be believed; `detail` says which check refused it."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class _Directory:
    metadata: dict[str, Any]
    keys: KeySet
    algorithms: tuple[str, ...]
    fetched_at: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class OidcClient:
    """The hub's side of the providers, one per process: discovery and keys cached per issuer
    for `cache_seconds` (the first fetch under a lock, so parallel sign-ins fetch once), and a
    failed fetch remembered for FAILURE_MEMORY_SECONDS, so a provider that is down costs one
    outbound attempt, not one per request. A token naming a key the cache does not hold (the
    provider rotated) fetches again, at most once per `refresh_seconds` after the last such
    fetch, so made-up key ids cannot make the hub hammer it."""

    def __init__(
        self, *, timeout: float, refresh_seconds: float, cache_seconds: float = 3600.0
    ) -> None:
        self.timeout = timeout
        self.refresh_seconds = refresh_seconds
        self.cache_seconds = cache_seconds
        self._directories: dict[str, _Directory] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._failed: dict[str, tuple[float, str]] = {}
        self._kid_refetched: dict[str, float] = {}

    async def _get(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                response = await http.get(url)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ProviderUnavailable(str(error)) from error
        if not isinstance(document, dict):
            raise ProviderUnavailable(f"{url}: not a JSON object")
        return document

    async def _fetch(self, provider: ProviderSettings) -> _Directory:
        metadata = await self._get(provider.discovery_url)
        if metadata.get("issuer") != provider.issuer:
            raise ProviderUnavailable("the discovery document names another issuer")
        try:
            published: Any = await self._get(str(metadata["jwks_uri"]))
            keys = KeySet.import_key_set(published)
        except (KeyError, JoseError, ValueError) as error:
            raise ProviderUnavailable(f"keys: {error}") from error
        algorithms = signing_algorithms(metadata)
        return _Directory(metadata, keys, algorithms, fetched_at=time.monotonic())

    def _fresh(self, issuer: str) -> _Directory | None:
        found = self._directories.get(issuer)
        if found is None or time.monotonic() - found.fetched_at >= self.cache_seconds:
            return None
        return found

    async def _fetch_remembered(self, provider: ProviderSettings) -> _Directory:
        """A fetch, or the failure of one a moment ago without asking again."""
        failed = self._failed.get(provider.issuer)
        if failed is not None and time.monotonic() - failed[0] < FAILURE_MEMORY_SECONDS:
            raise ProviderUnavailable(f"failed a moment ago: {failed[1]}")
        try:
            fetched = await self._fetch(provider)
        except ProviderUnavailable as error:
            self._failed[provider.issuer] = (time.monotonic(), str(error))
            raise
        self._failed.pop(provider.issuer, None)
        self._directories[provider.issuer] = fetched
        return fetched

    async def directory(self, provider: ProviderSettings) -> _Directory:
        found = self._fresh(provider.issuer)
        if found is not None:
            return found
        async with self._locks.setdefault(provider.issuer, asyncio.Lock()):
            return self._fresh(provider.issuer) or await self._fetch_remembered(provider)

    async def _refreshed(self, provider: ProviderSettings, seen: _Directory) -> _Directory:
        async with self._locks.setdefault(provider.issuer, asyncio.Lock()):
            current = self._directories.get(provider.issuer, seen)
            last = self._kid_refetched.get(provider.issuer)
            if current is not seen or (
                last is not None and time.monotonic() - last < self.refresh_seconds
            ):
                return current  # someone fetched meanwhile, or an unknown kid did so lately
            self._kid_refetched[provider.issuer] = time.monotonic()
            return await self._fetch_remembered(provider)

    async def authorization_url(
        self,
        provider: ProviderSettings,
        *,
        state: str,
        secret_key: str,
        redirect_uri: str,
        login_hint: str | None = None,
    ) -> str:
        metadata = (await self.directory(provider)).metadata
        query = {
            "response_type": "code",
            "client_id": provider.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(provider.scopes),
            "state": state,
            "nonce": nonce_of(secret_key, state),
            "code_challenge": code_challenge(code_verifier(secret_key, state)),
            "code_challenge_method": "S256",
        }
        if login_hint:
            query["login_hint"] = login_hint
        return f"{metadata['authorization_endpoint']}?{urlencode(query)}"

    async def exchange(
        self,
        provider: ProviderSettings,
        *,
        code: str,
        state: str,
        secret_key: str,
        redirect_uri: str,
    ) -> str:
        """The ID token for an authorization code (client_secret_basic, PKCE verifier)."""
        metadata = (await self.directory(provider)).metadata
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier(secret_key, state),
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                response = await http.post(
                    str(metadata["token_endpoint"]),
                    data=form,
                    auth=(provider.client_id, provider.client_secret),
                )
        except httpx.HTTPError as error:
            raise ProviderUnavailable(str(error)) from error
        if response.status_code in (400, 401):  # a used, expired or foreign code
            raise TokenRefused("CODE_REFUSED")
        if response.status_code != 200:
            raise ProviderUnavailable(f"token endpoint answered {response.status_code}")
        id_token = _json(response).get("id_token")
        if not isinstance(id_token, str):
            raise ProviderUnavailable("no ID token in the token answer")
        return id_token

    async def verify(
        self, provider: ProviderSettings, token: str, *, nonce: str | None
    ) -> dict[str, Any]:
        """The claims of an ID token (with its nonce) or a logout token (nonce None: it must
        carry none), after every check; TokenRefused names the first that failed."""
        seen = await self.directory(provider)
        try:
            decoded = jwt.decode(token, seen.keys, algorithms=list(seen.algorithms))
        except InvalidKeyIdError:
            fresh = await self._refreshed(provider, seen)
            decoded = _decoded(token, fresh)
        except JoseError as error:
            raise _refusal(error) from error
        claims = dict(decoded.claims)
        _check_claims(provider, claims, nonce=nonce)
        return claims


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError as error:
        raise ProviderUnavailable("the token answer is not JSON") from error
    return document if isinstance(document, dict) else {}


def _decoded(token: str, directory: _Directory) -> Any:
    try:
        return jwt.decode(token, directory.keys, algorithms=list(directory.algorithms))
    except JoseError as error:
        raise _refusal(error) from error


def signing_algorithms(metadata: dict[str, Any]) -> tuple[str, ...]:
    """The provider's ID-token algorithms that are asymmetric; none usable: not a provider
    the hub can believe."""
    listed = metadata.get("id_token_signing_alg_values_supported")
    if not isinstance(listed, list):
        return DEFAULT_ALGORITHMS
    usable = tuple(str(alg) for alg in listed if alg in ASYMMETRIC_ALGORITHMS)
    if not usable:
        raise ProviderUnavailable("the provider signs ID tokens with no asymmetric algorithm")
    return usable


def _refusal(error: JoseError) -> TokenRefused:
    if isinstance(error, BadSignatureError | InvalidKeyIdError):
        return TokenRefused("SIGNATURE")
    return TokenRefused("MALFORMED")


def _check_claims(provider: ProviderSettings, claims: dict[str, Any], *, nonce: str | None) -> None:
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": provider.issuer},
        "aud": {"essential": True, "value": provider.client_id},
        "iat": {"essential": True},
        "exp": {"essential": True},
    }
    if nonce is not None:
        options[provider.subject_claim] = {"essential": True}
        options["nonce"] = {"essential": True, "value": nonce}
    registry = jwt.JWTClaimsRegistry(leeway=LEEWAY_SECONDS, **options)
    try:
        registry.validate(claims)
    except ExpiredTokenError as error:
        raise TokenRefused("EXPIRED") from error
    except (InvalidClaimError, MissingClaimError) as error:
        raise TokenRefused(_claim_detail(error)) from error
    except JoseError as error:
        raise TokenRefused("MALFORMED") from error
    _check_azp(provider, claims)
    if nonce is None:
        _check_logout(claims)


def _check_azp(provider: ProviderSettings, claims: dict[str, Any]) -> None:
    """OpenID Connect Core 1.0, 3.1.3.7: several audiences need `azp`, and an `azp` must name
    this client, or a token issued to another client that lists the hub too would pass."""
    audience, azp = claims.get("aud"), claims.get("azp")
    several = isinstance(audience, list) and len(audience) > 1
    if (several or azp is not None) and azp != provider.client_id:
        raise TokenRefused("AUDIENCE")


def _claim_detail(error: InvalidClaimError | MissingClaimError) -> str:
    claim = str(getattr(error, "claim", "") or "")
    return {"iss": "ISSUER", "aud": "AUDIENCE", "nonce": "NONCE"}.get(claim, "CLAIMS")


def _check_logout(claims: dict[str, Any]) -> None:
    """A logout token (OpenID Connect Back-Channel Logout 1.0, 2.6): the event, a subject or
    a session id, and never a nonce (which would let an ID token pass as one)."""
    events = claims.get("events")
    if not isinstance(events, dict) or BACKCHANNEL_EVENT not in events or "nonce" in claims:
        raise TokenRefused("NOT_A_LOGOUT_TOKEN")
    if not claims.get("sub") and not claims.get("sid"):
        raise TokenRefused("NOT_A_LOGOUT_TOKEN")
    if not claim_text(claims, "jti"):  # without it a replay could not be told apart
        raise TokenRefused("NOT_A_LOGOUT_TOKEN")


def claim_text(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return str(value) if isinstance(value, str | int) and str(value) else None


def dumps_providers(providers: list[dict[str, Any]]) -> str:
    return json.dumps(providers)


# ---- deep links signed by the bank ------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _deep_link_mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def sign_deep_link(
    secret: str, *, exp: int, contract_number: str | None = None, contract_id: str | None = None
) -> str:
    """What the bank puts in its link: `{contractNumber | contractId, exp}` as base64url JSON,
    ".", and its HMAC-SHA256 under the provider's `deep_link_secret` (base64url)."""
    content = {"contractNumber": contract_number} if contract_number else {}
    content |= {"contractId": contract_id} if contract_id else {}
    payload = _b64(json.dumps({**content, "exp": exp}, separators=(",", ":")).encode())
    return f"{payload}{DEEP_LINK_SEPARATOR}{_deep_link_mac(secret, payload)}"


@dataclass(frozen=True, slots=True)
class DeepLink:
    contract_number: str | None
    contract_id: str | None


def read_deep_link(secret: str, token: str, *, now: float) -> DeepLink | None:
    """The contract a deep link names, or None when it is forged, expired or malformed."""
    payload, _, mac = token.partition(DEEP_LINK_SEPARATOR)
    if not mac or not hmac.compare_digest(mac, _deep_link_mac(secret, payload)):
        return None
    try:
        content = json.loads(_unb64(payload))
    except ValueError:
        return None
    if not isinstance(content, dict) or not isinstance(content.get("exp"), int):
        return None
    if content["exp"] <= now:
        return None
    number, contract_id = content.get("contractNumber"), content.get("contractId")
    if not isinstance(number, str | None) or not isinstance(contract_id, str | None):
        return None
    return DeepLink(number, contract_id) if number or contract_id else None
