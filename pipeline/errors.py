"""Root exception of the pipeline package."""


class PipelineError(Exception):
    """Root of every error raised by the ``pipeline`` package."""
