"""Root exception of the pipeline package."""

from __future__ import annotations

from strikewatch.core.models import Reason


class PipelineError(Exception):
    """Root of every error raised by the ``pipeline`` package. ``reason`` is what a
    dead letter and the dead-letter metric record for it."""

    reason: Reason = Reason.ERROR


class RecordError(PipelineError, ValueError):
    """One record cannot be processed (junk, oversized, off-schema): it becomes a dead
    letter with ``reason``; the stream goes on. ``str()`` is ``"<reason>: <message>"``."""

    def __init__(self, reason: Reason, message: str):
        super().__init__(f"{reason}: {message}")
        self.reason = Reason(reason)
        self.message = message
