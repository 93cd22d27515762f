"""One typed Settings object, read from the environment (and a `.env` file when present)."""

from __future__ import annotations

import enum
import os
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from auth.addresses import TrustedProxies
from auth.policy import PasswordPolicy
from auth.sso import ProviderSettings, parse_providers
from models.identifiers import is_valid_nip, is_valid_regon

PLACEHOLDER_SECRET = "changethis-development-only"  # noqa: S105 - refused outside development


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class MailSender(enum.StrEnum):
    CONSOLE = "console"
    FILE = "file"
    SMTP = "smtp"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Field(default=Environment.DEVELOPMENT, alias="LEASEHUB_ENV")
    secret_key: str = Field(default=PLACEHOLDER_SECRET, alias="LEASEHUB_SECRET_KEY")
    database_url: str = Field(default="sqlite+aiosqlite:///./leasehub.db", alias="DATABASE_URL")
    host: str = Field(default="127.0.0.1", alias="HOST")
    port: int = Field(default=8000, alias="PORT", ge=1, le=65535)
    db_pool_size: int = Field(default=10, alias="LEASEHUB_DB_POOL_SIZE", ge=1)
    # PostgreSQL: the role the server connects as, when it is not the one that migrates. The
    # migrations (0025) grant it the application's reads and writes but only SELECT, INSERT on
    # audit_log (and DELETE on access_log, the purge): it owns no table, so it can neither
    # change the audit log nor alter or drop its append-only trigger. README: two roles.
    db_app_role: str | None = Field(
        default=None, alias="LEASEHUB_DB_APP_ROLE", pattern=r"^[a-z_][a-z0-9_]{0,62}$"
    )
    # How long a request waits for a pooled connection before SERVICE_UNAVAILABLE.
    db_pool_timeout_seconds: float = Field(
        default=3.0, alias="LEASEHUB_DB_POOL_TIMEOUT_SECONDS", gt=0
    )
    health_timeout_seconds: float = Field(
        default=0.5, alias="LEASEHUB_HEALTH_TIMEOUT_SECONDS", gt=0
    )
    # Heavy work (table pulls, PDFs) runs in worker processes, one core left for requests.
    heavy_workers: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) - 1),
        alias="LEASEHUB_HEAVY_WORKERS",
        ge=1,
    )
    heavy_per_user: int = Field(default=2, alias="LEASEHUB_HEAVY_PER_USER", ge=1)
    heavy_queue: int = Field(default=8, alias="LEASEHUB_HEAVY_QUEUE", ge=0)
    session_ttl_hours: int = Field(default=12, alias="LEASEHUB_SESSION_TTL_HOURS", ge=1)
    # A support view (staff reading as a client user) ends this long after it was started.
    support_view_minutes: int = Field(default=30, alias="LEASEHUB_SUPPORT_VIEW_MINUTES", ge=1)
    # Verified viewers kept per server process, by token hash (auth/cache.py): a cached token
    # costs one primary-key statement per request instead of two or three. 0 turns it off.
    auth_cache_size: int = Field(default=10_000, alias="LEASEHUB_AUTH_CACHE_SIZE", ge=0)
    # How long a viewer is served from the cache before it is built again from the database.
    # Logout, revocation and every change of rights end it at once regardless; this bounds
    # only what the per-request check cannot see (memberships edited by hand in SQL).
    auth_cache_ttl_seconds: float = Field(
        default=60.0, alias="LEASEHUB_AUTH_CACHE_TTL_SECONDS", ge=0
    )
    max_query_depth: int = Field(default=12, alias="LEASEHUB_MAX_QUERY_DEPTH", ge=2)
    max_aliases: int = Field(default=20, alias="LEASEHUB_MAX_ALIASES", ge=1)
    max_tokens: int = Field(default=2000, alias="LEASEHUB_MAX_TOKENS", ge=100)
    max_query_cost: int = Field(default=50_000, alias="LEASEHUB_MAX_QUERY_COST", ge=1)
    # Live subscriptions (graphql-transport-ws on /graphql) one WebSocket connection may hold.
    max_subscriptions: int = Field(default=10, alias="LEASEHUB_MAX_SUBSCRIPTIONS", ge=1)
    page_size_max: int = Field(default=100, alias="LEASEHUB_PAGE_SIZE_MAX", ge=1)
    # HTTP limits of POST /graphql: 413 past the body size, 400 past the variable limits.
    max_body_bytes: int = Field(default=1_048_576, alias="LEASEHUB_MAX_BODY_BYTES", ge=1024)
    max_variables: int = Field(default=100, alias="LEASEHUB_MAX_VARIABLES", ge=1)
    max_variable_depth: int = Field(default=10, alias="LEASEHUB_MAX_VARIABLE_DEPTH", ge=1)
    # Production answers introspection only to signed-in staff, and only while this is on.
    staff_introspection: bool = Field(default=True, alias="LEASEHUB_STAFF_INTROSPECTION")
    # Comma-separated origins whose pages may call the API; unset: the portal in development.
    cors_origins: str | None = Field(default=None, alias="LEASEHUB_CORS_ORIGINS")
    sql_echo: bool = Field(default=False, alias="LEASEHUB_SQL_ECHO")
    # gen0, gen1, gen2 collection thresholds of the server process (hub/runtime.py); "" keeps
    # Python's (700, 10, 10).
    gc_thresholds_text: str = Field(default="20000,20,100", alias="LEASEHUB_GC_THRESHOLDS")

    # Links in e-mails lead to the portal's pages, which call the API with the token.
    portal_url: str = Field(default="http://127.0.0.1:3000", alias="LEASEHUB_PORTAL_URL")
    mail_sender: MailSender = Field(default=MailSender.FILE, alias="LEASEHUB_MAIL_SENDER")
    sms_sender: MailSender = Field(default=MailSender.FILE, alias="LEASEHUB_SMS_SENDER")
    outbox_dir: Path = Field(default=Path("var/outbox"), alias="LEASEHUB_OUTBOX_DIR")
    # The server delivers the outbox itself (every 2 s); unset: in development only, so codes
    # and links are in var/outbox at once. Production runs `leasehub outbox --watch` instead.
    outbox_in_process: bool | None = Field(default=None, alias="LEASEHUB_OUTBOX_IN_PROCESS")
    mail_from: str = Field(default="LeaseHub <no-reply@leasehub.pl>", alias="LEASEHUB_MAIL_FROM")
    smtp_host: str = Field(default="127.0.0.1", alias="LEASEHUB_SMTP_HOST")
    smtp_port: int = Field(default=25, alias="LEASEHUB_SMTP_PORT")
    smtp_username: str | None = Field(default=None, alias="LEASEHUB_SMTP_USERNAME")
    smtp_password: str | None = Field(default=None, alias="LEASEHUB_SMTP_PASSWORD")
    smtp_starttls: bool = Field(default=False, alias="LEASEHUB_SMTP_STARTTLS")

    # The seller on every invoice and document the hub prints.
    lessor_name: str = Field(default="LeaseHub Leasing sp. z o.o.", alias="LEASEHUB_LESSOR_NAME")
    lessor_nip: str = Field(default="7073738471", alias="LEASEHUB_LESSOR_NIP")
    lessor_regon: str = Field(default="123456785", alias="LEASEHUB_LESSOR_REGON")
    lessor_street: str = Field(default="ul. Prosta 51", alias="LEASEHUB_LESSOR_STREET")
    lessor_postal_code: str = Field(default="00-838", alias="LEASEHUB_LESSOR_POSTAL_CODE")
    lessor_city: str = Field(default="Warszawa", alias="LEASEHUB_LESSOR_CITY")
    # The first day the lessor issues its invoices through KSeF, so the first issue date that
    # may carry a KSeF number. The Act of 16 June 2023 (Dz.U. 2023 poz. 1598), as amended in
    # 2025 (Dz.U. 2025 poz. 1203), makes KSeF compulsory from 1 February 2026 for taxpayers
    # whose 2024 sales with VAT exceeded 200 million PLN and from 1 April 2026 for the others.
    ksef_from: date = Field(default=date(2026, 2, 1), alias="LEASEHUB_KSEF_FROM")

    # Attachments (staged uploads, exports/storage.py): the folder of the filesystem storage
    # (created on first use), the largest file per kind, the bytes a company may keep stored.
    attachment_dir: Path = Field(default=Path("var/attachments"), alias="LEASEHUB_ATTACHMENT_DIR")
    attachment_max_bytes: int = Field(
        default=10 * 1024 * 1024, alias="LEASEHUB_ATTACHMENT_MAX_BYTES", ge=1024
    )
    attachment_image_max_bytes: int = Field(
        default=5 * 1024 * 1024, alias="LEASEHUB_ATTACHMENT_IMAGE_MAX_BYTES", ge=1024
    )
    attachment_zip_max_bytes: int = Field(
        default=20 * 1024 * 1024, alias="LEASEHUB_ATTACHMENT_ZIP_MAX_BYTES", ge=1024
    )
    attachment_quota_bytes: int = Field(
        default=500 * 1024 * 1024, alias="LEASEHUB_ATTACHMENT_QUOTA_BYTES", ge=1024
    )
    # A ZIP (or DOCX) is refused past these: a zip bomb unpacks to far more than it weighs.
    zip_max_entries: int = Field(default=1000, alias="LEASEHUB_ZIP_MAX_ENTRIES", ge=1)
    zip_max_unpacked_bytes: int = Field(
        default=200 * 1024 * 1024, alias="LEASEHUB_ZIP_MAX_UNPACKED_BYTES", ge=1024
    )
    zip_max_ratio: int = Field(default=100, alias="LEASEHUB_ZIP_MAX_RATIO", ge=2)

    # The payment gateway (PayU REST API v2.1, resolvers/gateway/payu.py): its base URL
    # (https://secure.payu.com, https://secure.snd.payu.com, or `leasehub gateway-sandbox`),
    # the point of sale, the OAuth client and the second key that signs notifications.
    # Unset base URL: no gateway, the pay button says payments are unavailable.
    payu_base_url: str | None = Field(default=None, alias="LEASEHUB_PAYU_BASE_URL")
    payu_pos_id: str = Field(default="300746", alias="LEASEHUB_PAYU_POS_ID")
    payu_client_id: str = Field(default="300746", alias="LEASEHUB_PAYU_CLIENT_ID")
    payu_client_secret: str = Field(default=PLACEHOLDER_SECRET, alias="LEASEHUB_PAYU_CLIENT_SECRET")
    payu_second_key: str = Field(default=PLACEHOLDER_SECRET, alias="LEASEHUB_PAYU_SECOND_KEY")
    # Where the gateway POSTs its notifications: this server's public /gateway/payu/notify.
    payu_notify_url: str | None = Field(default=None, alias="LEASEHUB_PAYU_NOTIFY_URL")
    # Every call to the gateway ends within this; after a failure the button says
    # "unavailable" for the cool-down, then the next start tries the gateway again.
    payu_timeout_seconds: float = Field(default=5.0, alias="LEASEHUB_PAYU_TIMEOUT_SECONDS", gt=0)
    payu_cooldown_seconds: float = Field(default=30.0, alias="LEASEHUB_PAYU_COOLDOWN_SECONDS", ge=0)

    password_min_length: int = Field(default=8, alias="LEASEHUB_PASSWORD_MIN_LENGTH", ge=1)
    password_max_length: int = Field(default=24, alias="LEASEHUB_PASSWORD_MAX_LENGTH", ge=8)
    password_require_uppercase: bool = Field(default=True, alias="LEASEHUB_PASSWORD_UPPERCASE")
    password_require_digit: bool = Field(default=True, alias="LEASEHUB_PASSWORD_DIGIT")
    password_require_special: bool = Field(default=True, alias="LEASEHUB_PASSWORD_SPECIAL")
    password_forbid_personal: bool = Field(default=True, alias="LEASEHUB_PASSWORD_NO_PERSONAL")
    # Argon2 runs in a thread pool of this size: at most this many hashes at once, off the loop.
    # One core less than the machine: a burst of logins must leave a core to light queries.
    password_hash_workers: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) - 1),
        alias="LEASEHUB_PASSWORD_HASH_WORKERS",
        ge=1,
    )

    code_max_attempts: int = Field(default=5, alias="LEASEHUB_CODE_MAX_ATTEMPTS", ge=1)
    login_failures_per_account: int = Field(default=5, alias="LEASEHUB_LOGIN_ACCOUNT_LIMIT", ge=1)
    login_failures_per_ip: int = Field(default=30, alias="LEASEHUB_LOGIN_IP_LIMIT", ge=1)
    login_window_minutes: int = Field(default=15, alias="LEASEHUB_LOGIN_WINDOW_MINUTES", ge=1)
    # The access log's retention (RODO): `leasehub access-log-purge` removes older entries.
    access_log_days: int = Field(default=730, alias="LEASEHUB_ACCESS_LOG_DAYS", ge=1)
    resets_per_address: int = Field(default=3, alias="LEASEHUB_RESET_ADDRESS_LIMIT", ge=1)
    resets_per_ip: int = Field(default=10, alias="LEASEHUB_RESET_IP_LIMIT", ge=1)
    # Wrong passwords of a signed-in user (password change, second factor, e-mail change).
    password_checks_per_user: int = Field(default=5, alias="LEASEHUB_PASSWORD_CHECK_LIMIT", ge=1)
    # Proxies whose X-Forwarded-For is believed: comma-separated addresses or networks.
    trusted_proxies: str = Field(default="", alias="LEASEHUB_TRUSTED_PROXIES")

    # Single sign-on (OpenID Connect, auth/sso.py): the providers as a JSON list (README), the
    # portal pages a provider may send the browser back to (comma-separated; unset: the
    # portal's /sso/callback in development, none elsewhere), how long a started sign-in
    # waits, and how soon after a fetch a provider's keys may be fetched again.
    sso_providers_json: str = Field(default="", alias="LEASEHUB_SSO_PROVIDERS")
    sso_redirect_uris_text: str | None = Field(default=None, alias="LEASEHUB_SSO_REDIRECT_URIS")
    sso_login_minutes: int = Field(default=10, alias="LEASEHUB_SSO_LOGIN_MINUTES", ge=1)
    sso_timeout_seconds: float = Field(default=5.0, alias="LEASEHUB_SSO_TIMEOUT_SECONDS", gt=0)
    sso_keys_refresh_seconds: float = Field(
        default=10.0, alias="LEASEHUB_SSO_KEYS_REFRESH_SECONDS", ge=0
    )
    # How long a provider's discovery document and keys are believed before fetched again.
    sso_keys_cache_seconds: float = Field(
        default=3600.0, alias="LEASEHUB_SSO_KEYS_CACHE_SECONDS", gt=0
    )
    # `ssoStart` per client IP and login window: each one stores a row until it expires.
    sso_starts_per_ip: int = Field(default=60, alias="LEASEHUB_SSO_STARTS_PER_IP", ge=1)
    # Staff sessions made through a staff provider: short, so a person removed from the
    # provider's group loses access soon even if its back-channel logout never arrives.
    sso_staff_session_minutes: int = Field(
        default=60, alias="LEASEHUB_SSO_STAFF_SESSION_MINUTES", ge=1
    )
    # Staff may sign in with a password; turn off where staff use the lessor's provider.
    staff_password_login: bool = Field(default=True, alias="LEASEHUB_STAFF_PASSWORD_LOGIN")

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.DEVELOPMENT

    @property
    def gc_thresholds(self) -> tuple[int, int, int] | None:
        return _gc_thresholds(self.gc_thresholds_text)

    @model_validator(mode="after")
    def _check_gc_thresholds(self) -> Self:
        _gc_thresholds(self.gc_thresholds_text)  # refused at start-up, not at the first request
        return self

    @property
    def allowed_origins(self) -> list[str]:
        """Origins as browsers send them (scheme://host[:port]): a portal URL's path is dropped."""
        if self.cors_origins is None:
            listed = [self.portal_url] if self.is_development else []
        else:
            listed = [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]
        return [f"{url.scheme}://{url.netloc}" for url in map(urlsplit, listed)]

    @property
    def delivers_outbox_in_process(self) -> bool:
        return self.is_development if self.outbox_in_process is None else self.outbox_in_process

    @property
    def password_policy(self) -> PasswordPolicy:
        return PasswordPolicy(
            min_length=self.password_min_length,
            max_length=self.password_max_length,
            require_uppercase=self.password_require_uppercase,
            require_digit=self.password_require_digit,
            require_special=self.password_require_special,
            forbid_personal_data=self.password_forbid_personal,
        )

    @property
    def proxies(self) -> TrustedProxies:
        return TrustedProxies.parse(self.trusted_proxies)

    @property
    def sso_providers(self) -> dict[str, ProviderSettings]:
        return _providers(self.sso_providers_json)

    @property
    def sso_redirect_uris(self) -> frozenset[str]:
        if self.sso_redirect_uris_text is None:
            listed = [f"{self.portal_url.rstrip('/')}/sso/callback"] if self.is_development else []
        else:
            listed = self.sso_redirect_uris_text.split(",")
        return frozenset(uri.strip() for uri in listed if uri.strip())

    @model_validator(mode="after")
    def _check_sso_providers(self) -> Self:
        try:
            self.sso_providers  # noqa: B018 - parsed now: a typo fails at start, not at sign-in
        except ValueError as error:
            raise ValueError(f"LEASEHUB_SSO_PROVIDERS: {error}") from error
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @model_validator(mode="after")
    def _check_sso_transport(self) -> Self:
        """Outside development and tests: providers and return addresses over HTTPS only (a
        code or an ID token over plain HTTP can be read on the way), and no placeholder
        client secret (the sandbox's)."""
        if self.environment is not Environment.PRODUCTION:
            return self
        for provider in self.sso_providers.values():
            if not provider.issuer.startswith("https://"):
                raise ValueError(
                    f"LEASEHUB_SSO_PROVIDERS: {provider.name}: the issuer must be https://"
                )
            if provider.client_secret == PLACEHOLDER_SECRET:
                raise ValueError(
                    f"LEASEHUB_SSO_PROVIDERS: {provider.name}: the client secret is the "
                    "development placeholder; set the real one"
                )
        if any(not uri.startswith("https://") for uri in self.sso_redirect_uris):
            raise ValueError("LEASEHUB_SSO_REDIRECT_URIS: every address must be https://")
        return self

    @model_validator(mode="after")
    def _check_lessor(self) -> Self:
        if not is_valid_nip(self.lessor_nip):
            raise ValueError("LEASEHUB_LESSOR_NIP is not a valid NIP (10 digits, checksum)")
        if not is_valid_regon(self.lessor_regon):
            raise ValueError("LEASEHUB_LESSOR_REGON is not a valid REGON")
        return self

    @model_validator(mode="after")
    def _check_proxies(self) -> Self:
        try:
            self.proxies  # noqa: B018 - parsed now, so a typo fails at start and not per request
        except ValueError as error:
            raise ValueError(f"LEASEHUB_TRUSTED_PROXIES: {error}") from error
        return self

    @property
    def gateway_notify_url(self) -> str:
        return self.payu_notify_url or f"http://{self.host}:{self.port}/gateway/payu/notify"

    @model_validator(mode="after")
    def _refuse_placeholder_gateway_keys(self) -> Self:
        if self.payu_base_url is None or self.is_development:
            return self
        for name, value in (
            ("LEASEHUB_PAYU_CLIENT_SECRET", self.payu_client_secret),
            ("LEASEHUB_PAYU_SECOND_KEY", self.payu_second_key),
        ):
            if value == PLACEHOLDER_SECRET:
                raise ValueError(f"{name} is the development placeholder; set the real key")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Self:
        if self.environment is Environment.PRODUCTION and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError(
                "LEASEHUB_SECRET_KEY is the development placeholder; set a real secret "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        if self.environment is Environment.PRODUCTION and len(self.secret_key) < 32:
            raise ValueError("LEASEHUB_SECRET_KEY must be at least 32 characters in production")
        return self


def _gc_thresholds(text: str) -> tuple[int, int, int] | None:
    if not text.strip():
        return None
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 3 or not all(part.isdigit() and int(part) > 0 for part in parts):
        raise ValueError("LEASEHUB_GC_THRESHOLDS: three positive integers, e.g. 20000,20,100")
    first, second, third = (int(part) for part in parts)
    return first, second, third


@lru_cache(maxsize=8)
def _providers(text: str) -> dict[str, ProviderSettings]:
    return parse_providers(text)  # parsed once per text, not on every sign-in


@lru_cache
def get_settings() -> Settings:
    return Settings()
