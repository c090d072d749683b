"""Root exception of the shared core."""


class StrikewatchError(Exception):
    """Root of every error raised by the ``strikewatch`` package."""


class StackError(StrikewatchError):
    """The local stack (Kafka, Prism) could not be started, stopped or checked."""
