"""One typed settings object, read from `TRUSTLEDGER_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRUSTLEDGER_", extra="ignore")

    # Unset means the embedded SQLite file under `var_dir`, so a newcomer needs no server.
    database_url: str | None = None
    # A PostgreSQL schema of its own lets several ledgers share one database (tests do this).
    database_schema: str = "public"
    var_dir: Path = Path("var")
    # The Ed25519 key that signs bearer tokens: a PEM file, or the PEM itself (e.g. a secret).
    token_key_file: Path | None = None
    token_key: SecretStr | None = None
    token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    token_issuer: str = "trustledger"  # noqa: S105 - a name, not a secret
    token_audience: str = "trustledger-api"  # noqa: S105 - a name, not a secret
    # The audit log's name (the first line of every checkpoint, and its key's name) and the
    # Ed25519 key that signs its checkpoints: a PEM file, or the PEM itself. Unset, a key is
    # generated under `var_dir`; it must live outside the database (DESIGN §3).
    audit_origin: str = Field(default="trustledger.local/ledger", pattern=r"^[^\s+]+$")
    audit_key_file: Path | None = None
    audit_key: SecretStr | None = None
    # How often the service signs a checkpoint of the log when it has grown (0: only on demand).
    audit_checkpoint_seconds: float = Field(default=300.0, ge=0)
    # Demo accounts share a published password; they may sign in only in demo mode.
    demo_mode: bool = False
    max_body_bytes: int = Field(default=1_000_000, ge=1_024)
    postgres_pool_size: int = Field(default=10, ge=1)

    @field_validator("database_url")
    @classmethod
    def _only_known_stores(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("postgresql://", "postgres://", "sqlite:///")):
            raise ValueError("TRUSTLEDGER_DATABASE_URL must be a postgresql:// or sqlite:/// URL")
        return url

    @property
    def is_postgres(self) -> bool:
        return self.database_url is not None and self.database_url.startswith("postgres")

    def ledger_env(self) -> dict[str, str]:
        """The library's own settings, derived from ours."""
        if not self.is_postgres:
            path = (
                Path(self.database_url.removeprefix("sqlite:///"))
                if self.database_url
                else self.var_dir / "trustledger.sqlite3"
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(path),
                "SQLITE_LOCK_TIMEOUT": "10",
                "APPLICATION_RECORDER_TOPIC": "projections.ledger_store:SQLiteLedgerRecorder",
            }
        assert self.database_url is not None
        url = urlsplit(self.database_url)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/"),
            "POSTGRES_HOST": url.hostname or "localhost",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or ""),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": str(self.postgres_pool_size),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_PRE_PING": "y",
            "POSTGRES_SCHEMA": self.database_schema,
            "APPLICATION_RECORDER_TOPIC": "projections.ledger_store:PostgresLedgerRecorder",
        }
