"""``strike_roles``: who struck and what was struck, from the dependency parse ->
``doc.spans["sw_role_rules"]`` (features of the learned choice, ``model.py``; label ``attacker``,
``target`` or ``bystander``; ``span.id_`` is the start character of the trigger it belongs to;
``span._.sw_actor`` the ``Actor``).

For each trigger, the predicate is found first:

* a strike verb ("shelled", "bombed", "struck"): itself;
* a strike noun that is the subject of a verb ("airstrikes hit the depot"), the object of
  a light verb ("carried out airstrikes", "launched rockets") or inside "in/by" an attack
  ("killed in an airstrike", "hit by a missile"): that verb.

Then, in the active voice the verb's subject is the attacker and its object the target;
in the passive the "by" agent attacks and the subject was struck. "on/against/at/
targeting X" after the verb or the noun name targets, "by X" after the noun and a
possessive or country before it ("Russia's airstrikes") the attacker. Coordination
yields every member: "Afghan and coalition forces" -> Afghan forces, coalition forces.
Blame names the attacker ("X claimed responsibility for the attack", "X was behind it",
"blamed X for", "accused X of"); the subject of a reaction to the strike ("the UN
condemned the airstrike") is a bystander, which the assembly never makes its attacker.

A phrase that holds a gazetteer actor is that actor; a country or a country's forces
("the United States", "Salvadoran troops") is its state military; anything else keeps
its words ("urban guerrillas", "the Las Canas bridge").
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from strikewatch.core.models import Actor

from ...components import _geo
from ...components.base import Keys, SpanIndex, doc_text, sentences, set_group, text_span
from ..triggers.component import REFERENCE
from .heads import head_kinds, state_words

# Verbs whose subject, with a strike noun inside "in/by/during", was struck ("killed in an airstrike").
_IN_ATTACK_PREPS = frozenset({"in", "by", "during", "from", "after"})
_TARGET_PREPS = frozenset({"on", "against", "at", "targeting", "into", "upon", "toward", "towards"})
_SUBJ = frozenset({"nsubj", "csubj"})
_OBJ = frozenset({"dobj", "obj", "attr"})
# Dependents kept on the left of a phrase's head; "of"-phrases are kept on its right.
_LEFT_DEPS = frozenset(
    {"det", "amod", "compound", "nummod", "poss", "nmod", "quantmod", "case", "flat", "npadvmod", "predet"}
)
# Heads that never name a party: the attack itself, times, pronoun-like nouns.
_NOT_PARTY = frozenset(
    "attack attacks strike strikes airstrike airstrikes raid raids bombing bombings shelling fire time day night week "
    "morning evening area region side part one ones casualties casualty damage injuries losses deaths "
    "panic fear havoc destruction attempt attempts plot incident incidents operation operations action actions".split()
)
_CIVILIAN_HEADS = frozenset(
    "civilian civilians people resident residents villager villagers child children woman women man men family "
    "families worker workers student students peasant peasants passenger passengers".split()
)
# Heads that name a struck thing, not a party (Actor type "object").
_OBJECT_HEADS = frozenset(
    "building buildings depot depots warehouse warehouses facility facilities site sites base bases bridge bridges "
    "house houses home homes station stations plant plants factory factories school schools hospital hospitals "
    "market markets mosque mosques church churches office offices headquarters compound compounds post posts "
    "checkpoint checkpoints airport airports port ports vehicle vehicles car cars truck trucks convoy convoys "
    "tank tanks ship ships boat boats train trains tower towers pylon pylons line lines pipeline pipelines road "
    "roads camp camps position positions target targets installation installations embassy barracks".split()
)
_COPULAS = frozenset("be is are was were been being 's seem seems seemed".split())
# Nouns of an attack that a weapon can hang on ("attempt via drone", "attack with rockets").
_EVENT_NOUNS = frozenset(
    "attack attacks attempt attempts assault assaults plot raid raids strike strikes bombing bombings "
    "assassination".split()
)
_INSTRUMENT_PREPS = frozenset({"via", "with", "by", "using", "from", "of"})
# Relative pronouns: the subject of "which bombed" is the noun the clause hangs on.
_RELATIVE_PRONOUNS = frozenset({"which", "who", "that", "whom"})
# Verbs climbed to find a subject ("used mortars to attack": one; "ordered ... to launch
# ... and strike": two); three covered every control chain in the news_dev parses.
MAX_SUBJECT_HOPS = 3
# Modifiers of a strike noun that name the side that fired ("rebel mortar fire").
_PARTY_MODIFIERS = frozenset(
    "rebel rebels guerrilla guerrillas insurgent insurgents militant militants terrorist terrorists "
    "army military government regime jihadist jihadists separatist separatists militia militias "
    "enemy coalition police".split()
)
# Platforms: a relative clause on one ("gunships, which bombed") names its user's act.
_PLATFORM_HEADS = frozenset(
    "aircraft plane planes jet jets warplane warplanes helicopter helicopters gunship gunships drone drones "
    "bomber bombers fighter fighters tank tanks artillery ship ships warship warships boat boats".split()
)
# Reporting verbs: their subject is a source, not a party.
_REPORT_VERBS = frozenset(
    "say said tell told report claim announce allege accuse believe think add state confirm deny".split()
)
# Verbs whose subject puts a platform to use ("dispatched planes, which bombed").
_USE_VERBS = frozenset("use deploy send dispatch provide launch fire fly employ".split())
# Heads climbed from a platform to the verb it hangs on ("provided support with planes,
# gunships and other aircraft, which": four).
MAX_OWNER_HOPS = 6
# Longest phrase kept (tokens): longer subtrees are clauses, not names.
MAX_PHRASE_TOKENS = 8


def _head_noun(tok: Token) -> Token | None:
    return tok if tok.pos_ in ("NOUN", "PROPN", "NUM") or tok.tag_ in ("NNS", "NNPS") else None


def predicate(trigger: Span) -> tuple[Token | None, Token | None, str]:
    """(verb, strike noun, how the noun hangs on the verb) of a trigger: the verb whose
    arguments are the parties. The relation is "verb" (the trigger is the verb),
    "subject" ("airstrikes hit"), "object" ("launched airstrikes"), "in" ("killed in an
    airstrike"), "with" ("attacked the post with mortars") or "" (no verb found)."""
    # A trigger phrase that opens with the weapon an event noun takes ("an assassination
    # attempt via drone ... when a device carrying explosives detonated"): that event noun
    # has the parties, not the verb of the clause the phrase runs on into.
    first = trigger[0]
    if (
        first.dep_ == "pobj"
        and first.head.lower_ in _INSTRUMENT_PREPS
        and first.head.head.lower_ in _EVENT_NOUNS
        and len(trigger) > 1
    ):
        return predicate(trigger.doc[first.i : first.i + 1])
    if first.lower_ in _EVENT_NOUNS and first.pos_ == "NOUN" and len(trigger) > 1:
        return predicate(
            trigger.doc[first.i : first.i + 1]
        )  # "attempt in Caracas on the president, ... using two drones"
    # "drones armed with explosives were used ...", "two of their drones laden with
    # explosives": the participle describes the platform; the platform noun (or the
    # quantity it is counted by) is what hangs on the predicate.
    if (
        len(trigger) > 1
        and any(t.lower_ in _DESCRIPTIVE for t in trigger)
        and not any(
            t.pos_ == "VERB" and t.lower_ not in _DESCRIPTIVE and t.lower_ not in _PLATFORM_HEADS for t in trigger
        )
    ):
        platform = next((t for t in trigger if t.lower_ in _PLATFORM_HEADS and t.pos_ in ("NOUN", "PROPN")), None)
        if platform is not None:
            if (
                platform.dep_ == "pobj"
                and platform.head.lower_ == "of"
                and platform.head.head.pos_ in ("NUM", "PRON", "NOUN")
            ):
                platform = platform.head.head  # "two of their drones"
            head = platform.head
            if platform.dep_ == "nsubj" and head.lower_ in _DESCRIPTIVE:
                # The parser made the participle the platform's verb ("drones packed with
                # explosives | flew toward X"): the verb it hangs the clause on is the predicate.
                verb = next(
                    (
                        c
                        for c in head.children
                        if c.dep_ in ("dep", "conj", "advcl", "xcomp")
                        and c.pos_ == "VERB"
                        and c.lower_ not in _DESCRIPTIVE
                    ),
                    None,
                )
                if verb is not None:
                    return verb, platform, "subject"
            return predicate(trigger.doc[platform.i : platform.i + 1])
    tok = trigger.root
    if tok.pos_ in ("VERB", "AUX") and tok.lower_ not in _PLATFORM_HEADS:  # a headline's "to drone" is a tagging error
        return tok, None, "verb"
    # A trigger phrase that ends in its verb ("gunships ... bombed", "planes to bombard"):
    # that verb, whose own subject and object are the parties.
    verbs = [t for t in trigger if t.pos_ == "VERB" and t.lower_ not in _PLATFORM_HEADS]  # not "to drone attacks"
    if verbs:
        return verbs[-1], None, "verb"
    # "mortar fire", "a drone attack", "rocket launchers": the noun the trigger modifies.
    while tok.dep_ in ("compound", "amod", "nmod") and tok.head != tok and tok.head.pos_ in ("NOUN", "PROPN"):
        tok = tok.head
    # "an assassination attempt via drone", "an attack from two drones": the event noun the
    # weapon hangs on has the parties ("... attempt on President Maduro").
    if (
        tok.dep_ == "pobj"
        and tok.head.dep_ == "prep"
        and tok.head.lower_ in _INSTRUMENT_PREPS
        and tok.head.head.lower_ in _EVENT_NOUNS
    ):
        tok = tok.head.head
    noun, head = tok, tok.head
    if noun.dep_ == "pobj" and head.lower_ == "under" and head.head.pos_ in ("VERB", "AUX"):
        return head.head, noun, "under"  # "came under attack": its subject was attacked
    if noun.dep_ in ("nsubj", "nsubjpass") and head.pos_ in ("VERB", "AUX"):
        return head, noun, "subject"
    if noun.dep_ in _OBJ and head.pos_ == "VERB":
        return head, noun, "object"
    if noun.dep_ == "pobj" and head.dep_ == "prep" and head.head.pos_ == "VERB":
        if head.lower_ in _IN_ATTACK_PREPS:
            return head.head, noun, "in"
        if head.lower_ in ("with", "using"):
            return head.head, noun, "with"
    if noun.dep_ == "dobj" and head.lower_ == "using" and head.head.pos_ == "VERB":
        return head.head, noun, "with"  # "the air force, using helicopter gunships, bombed ..."
    if noun.dep_ == "conj" and noun.head.pos_ in ("NOUN", "PROPN"):
        verb, _n, rel = predicate(noun.doc[noun.head.i : noun.head.i + 1])
        return verb, noun, rel
    return None, noun, ""


# Intransitive verbs whose subject suffered the strike ("five died in an airstrike").
_SUFFER_VERBS = frozenset("die perish suffer burn collapse".split())
# Verbs whose subject was the target of the attack they take as object ("Maduro survived a drone attack").
_UNDERGO_VERBS = frozenset("survive escape suffer sustain endure withstand face repel repulse".split())


def _is_verb(tok: Token, bases: frozenset) -> bool:
    """Is the token an inflection of one of ``bases``? (The pipeline runs without the
    lemmatizer: "survived", "dies", "suffering" are folded here.)"""
    w = tok.lower_
    forms = {w, w[:-1], w[:-2], w[:-3], w[:-3] + "e", w[:-2] + "e", w[:-3] + "y"} if len(w) > 3 else {w}
    if (
        len(w) > 5
        and w.endswith(("ing", "ed"))
        and w[-4 if w.endswith("ing") else -3] == w[-5 if w.endswith("ing") else -4]
    ):
        forms.add(w[:-4] if w.endswith("ing") else w[:-3])  # "hitting", "planned"
    return bool(forms & bases)


def _passive(verb: Token) -> bool:
    return any(c.dep_ in ("nsubjpass", "auxpass") for c in verb.children)


def _members(tok: Token) -> list[Token]:
    """The token, its conjuncts ("X and Y") and appositions ("Venezuela's president,
    Nicolás Maduro")."""
    out, todo = [], [tok]
    while todo:
        t = todo.pop()
        out.append(t)
        todo.extend(c for c in t.children if c.dep_ in ("conj", "appos"))
    return sorted(out, key=lambda t: t.i)


def _pobjs(tok: Token, preps: frozenset) -> list[Token]:
    out = []
    for c in tok.children:
        if c.dep_ == "prep" and c.lower_ in preps:
            out.extend(g for g in c.children if g.dep_ == "pobj")
        elif c.dep_ in ("advcl", "xcomp", "acl") and c.lower_ == "targeting":
            out.extend(g for g in c.children if g.dep_ in _OBJ)
    return out


def _subjects(verb: Token, noun: Token | None) -> list[Token]:
    """The verb's subject; a relative pronoun stands for the noun the clause describes
    ("guerrillas, who attacked"), and a verb with none takes the subject of the verb it
    depends on ("the guerrillas used mortars to attack", "bombed and strafed")."""
    for hop in range(MAX_SUBJECT_HOPS):
        subj = [c for c in verb.children if c.dep_ in _SUBJ and c != noun]
        if hop and _is_verb(verb, _REPORT_VERBS):
            # "militias that the Pentagon said carried out drone strikes": who says so is
            # no attacker (the parser hangs the strike verb on "said" as its xcomp).
            subj = [c for c in subj if c.lower_ in _RELATIVE_PRONOUNS]
            if not subj:
                return []
        if subj:
            return [_antecedent(verb) if _relative(s, verb) else s for s in subj]
        if verb.dep_ not in ("xcomp", "conj", "advcl") or verb.head.pos_ not in (
            "VERB",
            "AUX",
        ):  # ROOT: no head to climb
            return []
        verb = verb.head
    return []


def _relative(subj: Token, verb: Token) -> bool:
    """Is ``subj`` the relative pronoun of the clause ``verb`` heads ("guerrillas, who attacked")?"""
    return subj.lower_ in _RELATIVE_PRONOUNS and verb.dep_ == "relcl"


def _antecedent(relcl: Token) -> Token:
    """What a relative clause's pronoun stands for. A platform ("planes ..., which bombed")
    is no party: its user is, the subject of the verb the platform hangs on ("the air force
    provided support with planes, which bombed")."""
    ante = relcl.head
    if ante.lower_ not in _PLATFORM_HEADS:
        return ante
    tok, instrument = ante, False
    for _hop in range(MAX_OWNER_HOPS):
        if tok.dep_ not in ("conj", "appos", "pobj", "dobj", "prep"):  # ROOT included: nothing above it
            break
        instrument = instrument or (tok.dep_ == "prep" and tok.lower_ in ("with", "using"))
        tok = tok.head
        if tok.pos_ in ("VERB", "AUX"):
            # Only the platform's user: it is the verb's instrument ("with planes") or what
            # the verb sends ("dispatched planes"), not something said of it ("identified a
            # sensor on one of the drones, which exploded").
            subj = [c for c in tok.children if c.dep_ in _SUBJ]
            if subj and (instrument or _is_verb(tok, _USE_VERBS)):
                return subj[0]
            break
    return ante


def _objects(verb: Token, noun: Token | None) -> list[Token]:
    """The verb's objects, or those of a verb coordinated with it ("bombed and strafed the
    population": the shared object hangs on the last verb)."""
    # "the drone attack was an attempt to kill me": a copula's complement is no target.
    objs = [
        c for c in verb.children if c.dep_ in _OBJ and c != noun and not (c.dep_ == "attr" and verb.lower_ in _COPULAS)
    ]
    if not objs:
        objs = [g for c in verb.children if c.dep_ == "conj" and c.pos_ == "VERB" for g in c.children if g.dep_ in _OBJ]
    return objs


def _modifier_attackers(noun: Token) -> list[Token]:
    """Parties named as modifiers of the strike noun: "rebel mortar fire", "Russian
    shelling", "guerrilla attacks", "Hamas rocket fire"."""
    out = []
    for c in noun.children:
        if c.dep_ in ("amod", "compound", "nmod") and (
            c.lower_ in _PARTY_MODIFIERS or (c.ent_type_ == "NORP" and _geo.country_of(c.text) is not None)
        ):
            out.append(c)
    return out


def arguments(trigger: Span) -> tuple[list[Token], list[Token], list[Token]]:
    """Head tokens of the attacker, target and bystander phrases of one trigger (a
    bystander reacts to the strike, "Russia condemned the drone attack": no attacker)."""
    verb, noun, rel = predicate(trigger)
    attackers: list[Token] = []
    targets: list[Token] = []
    bystanders: list[Token] = []
    if verb is not None and rel == "object" and _is_verb(verb, _REACTION_VERBS):
        # "the UN condemned the airstrike on a hospital", "police are investigating the
        # rocket attack": the subject reacts to the strike, the strike's own parties are
        # the noun's ("by X", "Russian", "on X") below.
        bystanders += _subjects(verb, noun)
        targets += _pobjs(noun, _TARGET_PREPS) if noun is not None else []
        if _is_verb(verb, _BLAME_VERBS):
            attackers += _pobjs(verb, frozenset({"on"}))  # "blamed the attack on X"
        verb = None
    if verb is not None:
        kids = list(verb.children)
        if _passive(verb):
            attackers += _agents(verb)
            if rel != "subject":
                subj = [c for c in kids if c.dep_ == "nsubjpass"]
                targets += [verb.head if _relative(s, verb) else s for s in subj]  # "the base, which was shelled"
        else:
            subj = _subjects(verb, noun)
            if (
                (rel == "in" and _is_verb(verb, _SUFFER_VERBS))
                or (rel == "object" and _is_verb(verb, _UNDERGO_VERBS))
                or rel == "under"
            ):
                targets += subj
            elif rel != "subject":  # "airstrikes hit X": the noun is the subject; its owner attacks (below)
                attackers += subj
            targets += _objects(verb, noun)
            if _is_verb(verb, _USE_VERBS):  # "used mortars to attack the post": the purpose clause's object
                targets += [
                    o for c in kids if c.dep_ in ("xcomp", "advcl") and c.pos_ == "VERB" for o in _objects(c, noun)
                ]
            if _is_verb(verb, _ASPECT_VERBS):  # "began bombing and firing rockets against a settlement"
                for c in kids:
                    if c.dep_ == "xcomp" and c.pos_ == "VERB":
                        targets += _objects(c, noun) + _pobjs(c, _TARGET_PREPS)
                        targets += [
                            t
                            for g in c.children
                            if g.dep_ == "conj" and g.pos_ == "VERB"
                            for t in _pobjs(g, _TARGET_PREPS)
                        ]
        targets += _pobjs(verb, _TARGET_PREPS)
        # "began bombing and firing rockets against a settlement": coordinated verbs share it.
        targets += [t for c in kids if c.dep_ == "conj" and c.pos_ == "VERB" for t in _pobjs(c, _TARGET_PREPS)]
        # "fired mortar rounds at random, falling on private homes", "..., hitting a school":
        # where the munitions came down was struck.
        for c in kids:
            if c.dep_ in ("advcl", "xcomp", "conj") and c.pos_ == "VERB" and _is_verb(c, _IMPACT_VERBS):
                targets += _pobjs(c, _TARGET_PREPS) + [o for o in c.children if o.dep_ in _OBJ]
        # "were used in an assassination attempt against X", "took part in an attack on X":
        # the event noun's own parties.
        for event in _pobjs(verb, frozenset({"in"})):
            if event.lower_ in _EVENT_NOUNS and event is not noun:
                targets += _pobjs(event, _TARGET_PREPS)
                attackers += _pobjs(event, frozenset({"by"}))
    if noun is not None:
        attackers += _pobjs(noun, frozenset({"by", "from"}))
        attackers += [c for c in noun.children if c.dep_ == "poss"]
        targets += _pobjs(noun, _TARGET_PREPS)
        targets += _target_of(noun)
        attackers += _organizer_of(noun) + _responsible_for(noun) + _laid_on(noun)
    # A platform that struck is no party; whose it is says who did: "drones launched by
    # Russia hit Kyiv", "Russia's drones hit Kyiv".
    attackers += [
        o
        for a in attackers
        if a.lower_ in _PLATFORM_HEADS
        for o in _laid_on(a) + [c for c in a.children if c.dep_ == "poss"]
    ]
    targets += _harmed(trigger)
    modifiers = _modifier_attackers(noun) if noun is not None else []  # adjectives: kept without the noun test
    heads_a = [m for a in attackers for m in _members(a)]
    heads_t = [m for t in targets for m in _members(_thing_meant(t))]
    out_a = [
        h
        for h in heads_a
        if (_party(h) or _state_adjective(h) or h.lower_ in GROUP_PRONOUNS) and h.lower_ not in _ORGANIZERS
    ]
    if not out_a and not modifiers:
        out_a = _perpetrators_in(trigger.sent)
    heads_b = [m for b in bystanders for m in _members(b)]
    return (
        out_a + modifiers,
        [h for h in heads_t if _party(h) and h not in heads_a],
        [h for h in heads_b if _party(h) and h not in out_a],
    )


# Participles that describe a platform in a trigger phrase ("drones packed with explosives").
_DESCRIPTIVE = frozenset("packed armed laden loaded rigged strapped equipped fitted filled".split())
# Verbs of a phase of the strike ("began bombing", "resumed shelling"): the strike verb is their clause.
_ASPECT_VERBS = frozenset("begin began start continue resume keep renew intensify".split())
# Verbs of where a munition came down, in a clause of the strike verb.
_IMPACT_VERBS = frozenset("fall land hit strike crash impact slam".split())
VICTIM = "victim"
# Label of a party that reacts to a strike ("the UN condemned the airstrike"): never its attacker.
BYSTANDER = "bystander"
# The ranker's answers where the rules have none (facts/parties/rank.py, decide="fill"):
# the assembly takes them only for a trigger left with no attacker, or no target.
FALLBACK_ATTACKER = "attacker_fallback"
FALLBACK_TARGET = "target_fallback"
# Pronoun attackers ("they fired mortar rounds", a communiqué's "we bombed"): kept as
# written; the article's one named armed group stands for them (assemble.event.named_group),
# else they name no one.
GROUP_PRONOUNS = frozenset({"they", "we"})
# Verbs whose passive subject the strike harmed ("several houses were damaged", "a guard
# was wounded"): MUC-4's targets include its victims, and so do ACLED's and the users'.
_HARM_VERBS = frozenset("kill wound injure damage destroy raze flatten demolish hit burn".split())


# Pronouns that stand for a struck thing ("left the church after it was bombed"); "they"
# is no target here: as a subject it is the attacker (GROUP_PRONOUNS).
_THING_PRONOUNS = {"it": False, "them": True}  # pronoun -> plural
# Sentences searched back for what a pronoun stands for: its own and the one before
# (news_dev's pronoun targets all named theirs there).
PRONOUN_SENTENCES = 2


def _thing_meant(tok: Token) -> Token:
    """A target pronoun's antecedent: the nearest noun before it, in its sentence or the one
    before, that names a struck thing or people ("the Santa Maria church in the La Chacra
    area ... after it was bombed" -> church), agreeing in number; else the pronoun, which
    names no party."""
    plural = _THING_PRONOUNS.get(tok.lower_)
    if plural is None or tok.pos_ != "PRON":
        return tok
    sent = tok.sent
    start = sent.start
    if PRONOUN_SENTENCES > 1 and start > 0:
        start = tok.doc[start - 1].sent.start
    heads = _OBJECT_HEADS | (_CIVILIAN_HEADS if plural else frozenset())
    for i in range(tok.i - 1, start - 1, -1):
        c = tok.doc[i]
        if (
            c.lower_ in heads
            and c.pos_ == "NOUN"
            and c.dep_ not in ("compound", "amod")
            and (c.tag_ == "NNS") == plural
        ):
            return c
    return tok


def _harmed(trigger: Span) -> list[Token]:
    """Passive subjects of harm verbs in the trigger's sentence ("500 homes ... were
    destroyed as a result of bomb strikes"; "five people were killed and 14 civilians
    wounded when the camp was attacked")."""
    return harmed_in(trigger.sent)


def harmed_in(sent: Span) -> list[Token]:
    """Passive subjects of the harm verbs of one sentence."""
    out = []
    for tok in sent:
        if tok.pos_ == "VERB" and _is_verb(tok, _HARM_VERBS) and (tok.tag_ == "VBN" or _passive(tok)):
            subj = [c for c in tok.children if c.dep_ == "nsubjpass"]
            if not subj and tok.dep_ == "conj" and tok.head.pos_ == "VERB" and _passive(tok.head):
                continue  # "killed and wounded": the subject hangs on the first verb, seen there
            out += [tok.head if _relative(x, tok) else x for x in subj]
    return out


_ORGANIZERS = frozenset(
    "organizer organiser organizers organisers perpetrator perpetrators mastermind masterminds planner planners "
    "author authors".split()
)


def _organizer_of(noun: Token) -> list[Token]:
    """ "X, the organizer of the attack", "X claimed to be the organizer of the attempt",
    "a man claiming to be the organizer of the attempt": X."""
    prep = noun.head
    if not (noun.dep_ == "pobj" and prep.lower_ == "of" and prep.head.lower_ in _ORGANIZERS):
        return []
    role = prep.head
    if role.dep_ == "appos":
        return [role.head]
    if role.dep_ != "attr":
        return []
    verb = role.head
    for _hop in range(MAX_SUBJECT_HOPS):
        subj = [c for c in verb.children if c.dep_ in _SUBJ]
        if subj:
            return subj
        if verb.dep_ == "acl" and verb.head.pos_ in ("NOUN", "PROPN"):
            return [verb.head]  # "a man claiming to be the organizer": the noun the clause describes
        if verb.dep_ != "xcomp":
            break
        verb = verb.head  # "claimed to be the organizer": the claimant is who it says organized it
    return []


def _perpetrators_in(sent: Span) -> list[Token]:
    """ "clues about the perpetrators of the Aug. 4 assault": a sentence that reports a
    strike and names who did an attack it speaks of (the same one: news names an attack
    twice in a sentence, "who was behind the drone attack ... the perpetrators of the
    assault") names that attack's attacker, or at least that there is one: the
    organizer noun itself, when nothing in the clause says who."""
    out: list[Token] = []
    for tok in sent:
        if (
            tok.lower_ not in _EVENT_NOUNS
            or tok.dep_ != "pobj"
            or tok.head.lower_ != "of"
            or tok.head.head.lower_ not in _ORGANIZERS
        ):
            continue
        named = [h for a in _organizer_of(tok) for h in _members(a) if _party(h) and h.lower_ not in _ORGANIZERS]
        out += named or [tok.head.head]
    return out


# Verbs whose subject reacts to a strike it takes as object ("condemned the airstrike").
_REACTION_VERBS = frozenset(
    "condemn denounce deplore decry criticize criticise protest investigate probe describe witness film record "
    "document discuss mourn regret welcome reject dismiss blame".split()
)
# Nouns and verbs of blame: "claimed responsibility for", "blamed X for", "accused X of".
_RESPONSIBILITY_NOUNS = frozenset({"responsibility", "credit"})
_CLAIM_VERBS = frozenset("claim take assume accept".split())
_BLAME_VERBS = frozenset("blame accuse suspect".split())
_HOLD_RESPONSIBLE_VERBS = _BLAME_VERBS | {"hold"}  # "held X responsible for"


# Participles on a strike noun that say whose it was: "an airstrike blamed on the
# coalition", "attributed to", "carried out by", "claimed by".
_LAID_ON = frozenset({"blamed", "attributed", "ascribed"})


def _laid_on(noun: Token) -> list[Token]:
    """ "an airstrike blamed on X", "a strike attributed to X", "an attack carried out /
    claimed / launched by X": X."""
    out: list[Token] = []
    for c in noun.children:
        if c.dep_ != "acl" or c.pos_ != "VERB":
            continue
        if c.lower_ in _LAID_ON:
            out += _pobjs(c, frozenset({"on", "to"}))
        out += _agents(c)
    return out


def _agents(verb: Token) -> list[Token]:
    """The "by" agents of a passive verb or participle ("bombed by the air force")."""
    return [g for a in verb.children if a.dep_ == "agent" for g in a.children if g.dep_ == "pobj"]


def _responsible_for(noun: Token) -> list[Token]:
    """Who an attack is laid on: "X claimed responsibility for the attack", "X was behind
    the attack", "X is responsible for the strike", "blamed X for the attack", "accused
    X of the attack", "X was blamed for the strikes"."""
    prep = noun.head
    if noun.dep_ != "pobj" or prep.dep_ != "prep":
        return []
    head, p = prep.head, prep.lower_
    if p == "behind" and head.lower_ in _COPULAS:
        return _subjects(head, noun)
    if p == "for" and head.lower_ in _RESPONSIBILITY_NOUNS and head.dep_ in _OBJ and _is_verb(head.head, _CLAIM_VERBS):
        return _subjects(head.head, noun)
    if p == "for" and head.lower_ == "responsible":
        if head.dep_ == "acomp" and head.head.lower_ in _COPULAS:
            return _subjects(head.head, noun)
        if head.dep_ in ("oprd", "ccomp", "xcomp") and _is_verb(head.head, _HOLD_RESPONSIBLE_VERBS):
            return [c for c in head.head.children if c.dep_ in ("dobj", "nsubjpass")]  # "held X responsible for"
        return []
    if p in ("for", "of") and head.pos_ == "VERB" and _is_verb(head, _BLAME_VERBS):
        return [c for c in head.children if c.dep_ in ("dobj", "nsubjpass")]
    return []


def _target_of(noun: Token) -> list[Token]:
    """ "X (, which) was the target of rebel mortar fire": X."""
    prep = noun.head
    if not (noun.dep_ == "pobj" and prep.lower_ == "of" and prep.head.lower_ in ("target", "targets", "object")):
        return []
    role = prep.head
    if role.dep_ != "attr" or role.head.lower_ not in _COPULAS:
        return []
    verb = role.head
    return [verb.head if _relative(c, verb) else c for c in verb.children if c.dep_ in _SUBJ]


def _state_adjective(tok: Token) -> bool:
    """A country's adjective standing for its forces in a coordination ("Afghan and coalition forces")."""
    return tok.ent_type_ == "NORP" and tok.dep_ in ("conj", *_SUBJ) and _geo.country_of(tok.text) is not None


_NOT_PARTY_ENTS = frozenset({"DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "PERCENT", "QUANTITY"})


def _party(tok: Token) -> bool:
    return tok.pos_ in ("NOUN", "PROPN") and tok.lower_ not in _NOT_PARTY and tok.ent_type_ not in _NOT_PARTY_ENTS


def phrases(head: Token) -> list[tuple[int, int, str]]:
    """(start, end, name) of the party headed by ``head``; modifiers coordinated before it
    distribute ("Afghan and coalition forces" -> "Afghan forces", "coalition forces", each
    with the modifier's offsets)."""
    left = [c for c in head.lefts if c.dep_ in _LEFT_DEPS]
    start = min([head.i] + [c.left_edge.i for c in left])
    end = head.i + 1
    for c in head.rights:
        if (
            c.dep_ == "prep" and c.lower_ == "of" and head.lower_ not in _ORGANIZERS
        ):  # "perpetrators", not "... of the assault"
            end = max(end, c.right_edge.i + 1)
    if end - start > MAX_PHRASE_TOKENS:
        start, end = max(start, head.i - 3), head.i + 1
    doc = head.doc
    mods = [c for c in left if c.dep_ in ("amod", "compound") and any(g.dep_ == "conj" for g in c.children)]
    if mods:
        out = []
        for m in _members(mods[0]):
            s, e = doc[m.left_edge.i].idx, m.idx + len(m.text)
            out.append((s, e, " ".join(f"{doc_text(doc)[s:e]} {head.text}".split())))
        return out
    while start < head.i and (
        doc[start].is_space or (doc[start].dep_ in ("det", "case", "predet") and doc[start].pos_ != "PROPN")
    ):
        start += 1
    s, e = doc[start].idx, doc[end - 1].idx + len(doc[end - 1].text)
    return [(s, e, " ".join(doc_text(doc)[s:e].split()))]


def _covers(index: SpanIndex, char: int) -> bool:
    """Does a span of the index cover this character? (spans are short: look 60 back)"""
    return any(s.start_char <= char < s.end_char for s in index.within(max(0, char - 60), char + 1))


def party_actor(doc: Doc, start: int, end: int, text: str, known: SpanIndex, head: Token) -> Actor:
    """The Actor a phrase names: a gazetteer actor inside it, a country's forces, or its words."""
    inside = [s for s in known.within(start, end) if s.end_char <= end] or [
        s for s in known.within(max(0, start - 40), end) if s.start_char <= start and s.end_char >= end
    ]
    if inside:
        return inside[-1]._.sw_actor
    words = text.split()
    country = _geo.country_of(" ".join(w for w in words if w.lower() != "the"))
    if country is None and len(words) >= 2:
        first = _geo.country_of(words[0]) or (_geo.country_of(words[1]) if words[0].lower() == "the" else None)
        if first is not None and head.lower_ in (
            "forces",
            "force",
            "troops",
            "army",
            "military",
            "soldiers",
            "police",
            "navy",
            "jets",
            "warplanes",
            "aircraft",
            "artillery",
            "guard",
            "units",
            "government",
            "regime",
        ):
            country = first
    if country is not None:
        return Actor(
            name=country[0], type="state_military", country=country[1], mentions=[text_span(doc_text(doc), start, end)]
        )
    state = state_forces(doc, words, head)
    if state is not None:
        return Actor(
            name=_geo.country_name(state) or state,
            type="state_military",
            country=state,
            mentions=[text_span(doc_text(doc), start, end)],
        )
    typ = "civilians" if head.lower_ in _CIVILIAN_HEADS else "object" if head.lower_ in _OBJECT_HEADS else "unknown"
    return Actor(name=text, type=typ, mentions=[text_span(doc_text(doc), start, end)])


# Determiners a state's forces may stand with ("the army"); a possessive ("our forces", in
# a rebel communiqué) or any other word names someone else.
_PLAIN_DETERMINERS = frozenset({"the", "a", "an"})


def state_forces(doc: Doc, words: list[str], head: Token) -> str | None:
    """ISO2 of the state whose forces a phrase with no nationality names: a force noun with
    only state words beside it ("government forces", "the armed forces", "junta troops",
    "the air force"; ``party_heads.tsv``) names the forces of the country the text is about
    (``text_country``), if it is about one."""
    if head_kinds().get(head.lower_) != "force":
        return None
    rest = [w.lower().strip(".,'’") for w in words]
    rest = [w for w in rest if w not in _PLAIN_DETERMINERS and w != head.lower_]
    if any(w not in state_words() for w in rest):
        return None
    return text_country(doc)


def text_country(doc: Doc) -> str | None:
    """The country a text is about: the first it names as a place (the places component's
    ``sw_where``). Not the theatre prior's guess: on a sentence that names no place it made
    "The army dispatched planes to bombard the guerrilla positions" South Sudan's army."""
    where = doc.user_data.get("sw_where") or []
    return where[0] if where else None


class RoleLabeller:
    def __init__(self, nlp: Language, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        if not doc.has_annotation("DEP"):
            set_group(doc, Keys.ROLE_RULES, [])
            return doc
        known = SpanIndex(doc.spans.get(Keys.ACTORS, []))
        weapons = SpanIndex(doc.spans.get(Keys.WEAPONS, []))
        out = []
        # Victims of a sentence with no trigger of its own ("As a result, an elderly man was
        # killed and several houses were damaged"): the strike sentence before it takes them
        # (assemble.mentions.continue_mention). Label "victim", span id -1.
        triggers = SpanIndex(doc.spans.get(Keys.TRIGGERS, []))
        for sent in sentences(doc):
            if triggers.within(sent.start_char, sent.end_char):
                continue
            for head in harmed_in(sent):
                if not _party(head) or _covers(weapons, head.idx):
                    continue
                for s, e, text in phrases(head):
                    span = doc.char_span(s, e, label=VICTIM, alignment_mode="expand", span_id="-1")
                    if span is not None:
                        span._.sw_actor = party_actor(doc, s, e, text, known, head)
                        out.append(span)
        for trig in doc.spans.get(Keys.TRIGGERS, []):
            if trig.label_ == REFERENCE:
                continue
            attackers, targets, bystanders = arguments(trig)
            for role, heads in (("attacker", attackers), ("target", targets), (BYSTANDER, bystanders)):
                for head in heads:
                    if (
                        head.ent_type_ in ("GPE", "LOC", "FAC")
                        and not _geo.is_country(head.text)
                        and role == "attacker"
                    ):
                        continue  # a town is no attacker ("KABUL, Afghanistan - ... forces killed")
                    if _covers(weapons, head.idx) and not _covers(known, head.idx):
                        # "used small drones": a weapon is no party, unless it names one
                        # ("Israeli warplanes") or its owner ("military planes bombed").
                        owner = [
                            c for c in head.lefts if c.dep_ in ("amod", "compound") and c.lower_ in _PARTY_MODIFIERS
                        ]
                        if role != "attacker" or not owner:
                            continue
                        head = owner[0]
                    for s, e, text in phrases(head):
                        span = doc.char_span(s, e, label=role, alignment_mode="expand", span_id=str(trig.start_char))
                        if span is not None:
                            actor = party_actor(doc, s, e, text, known, head)
                            if role == "attacker" and actor.type in ("civilians", "object"):
                                actor = actor.model_copy(
                                    update={"type": "unknown"}
                                )  # "a man claiming to be the organizer"
                            span._.sw_actor = actor
                            out.append(span)
        set_group(doc, Keys.ROLE_RULES, out)
        return doc
