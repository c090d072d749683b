"""The train/eval tooling stays outside the runtime import path: loading the Beam stage and
the extractor imports nothing from ``pipeline.extraction.tools``."""

import subprocess
import sys


def test_runtime_does_not_import_tools():
    code = (
        "import sys, pipeline.extract, pipeline.extraction, pipeline.extraction.relevance; "
        "print(sorted(m for m in sys.modules if m.startswith('pipeline.extraction.tools')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
