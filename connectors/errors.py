"""Root exception of the connectors package."""


class ConnectorError(Exception):
    """Root of every connector error. ``reason`` is a short, low-cardinality label
    used for metrics and dead letters (``timeout``, ``too_large``, ``xml_bomb``...)."""

    reason = "error"

    def __init__(self, message: str, reason: str | None = None, payload: bytes | None = None):
        super().__init__(message)
        if reason:
            self.reason = reason
        self.payload = payload


class FetchError(ConnectorError):
    """An HTTP fetch failed or was refused."""


class FeedError(ConnectorError):
    """A fetched body is not a usable feed."""
