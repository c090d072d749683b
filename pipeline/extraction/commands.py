"""``strikewatch extract FILE``: print the events of one article as JSON.

    strikewatch extract ../shared/data/articles/us_strikes_iraq_syria_2021-06-28.txt
    strikewatch extract article.txt --all        # also other-violence events

The file is plain text; a first line ``date YYYY-MM-DD`` gives the article's date,
against which relative times ("early Monday") are resolved. Output: one JSON array of
Event objects (schema ``deploy/schemas/event.v2.schema.json``), character offsets
relative to the body after the date line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import article_from_text, extract_events, load_nlp


def extract_main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="strikewatch extract", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("file", type=Path)
    ap.add_argument("--compact", action="store_true", help="one line instead of indented JSON")
    args = ap.parse_args(argv)
    try:
        raw = args.file.read_bytes()
    except OSError as e:
        print(f"strikewatch extract: cannot read {args.file}: {e}", file=sys.stderr)
        return 2
    text = raw.decode("utf-8", errors="replace")
    article = article_from_text(text, url=args.file.resolve().as_uri(), source="file")
    [events] = extract_events(load_nlp(), [article])
    payload = [json.loads(e.model_dump_json()) for e in events]
    print(json.dumps(payload, indent=None if args.compact else 2, ensure_ascii=False))
    return 0
