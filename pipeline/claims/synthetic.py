"""Multi-source test streams, written here (no dev set has several outlets' reports of one
strike): several outlets' own wording of one strike with their own tolls and speakers,
syndicated copies of a wire story (other headline, a trimmed or extended text), a denial, and
distinct strikes in the same town on other days. Used by the tests, ``bench/bench_claims.py``
and the end-to-end tests.

    stream = strike_stream(seed=1, strikes=20)   # [(Article, gold strike id), ...] in time order
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from strikewatch.models import Article

# (town, country, adjective of the attacker, attacker, defenders' adjective, regional official)
TOWNS = [
    ("Dnipro", "Ukraine", "Russian", "Russia", "Ukrainian", "the regional governor"),
    ("Kharkiv", "Ukraine", "Russian", "Russia", "Ukrainian", "the regional governor"),
    ("Odesa", "Ukraine", "Russian", "Russia", "Ukrainian", "the regional governor"),
    ("Zaporizhzhia", "Ukraine", "Russian", "Russia", "Ukrainian", "the regional governor"),
    ("Sumy", "Ukraine", "Russian", "Russia", "Ukrainian", "the regional governor"),
    ("Kherson", "Ukraine", "Russian", "Russia", "Ukrainian", "the regional governor"),
]
WEAPONS = {  # weapon -> (noun phrase, verb phrase)
    "missile": ("missile", "A {adj} missile struck"),
    "drone": ("drone", "A {adj} drone struck"),
}
TARGETS = ["an apartment block", "a hospital", "a school", "a shopping centre", "a railway station", "a market"]
# Sites of their own (one publisher each); the syndicates' copies are of the wire story.
OUTLET_SITES = ["kyiv-daily.net", "eastern-herald.com", "frontline-news.org", "city-chronicle.info"]
SYNDICATES = ["morning-ledger.com", "valley-gazette.com", "coast-times.net", "metro-courier.org", "plains-post.com"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# The wire story; its copies keep its text under other headlines.
WIRE = ("{Town}, {country_cap}, {mon} {d} (Reuters) - {A_weapon_struck} {target} in the {adj2} city of {town} on {day}, "
        "killing at least {k1} people and wounding {w1}, {official} said.\n\n"
        "Rescuers were searching the rubble for survivors late into the night, {official} said on Telegram. "
        "Photographs from the scene showed a gaping hole in the building and burned-out cars in the courtyard.\n\n"
        "{Attacker} has carried out repeated attacks on {adj2} cities in recent months.\n\n"
        "(Reporting by Olena Harmash; Editing by Alex Richardson)")
WIRE_TITLES = ["{Adj} {weapon} kills {k1} in {town}", "{Weapon} strike on {town} kills at least {k1}",
               "At least {k1} dead after {weapon} hits {town}", "{Town}: {k1} killed in {adj} {weapon} strike",
               "{adj2} city of {town} hit by {weapon}, {k1} dead"]
OUTLETS = [
    ("Death toll in {town} strike rises to {k2}",
     "At least {k2} people were killed when a {adj} {weapon} hit {target} in {town} on {day}, {adj2_cap} State Emergency Service said. "
     "Emergency workers pulled survivors from the debris through the night, and the service said the search would go on."),
    ("{town} mourns after {weapon} attack",
     "The {adj} military fired a {weapon} at {target} in {town} on {day}, the {adj2} army said. Health officials said {k2} people were "
     "killed and dozens were wounded. Residents described a loud blast before dawn."),
    ("{adj} {weapon} strike on {town}",
     "{Attacker} struck {target} in {town} with a {weapon} on {day}, killing {k2} civilians, {adj2} officials said. "
     "The mayor of {town} declared a day of mourning and said windows were blown out across the district."),
    ("Strike on {town} leaves {k2} dead",
     "A {weapon} launched by {adj} forces hit {target} in the city of {town} on {day}, killing {k2} people, local officials said. "
     "Witnesses said the blast shook buildings several streets away."),
]
DENIAL = ("Three days of mourning declared in {town}",
          "A {weapon} strike on {target} in {town} on {day} killed {k3} people, local officials said. "
          "{Attacker_poss} defence ministry denied striking civilian buildings and blamed {adj2} air defences.")


@dataclass(frozen=True)
class Strike:
    id: str
    town: tuple
    weapon: str
    target: str
    day: date


def _fill(tpl: str, s: Strike, k: dict) -> str:
    town, country, adj, attacker, adj2, official = s.town
    noun, verb = WEAPONS[s.weapon]
    v = dict(town=town, Town=town, country_cap=country, adj=adj, Adj=adj, adj2=adj2, adj2_cap=adj2, official=official,
             weapon=noun, Weapon=noun.capitalize(), A_weapon_struck=verb.format(adj=adj), target=s.target, Attacker=attacker,
             Attacker_poss=attacker + "'s", day=DAYS[s.day.weekday()], mon=s.day.strftime("%b"), d=s.day.day, **k)
    return tpl.format(**v)


def _published(s: Strike, hours: float) -> datetime:
    return datetime.combine(s.day, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=16 + hours)


def wire_copies(s: Strike, tolls: dict, n: int, rng: random.Random) -> list[Article]:
    """The wire story on the agency's site and ``n - 1`` syndicated copies (other headline; some
    trimmed to their first paragraphs, some with an editor's line before the text)."""
    body = _fill(WIRE, s, tolls)
    out = [Article.new(f"https://www.reuters.com/world/{s.id}/", title=_fill(WIRE_TITLES[0], s, tolls), body=body,
                       published_at=_published(s, 0.5), source="reuters")]
    for i in range(1, n):
        text = body
        if i % 3 == 1:
            text = "\n\n".join(body.split("\n\n")[:2]) + "\n\n(Reuters)"
        elif i % 3 == 2:
            text = "This story was updated with details from the scene.\n\n" + body
        title = _fill(WIRE_TITLES[i % len(WIRE_TITLES)], s, tolls)
        out.append(Article.new(f"https://news.{SYNDICATES[(i - 1) % len(SYNDICATES)]}/{s.id}/wire-{i}", title=title, body=text,
                               published_at=_published(s, 0.7 + 0.3 * i + rng.random() * 0.1), source=f"syndicate{i}"))
    return out


def outlet_reports(s: Strike, tolls: dict, n: int) -> list[Article]:
    """``n`` independent outlets' own reports (their wording, toll and speakers)."""
    out = []
    for i in range(n):
        title, body = OUTLETS[i % len(OUTLETS)]
        out.append(Article.new(f"https://www.{OUTLET_SITES[i % len(OUTLET_SITES)]}/news/{s.id}", title=_fill(title, s, tolls), body=_fill(body, s, tolls),
                               published_at=_published(s, 1.5 + i), source=f"outlet{i}"))
    return out


def denial_report(s: Strike, tolls: dict) -> Article:
    title, body = DENIAL
    return Article.new(f"https://www.eastern-desk.org/world/{s.id}", title=_fill(title, s, tolls), body=_fill(body, s, tolls),
                       published_at=_published(s, 5.0), source="denial-desk")


def dnipro_scenario() -> tuple[Strike, dict]:
    """The issue's case: one missile strike on a Dnipro apartment block."""
    return Strike("dnipro-2023-01-14", TOWNS[0], "missile", "an apartment block", date(2023, 1, 14)), {"k1": 12, "w1": 64, "k2": 15, "k3": 3}


def strike_stream(seed: int = 1, strikes: int = 20, copies: int = 3, outlets: int = 2, denial_every: int = 3) -> list[tuple[Article, str]]:
    """Reports of ``strikes`` strikes, in publication order, each with its gold strike id: per strike
    the wire story and ``copies - 1`` copies, ``outlets`` outlets' own reports, and every
    ``denial_every``-th strike a report carrying a denial. Strikes share towns and fall on
    nearby days, so the same town is struck again a day or two later."""
    rng = random.Random(seed)
    out = []
    base = date(2023, 3, 1)
    for n in range(strikes):
        town = TOWNS[n % len(TOWNS)]
        day = base + timedelta(days=(n // len(TOWNS)) * 2 + rng.choice([0, 1]))
        s = Strike(f"s{seed}-{n}", town, rng.choice(list(WEAPONS)), rng.choice(TARGETS), day)
        k1 = rng.randint(2, 30)
        tolls = {"k1": k1, "w1": rng.randint(5, 80), "k2": k1 + rng.randint(0, 4), "k3": max(1, k1 // 4)}
        arts = wire_copies(s, tolls, copies, rng) + outlet_reports(s, tolls, outlets)
        if denial_every and n % denial_every == 0:
            arts.append(denial_report(s, tolls))
        out += [(a, s.id) for a in arts]
    out.sort(key=lambda t: t[0].published_at)
    return out
