"""``KafkaConfig``: how every strikewatch process connects to Kafka.

Shaped after quix-streams' ``kafka/configuration.py``: one frozen model holding the
bootstrap servers, the security protocol, SASL (mechanism, username, password) and TLS
files, with secrets as ``SecretStr``, that exports the keyword arguments of the
kafka-python clients (``client_kwargs()``). Its values come from the process's one
settings class (``strikewatch.core.settings``: ``STRIKEWATCH_BOOTSTRAP_SERVERS``,
``STRIKEWATCH_KAFKA_SECURITY_PROTOCOL``, ``STRIKEWATCH_KAFKA_SASL_MECHANISM``,
``STRIKEWATCH_KAFKA_SASL_USERNAME``, ``STRIKEWATCH_KAFKA_SASL_PASSWORD``,
``STRIKEWATCH_KAFKA_SSL_CAFILE`` ...), as ``settings.kafka``.

Pickling (a Beam DoFn holding its config travels inside the pipeline graph, to the job
server and the workers) leaves the secrets out: an unpickled config takes them from
the settings of the process it runs in (``KafkaSettings``), so no password is ever
written into a pipeline, a Flink job graph or an artifact directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SecurityProtocol = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
SECRET_FIELDS = ("sasl_password", "ssl_password")
DEFAULT_BOOTSTRAP = "127.0.0.1:19092"  # the local stack's broker (strikewatch up)


class KafkaConfig(BaseModel):
    """Connection settings of one Kafka cluster; ``client_kwargs()`` for kafka-python."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bootstrap_servers: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    sasl_username: str = ""
    sasl_password: SecretStr | None = None
    # TLS (SSL / SASL_SSL): PEM files; no cafile means the system trust store.
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_password: SecretStr | None = None
    ssl_check_hostname: bool = True
    # True in a config that was unpickled without its secrets (see the module docstring).
    secrets_from_settings: bool = False

    @model_validator(mode="after")
    def _complete(self) -> KafkaConfig:
        if not self.bootstrap_servers.strip():
            raise ValueError("bootstrap_servers is empty")
        if self.sasl and not self.secrets_from_settings and not (self.sasl_username and self.sasl_password):
            raise ValueError(
                f"security protocol {self.security_protocol} needs a SASL username and password "
                "(STRIKEWATCH_KAFKA_SASL_USERNAME, STRIKEWATCH_KAFKA_SASL_PASSWORD)"
            )
        if not self.tls and any((self.ssl_cafile, self.ssl_certfile, self.ssl_keyfile)):
            raise ValueError(
                f"TLS files given but the security protocol is {self.security_protocol} (use SSL or SASL_SSL)"
            )
        return self

    @classmethod
    def coerce(cls, value: KafkaConfig | str) -> KafkaConfig:
        """A config as is, or a bare bootstrap string as a PLAINTEXT config (tests, local tools)."""
        return value if isinstance(value, KafkaConfig) else cls(bootstrap_servers=value)

    @property
    def sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments every kafka-python client (producer, consumer, admin) takes."""
        cfg = self._with_secrets()
        kw: dict[str, Any] = {"bootstrap_servers": cfg.bootstrap_servers, "security_protocol": cfg.security_protocol}
        if cfg.sasl:
            kw.update(
                sasl_mechanism=cfg.sasl_mechanism,
                sasl_plain_username=cfg.sasl_username,
                sasl_plain_password=cfg.sasl_password.get_secret_value() if cfg.sasl_password else None,
            )
        if cfg.tls:
            kw["ssl_check_hostname"] = cfg.ssl_check_hostname
            for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
                if getattr(cfg, name) is not None:
                    kw[name] = str(getattr(cfg, name))
            if cfg.ssl_password is not None:
                kw["ssl_password"] = cfg.ssl_password.get_secret_value()
        return kw

    def _with_secrets(self) -> KafkaConfig:
        if not self.secrets_from_settings:
            return self
        own = KafkaSettings().kafka
        ident = ("bootstrap_servers", "security_protocol", "sasl_username")
        if any(getattr(own, k) != getattr(self, k) for k in ident):
            # A worker configured for another cluster or user must not lend its password to this one.
            raise ValueError(
                f"this process's Kafka settings ({own.sasl_username}@{own.bootstrap_servers}) do not hold "
                f"the secrets of {self.sasl_username}@{self.bootstrap_servers}"
            )
        return self.model_copy(update={k: getattr(own, k) for k in SECRET_FIELDS} | {"secrets_from_settings": False})

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        fields = dict(state["__dict__"])
        if any(fields.get(k) is not None for k in SECRET_FIELDS):
            fields.update({k: None for k in SECRET_FIELDS}, secrets_from_settings=True)
        return {**state, "__dict__": fields}


class KafkaSettings(BaseSettings):
    """The Kafka part of every process's settings class (``strikewatch.core.settings``
    inherits it), read from ``STRIKEWATCH_BOOTSTRAP_SERVERS``, ``STRIKEWATCH_KAFKA_*``.
    Here, below the settings, so an unpickled ``KafkaConfig`` can read its process's
    secrets without importing the settings that import it."""

    model_config = SettingsConfigDict(env_prefix="STRIKEWATCH_", env_file=".env", extra="ignore", frozen=True)
    # Every client of every process is built from these. The local stack is PLAINTEXT on loopback;
    # deployments use SASL_PLAINTEXT or SASL_SSL with SCRAM-SHA-512 (docker-compose.yml).
    bootstrap_servers: str = DEFAULT_BOOTSTRAP
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    kafka_ssl_password: SecretStr | None = None

    @model_validator(mode="after")
    def _kafka_complete(self):
        self.kafka  # noqa: B018 - fail at start, with the setting's name, not at the first connection
        return self

    @property
    def kafka(self) -> KafkaConfig:
        return KafkaConfig(
            bootstrap_servers=self.bootstrap_servers,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password,
            ssl_cafile=self.kafka_ssl_cafile,
            ssl_certfile=self.kafka_ssl_certfile,
            ssl_keyfile=self.kafka_ssl_keyfile,
            ssl_password=self.kafka_ssl_password,
        )
