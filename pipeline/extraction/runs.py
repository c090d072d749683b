"""Character runs that would make spaCy's tokenizer quadratic, defused before the parse.

    defuse(")" * 20_000)   # -> ")))" then spaces: same length, a handful of tokens

spaCy's tokenizer strips prefixes and suffixes from a whitespace-free string one at a
time, and each step searches the rest of the string again: a run of n closing brackets
costs ~n² (measured with the shipped model: 2k characters 0.47 s, 4k 1.9 s, 8k 11.1 s;
a strike sentence followed by 19,750 ")" held the batched lane for 70 s). Two rules keep
every input linear, each replacing characters with spaces so the length and every offset
stay those of the article (quotes are taken from the article itself, not from this text):

* a run of one repeated mark (not a letter, digit or space) keeps its first
  ``MAX_REPEAT`` characters ("...", "!!!", "---"), and a run of mixed marks its first
  ``MAX_MARKS`` ('."),' ends many quotes); the rest become spaces;
* what is still a whitespace-free run longer than ``MAX_RUN_CHARS`` gets a space every
  ``MAX_RUN_CHARS`` characters (alternating marks ")(", base64, very long URLs).
"""

from __future__ import annotations

import re

# "..." and "!!!" are prose; a fourth repetition carries nothing a reader would miss.
MAX_REPEAT = 3
# Prose closes at most a few quotes and brackets after a full stop ('."),' is 4 marks);
# a longer run of marks (")(" x 10,000) is noise, and each mark would be a token.
MAX_MARKS = 8
# Longest whitespace-free run the tokenizer sees. Its cost per run is ~1.2e-7 s x n²
# (the measurements above), so runs of 64 cost ~0.5 ms each: a 20k-character run of
# alternating marks tokenizes in ~0.15 s instead of minutes. Words and URLs of news text
# are shorter (the longest whitespace-free run in the 1,169 general_news.jsonl articles is
# 32 characters).
MAX_RUN_CHARS = 64

_REPEATED_MARK = re.compile(r"([^\w\s])\1{%d,}" % MAX_REPEAT)
_MARKS = re.compile(r"[^\w\s]{%d,}" % (MAX_MARKS + 1))
_LONG_RUN = re.compile(r"\S{%d,}" % (MAX_RUN_CHARS + 1))


def _keeping(n: int):
    def blank(m: re.Match) -> str:
        run = m.group(0)
        return run[:n] + " " * (len(run) - n)

    return blank


def _split_run(m: re.Match) -> str:
    run = m.group(0)
    return " ".join(run[i : i + MAX_RUN_CHARS - 1] for i in range(0, len(run), MAX_RUN_CHARS))[: len(run)].ljust(
        len(run)
    )


def defuse(text: str) -> str:
    """``text`` with the same length, every run the tokenizer would choke on broken up."""
    text = _REPEATED_MARK.sub(_keeping(MAX_REPEAT), text)
    text = _MARKS.sub(_keeping(MAX_MARKS), text)
    return _LONG_RUN.sub(_split_run, text)
