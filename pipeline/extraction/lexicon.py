"""Gazetteers and trigger lexicons for strike extraction (hand-curated).

The small spaCy model tags militia names as PERSON and misses weapons entirely, so the
pipeline adds an EntityRuler built from these tables: ARMED_ACTOR, PLATFORM, MUNITION.
Each actor entry: aliases, canonical name, type, home country (ISO2), sponsor country.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

# --------------------------------------------------------------------------- actors

FACTS = Path(__file__).with_name("facts")


def _jsonl(name: str) -> list[dict]:
    """Rows of a vocabulary file of a fact folder ("parties/actors.jsonl")."""
    with (FACTS / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip() and not line.startswith("//")]


_ACTOR_ROWS = _jsonl("parties/actors.jsonl")
# (aliases, canonical, type, country, sponsor), from facts/parties/actors.jsonl
ACTORS: list[tuple[tuple[str, ...], str, str, str | None, str | None]] = [
    (tuple(r["aliases"]), r["canonical"], r["type"], r["country"], r["sponsor"]) for r in _ACTOR_ROWS
]
# Where an actor fights, when that is not its home country: pins the country of a
# village the gazetteer does not know ("Saudi-led coalition airstrikes targeted X").
THEATRE = {r["canonical"]: r["theatre"] for r in _ACTOR_ROWS if r.get("theatre")}

# Demonym or country + a military noun = that state's military ("Israeli warplanes",
# "Turkish forces", "Russian jets", "Israeli air strikes"). The forces word list is used in the ruler pattern.
FORCE_NOUNS = (
    "forces",
    "force",
    "military",
    "army",
    "troops",
    "soldiers",
    "air force",
    "airforce",
    "navy",
    "warplanes",
    "warplane",
    "jets",
    "jet",
    "aircraft",
    "drones",
    "drone",
    "fighter jets",
    "fighter-bombers",
    "helicopters",
    "artillery",
    "military forces",
    "security forces",
    "government forces",
    "defence forces",
    "defense forces",
    "gunboats",
    "planes",
    # The strike itself: "Israeli air strikes hit ...", "Russian airstrikes on Idlib",
    # "Turkish shelling of ...": the adjective names the state that struck.
    "strikes",
    "strike",
    "airstrikes",
    "airstrike",
    "raids",
    "raid",
    "shelling",
    "bombardment",
    "bombing",
    "bombings",
    # What it fired: "Russian rockets hit ...", "killed by Israeli fire", "Israeli missiles and shells".
    "missiles",
    "missile",
    "rockets",
    "rocket",
    "shells",
    "mortars",
    "mortar fire",
    "tanks",
    "tank fire",
    "fire",
    "gunfire",
    # Platforms and munitions the coders' reports name ("Israeli warships shelled", "an
    # Israeli tank", "Russian aerial bombs", "Israeli airplanes struck").
    "warships",
    "warship",
    "gunships",
    "airplanes",
    "airplane",
    "helicopter",
    "tank",
    "bombs",
    "bomb",
    "projectiles",
    "projectile",
    "attack",
    "attacks",
    "drone strikes",
    "drone strike",
    "artillery fire",
    "rocket fire",
    "vehicles",
    "troops'",
)
COALITION = {"coalition", "Saudi-led coalition"}

# --------------------------------------------------------------------------- weapons

_WEAPON_ROWS = _jsonl("weapons/weapons.jsonl")
# (aliases, canonical, category), from facts/weapons/weapons.jsonl
PLATFORMS: list[tuple[tuple[str, ...], str, str]] = [
    (tuple(r["aliases"]), r["canonical"], r["category"]) for r in _WEAPON_ROWS if r["kind"] == "platform"
]

MUNITION_RE = re.compile(
    r"(?P<count>\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|several|multiple)\s+)?"
    r"(?P<weight>\b\d{1,2},?\d{3}|\b\d{3})[-\s]?(?:pound|lb)s?\s+"
    r"(?P<desc>(?:(?:satellite|laser|GPS|precision)[-\s]guided\s+|guided\s+|precision\s+)?)"
    r"(?P<noun>bombs?|munitions?|missiles?|JDAMs?)",
    re.I,
)
MUNITION_NAMES: list[tuple[tuple[str, ...], str, str]] = [
    (tuple(r["aliases"]), r["canonical"], r["category"]) for r in _WEAPON_ROWS if r["kind"] == "munition"
]

# --------------------------------------------------------------------------- triggers

# Each strike type: regexes over a sentence (facts/triggers/triggers.jsonl, in file order:
# order matters only for ties).
TRIGGERS: dict[str, list[str]] = {}
BROAD_TRIGGERS: dict[str, list[str]] = {}
for _row in _jsonl("triggers/triggers.jsonl"):
    (BROAD_TRIGGERS if _row.get("broad") else TRIGGERS).setdefault(_row["event_type"], []).append(_row["pattern"])
# A reference to strikes already reported ("the strikes", "Monday's strike"): merges
# into the article's last strike, never starts an event on its own.
WEAK_STRIKE_RE = re.compile(
    r"\b(?:the|these|those|latest|recent|[A-Z][a-z]+day's|new|U\.?S\.?|"
    r"American)\s+(?:air\s?)?strikes?\b|\bstrike of the (?:three|two) targets\b",
    re.I,
)
TRIGGER_RES = {k: [re.compile(p, re.I) for p in v] for k, v in TRIGGERS.items()}
BROAD_TRIGGER_RES = {k: [re.compile(p, re.I) for p in v] for k, v in BROAD_TRIGGERS.items()}

# Violent events that are not strikes: recognised so they are not mistaken for one.
OTHER_VIOLENCE = re.compile(
    r"\b(?:clash(?:es|ed)?|gunfight|fire ?fight|ambush(?:ed)?|gunmen|armed men|shot dead|opened fire|IED|"
    r"improvised explosive|landmine|"
    r"roadside bomb|suicide (?:bomb(?:er|ing)?|attack)|car bomb|VBIED|abduct(?:ed|ion)|kidnapp(?:ed|ing)|"
    r"stabb(?:ed|ing)|beaten (?:to death|up)|"
    r"attacked (?:a |the )?(?:village|civilians)|killed (?:a |an )?(?:civilian|man|woman))\b",
    re.I,
)
# An exchange of fire is a clash (ACLED "Armed clash"), even with artillery in it:
# shelling/missile triggers in such a text are not a strike. Air strikes stay strikes.
CLASH_RE = re.compile(
    r"\b(?:clash(?:es|ed)?|exchanged (?:fire|artillery|shelling|heavy)|exchange of fire|responded to the fire|"
    r"returned fire|in both directions|"
    r"small arms|fighting (?:between|with)|battles?|gunfight|firefight)\b",
    re.I,
)
TEAR_GAS_RE = re.compile(r"\btear ?gas\b", re.I)
# Sentences whose strike words report something else (facts/triggers/not_strikes.jsonl):
# (class, pattern, unless-pattern or None).
# (class, pattern, unless-pattern, unless-after, unless-before): a match does not count when
# followed by ``unless_after`` or preceded (within the sentence) by ``unless_before``.
NOT_STRIKES = [
    (
        r["class"],
        re.compile(r["pattern"], re.I),
        re.compile(r["unless"], re.I) if r.get("unless") else None,
        re.compile(r["unless_after"], re.I) if r.get("unless_after") else None,
        re.compile(r["unless_before"], re.I) if r.get("unless_before") else None,
    )
    for r in _jsonl("triggers/not_strikes.jsonl")
]
# Words that turn a shelling/missile trigger into something else in ACLED's sense.
IED_RE = re.compile(r"\b(?:IED|improvised explosive device|landmine|roadside bomb|explosive device|mine)\b", re.I)
GRENADE_RE = re.compile(r"\b(?:hand grenades?|grenade attack|threw a grenade)\b", re.I)

NEGATION_RE = re.compile(
    r"\b(?:no|not|never|without|denied|den(?:y|ies)|refuted|rejected claims|did not|"
    r"didn't|has not|have not|hasn't|haven't)\b",
    re.I,
)
DENIAL_RE = re.compile(r"\b(?:denied|den(?:y|ies)|rejected (?:the )?(?:claims?|reports?)|refuted)\b", re.I)
THREAT_RE = re.compile(
    r"\b(?:threat(?:en(?:ed|s)?)?|warn(?:ed|s)?(?: of)?|vow(?:ed|s)? to|pledg(?:ed|es) to|would retaliate)\b", re.I
)
HYPOTHETICAL_RE = re.compile(
    r"\b(?:if|would|could|might|may|plan(?:s|ned)? to|consider(?:ing|ed)?|options?|will|unlikely|possible|potential)\b",
    re.I,
)
HISTORICAL_RE = re.compile(
    r"\b(?:previous|earlier|last year|in (?:19|20)\d{2}|former|had taken place|"
    r"had carried out|the (?:first|second) time|in the past|since \d{4})\b",
    re.I,
)

# De-escalation language, recorded on events for the escalation score.
DE_ESCALATION_RE = re.compile(
    r"\b(?:defensive|calibrated|proportionate|measured response|limit the risk of escalation|"
    r"avoid (?:further )?escalat(?:ion|ing)|de-?escalat(?:e|ion)|"
    r"avoid provoking|restraint|ceasefire|truce|deterrent message|self-defen[cs]e)\b",
    re.I,
)

# Casualties.
NUM_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "twenty": 20,
    "dozens": 24,
    "dozen": 12,
    "several": 3,
    "scores": 40,
}
_N = (
    r"(?P<n>\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|twenty|several|dozens|a dozen|scores)"
)
# Up to four words between a number and "killed" ("six rangers were killed"). Each word
# must end at a separator: with the separator optional, ``\w+`` could split one long word
# into four pieces in every way, and a 340-character text took 135 s (issue 13).
_WHO = r"(?:(?:\w+[- ]){0,4}?)"
KILLED_RES = [
    re.compile(
        r"\b(?:killing|killed|kills|left|leaving)\s+(?:at least\s+|more than\s+|about\s+|around\s+|some\s+)?"
        + _N
        + r"\b(?!\s*(?:km|kilometers|miles|times|days))",
        re.I,
    ),
    re.compile(
        r"\b(?:at least\s+|more than\s+|about\s+|around\s+)?"
        + _N
        + r"\s+"
        + _WHO
        + r"(?:were |was |have been |had been )?(?:killed|dead|died|deaths|fatalities|casualties \(killed\))\b",
        re.I,
    ),
    re.compile(r"\b" + _N + r"\s+fatalit(?:y|ies)\b", re.I),
]
INJURED_RES = [
    re.compile(r"\b(?:injuring|wounding|injured|wounded)\s+(?:at least\s+|more than\s+|about\s+)?" + _N + r"\b", re.I),
    re.compile(
        r"\b(?:at least\s+|more than\s+|about\s+)?"
        + _N
        + r"\s+"
        + _WHO
        + r"(?:were |was |have been )?(?:injured|wounded|hurt)\b",
        re.I,
    ),
]
NO_CASUALTIES_RE = re.compile(
    r"\b(?:no (?:immediate )?reports? of (?:casualties|fatalities|injuries|deaths)|no (?:casualties|"
    r"fatalities|injuries|deaths)(?: or (?:injuries|fatalities|casualties))? (?:were |was )?(?:reported|"
    r"recorded)|"
    r"neither (?:injuries|fatalities|casualties) nor (?:fatalities|injuries|casualties)|no (?:one|"
    r"body) was (?:killed|hurt|injured)|no casualties|without casualties|"
    r"no information on (?:casualties|fatalities)|no reports? of (?:fatalities|injuries|casualties)|"
    r"no Americans have been (?:injured|killed)|no (?:fatalities|casualties) reported)\b",
    re.I,
)
NO_IMMEDIATE_RE = re.compile(r"\bno immediate reports? of (?:casualties|injuries|deaths|fatalities)\b", re.I)
SPLIT_RE = re.compile(r"fatalities (?:were )?split (?:up )?(?:between|among|across) \(?(?P<k>\d+)\)? events", re.I)

ATTRIBUTION_RE = re.compile(
    r"\b(?P<src>(?:the )?(?:Pentagon|Department of Defense|Defense Department|Ministry of Defen[cs]e|"
    r"White House|State Department|"
    r"(?:U\.?S\.?|American|Iraqi|Syrian|Israeli|Russian|Ukrainian|Turkish|Iranian|Saudi|Houthi|military|"
    r"Pentagon|administration|security|local|government) (?:officials?|sources?|spokes(?:person|man|woman)|"
    r"military|media)|"
    r"officials|a spokes(?:person|man|woman)|the spokes(?:person|man|woman)|(?:Mr\.?|Ms\.?|Gen\.?|General|"
    r"Secretary) [A-Z][\w.]+(?: [A-Z][\w.]+)*|[A-Z][a-z]+ [A-Z]\. [A-Z][a-z]+|John F\. Kirby|Kirby|SOHR|"
    r"Syrian Observatory for Human Rights|OSCE SMM|the source))\s+"
    r"(?:said|says|stated|reported|claimed|announced|confirmed|told|added)\b",
)
CLAIM_RE = re.compile(r"\b(?:claimed (?:responsibility|the attack)|took responsibility)\b", re.I)

# Count words for strikes, targets and munitions ("three sites", "a series of").
COUNT_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "a": 1,
    "an": 1,
    "several": None,
    "multiple": None,
}


def number(word: str | None) -> int | None:
    """A written number ("12", "twelve", "a dozen"...) as an int; None when it gives none.
    Casualty vocabulary first: ACLED codes "several" killed as 3."""
    if word is None:
        return None
    w = word.lower().strip()
    if w.isdigit():
        return int(w)
    return NUM_WORDS.get(w, COUNT_WORDS.get(w))
