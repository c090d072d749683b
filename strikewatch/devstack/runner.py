"""``strikewatch pipeline`` on the local stack: the runner start-up the job itself knows nothing of.

    strikewatch pipeline                       # Prism, from the stack's binary (.stack/bin/prism)
    strikewatch pipeline --runner FlinkRunner  # a local Flink, started before the job and stopped after it

The job (``pipeline/main.py``) takes a ``LocalRunner``: the extra Beam options that point it at
the stack's Prism binary or its local Flink job server, and the start and stop of that Flink.
A job given ``--flink_master``/``--job_endpoint`` (a deployment, ``deploy/flink/``) gets nothing
from here. ``python -m pipeline.main`` runs the job with no local stack at all.
"""

from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions

from pipeline import main as job
from strikewatch.core.settings import PipelineSettings, StackSettings
from strikewatch.devstack import flink
from strikewatch.devstack.stack import prism_path


def local_flink(runner: str, extra: list[str], settings: PipelineSettings) -> bool:
    """A FlinkRunner job with no Flink named: this process starts one (strikewatch/devstack/flink.py)."""
    return (
        runner == "FlinkRunner"
        and not settings.flink_master
        and not any(a.startswith(("--flink_master", "--job_endpoint")) for a in extra)
    )


class LocalRunner:
    """The local stack's side of one pipeline process (see the module docstring)."""

    def __init__(self, stack: StackSettings | None = None) -> None:
        self.stack = stack or StackSettings()
        self._flink = False

    def args(self, runner: str, extra: list[str], settings: PipelineSettings) -> list[str]:
        """Beam options for the local runner; the job drops any the command line gives itself."""
        if runner == "PrismRunner":
            return [f"--prism_location={prism_path(self.stack)}"]
        if local_flink(runner, extra, settings):
            return flink.submit_args(self.stack)
        return []

    def start(self, runner: str, extra: list[str], settings: PipelineSettings) -> str | None:
        """Start the local Flink when the job needs one; the folder its SDK workers write metrics to."""
        if not local_flink(runner, extra, settings):
            return None
        # This process owns its local Flink, as it owns its Prism: Beam's job server
        # marks a job on its embedded cluster cancelled but leaves it running
        # (measured: it kept reading and extracting after the pipeline stopped), so
        # the job server goes when the pipeline does.
        flink.start(self.stack)
        self._flink = True
        # The DoFns run in the worker pool's SDK processes, which write their metrics
        # there (client_python multiprocess mode); the job's endpoint sums them.
        return str(flink.FlinkPaths(self.stack.stack_dir).metrics)

    def stop(self) -> None:
        if self._flink:
            flink.stop(self.stack)


def beam_options(runner: str, extra: list[str], settings: PipelineSettings) -> PipelineOptions:
    """The job's Beam options on the local stack (what ``strikewatch pipeline`` submits)."""
    return job.beam_options(runner, extra, settings, LocalRunner().args(runner, extra, settings))


def pipeline_main(argv: list[str] | None = None) -> int:
    """``strikewatch pipeline``: the job, with the local stack's runner start-up."""
    return job.main(argv, local=LocalRunner())
