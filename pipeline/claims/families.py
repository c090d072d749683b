"""Outlet families: which reports of a strike are independent of each other.

Two reports are in one family when any of these links them (union-find over the links):

* **one text**: their MinHash signatures (``signature``: ``NUM_PERM`` values over word
  ``SHINGLE``-grams of the text, datasketch) agree on at least ``DUP_JACCARD`` of their values,
  the estimate of the texts' Jaccard similarity: a syndicated copy, a story republished under
  another headline;
* **one wire story**: the texts credit the same agency ("KYIV (Reuters) -", "... AFP",
  ``vocab/agencies.tsv``), or the report is on the agency's own site;
* **one publisher**: their sites are one publisher's domains or editions (bbc.com and
  bbc.co.uk, edition.cnn.com and cnn.com; ``publisher_of``). Aggregators (``vocab/aggregators.tsv``)
  carry many publishers and link nothing.

``group_families(reports)`` names each family: ``wire:<agency>`` when a member credits one,
else ``publisher:<name>`` of its first report, else ``text:<first article id>``. An incident's
``independent_sources`` is the number of its families. ``FamilyIndex`` does the same for a long
history of reports (LSH over the signatures, so a new report costs the same at 100k reports of
history as at 10: ``bench/bench_claims.py``).

    provenance_of(article)              -> Provenance(publisher, credit, signature)
    group_families([Report(...), ...])  -> ([SourceFamily, ...], {article_id: family id})
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import numpy as np

from strikewatch.core.models import Article, Provenance, SourceFamily, outlet_of

VOCAB = Path(__file__).with_name("vocab")
# MinHash values per signature: 64 estimate a Jaccard similarity to +/- 0.06 (one standard
# error at J=0.5), plenty to tell a copy (J > 0.8 measured on the test streams' copies with
# another headline and lead) from another outlet's wording of the same facts (J < 0.1).
NUM_PERM = 64
SCHEME = "affine32"  # datasketch 2.0's default hash scheme: 32-bit values (a signature is 4 bytes per value)
# Words per shingle: short enough that a changed word spoils 4 shingles, long enough that common
# phrases do not match.
SHINGLE = 4
# Share of equal MinHash values from which two texts are one text. 0.5: a copy trimmed to its
# first half, or carrying a different lead paragraph, still counts (J 0.5-0.9); two outlets'
# own reports of one strike share a few phrases ("the regional governor said") and stay below 0.15.
DUP_JACCARD = 0.5
MIN_WORDS = 12  # a text shorter than this has no signature: too few shingles to tell a copy
# A credit is a dateline credit near the top ("KYIV, Jan 14 (Reuters) -") or a credit line at the end.
CREDIT_HEAD_CHARS = 400
CREDIT_TAIL_CHARS = 300
# Second-level public suffixes under which the publisher is the third label from the right (bbc.co.uk).
SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "gen", "info"})
# Subdomains that are an edition or a format of the same site.
EDITION_LABELS = frozenset(
    {"www", "m", "mobile", "amp", "edition", "international", "uk", "us", "eu", "en", "news", "beta"}
)


@lru_cache(maxsize=1)
def agencies() -> dict[str, tuple[str, re.Pattern, re.Pattern]]:
    """agency -> (label, head pattern, tail pattern) from ``vocab/agencies.tsv``."""
    out = {}
    for line in (VOCAB / "agencies.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, label, names = line.split("\t")
        alts = "|".join(re.escape(n) for n in sorted(names.split("|"), key=len, reverse=True))
        # "(Reuters) -", "(AP) —", "/AFP/", "- AFP" in the dateline.
        head = re.compile(rf"(?:\((?:{alts})\)|/(?:{alts})/|[-–—]\s*(?:{alts})\s*[-–—])")
        # "(Reporting by ...; Editing by ...)" is Reuters' tail; others sign "© AFP", "- AFP",
        # "Copyright ... Associated Press".
        tail = re.compile(
            rf"(?:©\s*(?:\d{{4}}\s+)?(?:{alts})\b|\bcopyright\b[^\n]{{0,40}}\b(?:{alts})\b|"
            rf"(?:^|\n|[-–—]\s*)(?:{alts})\s*$|"
            rf"\b(?:{alts}) contributed to this report)",
            re.I if key not in ("ap", "aa", "pa") else 0,
        )
        out[key] = (label, head, tail)
    out["reuters"] = (
        out["reuters"][0],
        out["reuters"][1],
        re.compile(out["reuters"][2].pattern + r"|\(Reporting by [^)]*\)", re.I),
    )
    return out


def credit_of(text: str) -> str | None:
    """The wire agency the text credits (its dateline or credit line), or None."""
    head, tail = text[:CREDIT_HEAD_CHARS], text[-CREDIT_TAIL_CHARS:].rstrip()
    for key, (_label, head_re, tail_re) in agencies().items():
        if head_re.search(head) or tail_re.search(tail):
            return key
    return None


def _tsv(name: str) -> list[list[str]]:
    rows = (VOCAB / name).read_text(encoding="utf-8").splitlines()
    return [r.split("\t") for r in rows if r.strip() and not r.startswith("#")]


@lru_cache(maxsize=1)
def _publishers() -> dict[str, str]:
    return {r[0]: r[1] for r in _tsv("publishers.tsv")}


@lru_cache(maxsize=1)
def _aggregators() -> frozenset[str]:
    return frozenset(r[0] for r in _tsv("aggregators.tsv"))


def registrable(host: str) -> str:
    """The host's registrable domain: ``edition.cnn.com`` -> ``cnn.com``, ``news.bbc.co.uk`` -> ``bbc.co.uk``."""
    labels = host.lower().strip(".").split(".")
    if len(labels) >= 3 and labels[-2] in SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def publisher_of(outlet: str | None) -> str | None:
    """One name for a publisher's domains and editions: the table's, else the registrable
    domain's first label (``bbc.co.uk`` and ``bbc.com`` -> ``bbc``). None for no outlet and for
    aggregators, which publish everyone's stories."""
    if not outlet:
        return None
    host = outlet.lower()
    reg = registrable(host)
    if host in _aggregators() or reg in _aggregators():
        return None
    table = _publishers()
    if host in table:
        return table[host]
    if reg in table:
        return table[reg]
    return reg.split(".")[0]


_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=1)
def _permutations():
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, scheme=SCHEME).permutations  # made once: ~0.1 ms each time otherwise


def signature(text: str) -> str | None:
    """MinHash of the text's word shingles, base64 of ``NUM_PERM`` uint32 values; None for a
    text under ``MIN_WORDS`` words."""
    from datasketch import MinHash

    words = _WORD.findall(text.lower())
    if len(words) < MIN_WORDS:
        return None
    shingles = {" ".join(words[i : i + SHINGLE]).encode("utf-8") for i in range(len(words) - SHINGLE + 1)}
    m = MinHash(num_perm=NUM_PERM, permutations=_permutations(), scheme=SCHEME)
    m.update_batch(list(shingles))
    return base64.b64encode(m.hashvalues.astype("<u4").tobytes()).decode("ascii")


def values(sig: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(sig), dtype="<u4")


def jaccard(a: str | None, b: str | None) -> float:
    """Estimated Jaccard similarity of two signatures' texts (0 when either has none)."""
    if not a or not b:
        return 0.0
    va, vb = values(a), values(b)
    return float(np.mean(va == vb)) if len(va) == len(vb) else 0.0


def provenance_of(article: Article) -> Provenance:
    """Publisher, credited agency and text signature of an article."""
    body = article.body or article.text
    return Provenance(
        publisher=publisher_of(outlet_of(article.canonical_url)), credit=credit_of(body), signature=signature(body)
    )


# --------------------------------------------------------------------------- grouping


@dataclass(frozen=True)
class Report:
    """What grouping needs of one report."""

    article_id: str
    outlet: str | None = None
    provenance: Provenance | None = None
    at: datetime | None = None  # published, else seen


class _UnionFind:
    def __init__(self):
        self.parent: dict = {}

    def find(self, x):
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def link_keys(r: Report) -> list[str]:
    """The wire and publisher keys a report shares with its family."""
    p = r.provenance or Provenance()
    publisher = p.publisher if p.publisher is not None else publisher_of(r.outlet)
    keys = []
    if p.credit:
        keys.append(f"wire:{p.credit}")
    if publisher:
        # The agency's own site is its wire (reuters.com and "(Reuters) -" on yahoo.com).
        keys.append(f"wire:{publisher}" if publisher in agencies() else f"publisher:{publisher}")
    return keys


def _label(fid: str) -> str:
    kind, _, name = fid.partition(":")
    if kind == "wire" and name in agencies():
        return f"{agencies()[name][0]} (wire)"
    return name


def _name(members: list[Report], keys: set[str]) -> str:
    wires = sorted(k for k in keys if k.startswith("wire:"))
    if wires:
        return wires[0]
    first = members[0]
    for k in link_keys(first):
        return k
    return f"text:{first.article_id}"


def group_families(reports: list[Report]) -> tuple[list[SourceFamily], dict[str, str]]:
    """The families of a few reports (an incident's sources), pairwise: ([SourceFamily] in order
    of their first report, {article_id: family id})."""
    order = sorted(range(len(reports)), key=lambda i: (reports[i].at is None, reports[i].at or 0, i))
    reports = [reports[i] for i in order]
    uf = _UnionFind()
    for i, r in enumerate(reports):
        uf.find(("r", i))
        for k in link_keys(r):
            uf.union(("k", k), ("r", i))
    sigs = [
        (i, values(r.provenance.signature)) for i, r in enumerate(reports) if r.provenance and r.provenance.signature
    ]
    if len(sigs) > 1:
        mat = np.stack([v for _i, v in sigs])
        same = (mat[:, None, :] == mat[None, :, :]).mean(axis=2) >= DUP_JACCARD
        for a, b in zip(*np.nonzero(np.triu(same, 1))):
            uf.union(("r", sigs[a][0]), ("r", sigs[b][0]))
    comps: dict = {}
    for i in range(len(reports)):
        comps.setdefault(uf.find(("r", i)), []).append(i)
    keys_of: dict = {}
    for node in list(uf.parent):
        if node[0] == "k":
            keys_of.setdefault(uf.find(node), set()).add(node[1])
    families, member_of = [], {}
    for root, idx in comps.items():
        members = [reports[i] for i in idx]
        fid = _name(members, keys_of.get(root, set()))
        outlets = [m.outlet for m in members if m.outlet]
        label = _label(fid) if fid.startswith("wire:") or not outlets else outlets[0]
        families.append(
            SourceFamily(
                id=fid,
                label=label,
                first_report_at=members[0].at,
                articles=list(dict.fromkeys(m.article_id for m in members)),
                outlets=list(dict.fromkeys(m.outlet for m in members if m.outlet)),
            )
        )
        for m in members:
            member_of[m.article_id] = fid
    return families, member_of


class FamilyIndex:
    """Families over a long history of reports: LSH (datasketch ``MinHashLSH``, threshold
    ``DUP_JACCARD``) finds a new report's copies without comparing it with every report; wire
    and publisher keys link through a dict. ``add`` returns the report's family id (the root's
    name; two families merge when a report links both)."""

    def __init__(self, threshold: float = DUP_JACCARD):
        from datasketch import MinHashLSH

        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._uf = _UnionFind()
        self._name: dict = {}  # root node -> family id
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def add(self, r: Report) -> str:
        from datasketch import MinHash

        node = ("r", r.article_id)
        if node in self._uf.parent:
            return self.family(r.article_id)
        self._n += 1
        self._uf.find(node)
        keys = link_keys(r)
        for k in keys:
            if ("k", k) in self._uf.parent:
                self._join(("k", k), node)
            else:
                self._uf.union(node, ("k", k))
        sig = r.provenance.signature if r.provenance else None
        if sig:
            m = MinHash(
                num_perm=NUM_PERM, hashvalues=values(sig).astype(np.uint64), permutations=_permutations(), scheme=SCHEME
            )
            for other in self._lsh.query(m):
                self._join(("r", other), node)
            self._lsh.insert(r.article_id, m, check_duplication=False)
        root = self._uf.find(node)
        wires = [k for k in keys if k.startswith("wire:")]
        if root not in self._name or (wires and not self._name[root].startswith("wire:")):
            self._name[root] = wires[0] if wires else (keys[0] if keys else f"text:{r.article_id}")
        return self._name[root]

    def _join(self, older, newer) -> None:
        ra, rb = self._uf.find(older), self._uf.find(newer)
        if ra == rb:
            return
        name = self._name.get(ra) or self._name.get(rb)
        if self._name.get(rb, "").startswith("wire:") and not (name or "").startswith("wire:"):
            name = self._name[rb]
        self._uf.parent[rb] = ra
        self._name.pop(rb, None)
        if name:
            self._name[ra] = name

    def family(self, article_id: str) -> str:
        return self._name.get(self._uf.find(("r", article_id)), f"text:{article_id}")
