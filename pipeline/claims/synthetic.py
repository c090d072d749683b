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
from datetime import UTC, date, datetime, timedelta

from strikewatch.core.models import Article

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
WIRE = (
    "{Town}, {country_cap}, {mon} {d} (Reuters) - {A_weapon_struck} {target} in the {adj2} city of {town} on {day}, "
    "killing at least {k1} people and wounding {w1}, {official} said.\n\n"
    "Rescuers were searching the rubble for survivors late into the night, {official} said on Telegram. "
    "Photographs from the scene showed a gaping hole in the building and burned-out cars in the courtyard.\n\n"
    "{Attacker} has carried out repeated attacks on {adj2} cities in recent months.\n\n"
    "(Reporting by Olena Harmash; Editing by Alex Richardson)"
)
WIRE_TITLES = [
    "{Adj} {weapon} kills {k1} in {town}",
    "{Weapon} strike on {town} kills at least {k1}",
    "At least {k1} dead after {weapon} hits {town}",
    "{Town}: {k1} killed in {adj} {weapon} strike",
    "{adj2} city of {town} hit by {weapon}, {k1} dead",
]
OUTLETS = [
    (
        "Death toll in {town} strike rises to {k2}",
        "At least {k2} people were killed when a {adj} {weapon} hit {target} in {town} on {day}, {adj2_cap} "
        "State Emergency Service said. "
        "Emergency workers pulled survivors from the debris through the night, and the service said the search "
        "would go on.",
    ),
    (
        "{town} mourns after {weapon} attack",
        "The {adj} military fired a {weapon} at {target} in {town} on {day}, the {adj2} army said. Health "
        "officials said {k2} people were "
        "killed and dozens were wounded. Residents described a loud blast before dawn.",
    ),
    (
        "{adj} {weapon} strike on {town}",
        "{Attacker} struck {target} in {town} with a {weapon} on {day}, killing {k2} civilians, {adj2} officials said. "
        "The mayor of {town} declared a day of mourning and said windows were blown out across the district.",
    ),
    (
        "Strike on {town} leaves {k2} dead",
        "A {weapon} launched by {adj} forces hit {target} in the city of {town} on {day}, killing {k2} people, "
        "local officials said. "
        "Witnesses said the blast shook buildings several streets away.",
    ),
]
DENIAL = (
    "Three days of mourning declared in {town}",
    "A {weapon} strike on {target} in {town} on {day} killed {k3} people, local officials said. "
    "{Attacker_poss} defence ministry denied striking civilian buildings and blamed {adj2} air defences.",
)


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
    v = dict(
        town=town,
        Town=town,
        country_cap=country,
        adj=adj,
        Adj=adj,
        adj2=adj2,
        adj2_cap=adj2,
        official=official,
        weapon=noun,
        Weapon=noun.capitalize(),
        A_weapon_struck=verb.format(adj=adj),
        target=s.target,
        Attacker=attacker,
        Attacker_poss=attacker + "'s",
        day=DAYS[s.day.weekday()],
        mon=s.day.strftime("%b"),
        d=s.day.day,
        **k,
    )
    return tpl.format(**v)


def _published(s: Strike, hours: float) -> datetime:
    return datetime.combine(s.day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=16 + hours)


def wire_copies(s: Strike, tolls: dict, n: int, rng: random.Random) -> list[Article]:
    """The wire story on the agency's site and ``n - 1`` syndicated copies (other headline; some
    trimmed to their first paragraphs, some with an editor's line before the text)."""
    body = _fill(WIRE, s, tolls)
    out = [
        Article.new(
            f"https://www.reuters.com/world/{s.id}/",
            title=_fill(WIRE_TITLES[0], s, tolls),
            body=body,
            published_at=_published(s, 0.5),
            source="reuters",
        )
    ]
    for i in range(1, n):
        text = body
        if i % 3 == 1:
            text = "\n\n".join(body.split("\n\n")[:2]) + "\n\n(Reuters)"
        elif i % 3 == 2:
            text = "This story was updated with details from the scene.\n\n" + body
        title = _fill(WIRE_TITLES[i % len(WIRE_TITLES)], s, tolls)
        out.append(
            Article.new(
                f"https://news.{SYNDICATES[(i - 1) % len(SYNDICATES)]}/{s.id}/wire-{i}",
                title=title,
                body=text,
                published_at=_published(s, 0.7 + 0.3 * i + rng.random() * 0.1),
                source=f"syndicate{i}",
            )
        )
    return out


def outlet_reports(s: Strike, tolls: dict, n: int) -> list[Article]:
    """``n`` independent outlets' own reports (their wording, toll and speakers)."""
    out = []
    for i in range(n):
        title, body = OUTLETS[i % len(OUTLETS)]
        out.append(
            Article.new(
                f"https://www.{OUTLET_SITES[i % len(OUTLET_SITES)]}/news/{s.id}",
                title=_fill(title, s, tolls),
                body=_fill(body, s, tolls),
                published_at=_published(s, 1.5 + i),
                source=f"outlet{i}",
            )
        )
    return out


def denial_report(s: Strike, tolls: dict) -> Article:
    title, body = DENIAL
    return Article.new(
        f"https://www.eastern-desk.org/world/{s.id}",
        title=_fill(title, s, tolls),
        body=_fill(body, s, tolls),
        published_at=_published(s, 5.0),
        source="denial-desk",
    )


def dnipro_scenario() -> tuple[Strike, dict]:
    """The issue's case: one missile strike on a Dnipro apartment block."""
    return Strike("dnipro-2023-01-14", TOWNS[0], "missile", "an apartment block", date(2023, 1, 14)), {
        "k1": 12,
        "w1": 64,
        "k2": 15,
        "k3": 3,
    }


def strike_stream(
    seed: int = 1, strikes: int = 20, copies: int = 3, outlets: int = 2, denial_every: int = 3
) -> list[tuple[Article, str]]:
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


# ----------------------------------------------------------------------------- acceptance
# Issue 21's acceptance streams for the tests on the real stack (tests/pipeline/claims/
# test_claims_stack.py, tests/strikewatch/services/web/test_webapp_claims.py, test_claims_alerts_e2e.py):
# three strikes in three towns on three days, in texts of their own.


def _at(day: date, hour: float) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)


CONTESTED_DAY, WIRE_DAY, CORROBORATED_DAY = date(2024, 5, 16), date(2024, 5, 18), date(2024, 5, 20)
# Three outlets on one missile strike on a Kharkiv hospital: tolls 9, 11 and 2, and a denial.
CONTESTED = [
    (
        "kharkiv-observer.net",
        "Missile strike on Kharkiv hospital kills nine",
        "A Russian missile strike hit a hospital in Kharkiv on Thursday, killing nine people and wounding 20, "
        "the regional governor "
        "said. Firefighters put out the blaze in the surgical wing by the evening, and patients were moved to "
        "other clinics.",
    ),
    (
        "steppe-times.org",
        "Kharkiv hospital hit in missile strike",
        "At least 11 people were killed when a missile strike hit a hospital in the city of Kharkiv on Thursday, "
        "Ukraine's State "
        "Emergency Service said. Rescue teams searched the ruins of the surgical wing through the night.",
    ),
    (
        "border-dispatch.com",
        "Moscow denies hitting Kharkiv hospital",
        "A missile strike on a hospital in Kharkiv on Thursday killed two people, local officials said. Russia's "
        "defence ministry "
        "denied striking the hospital and blamed Ukrainian air defences for the damage.",
    ),
]
# One wire story on a drone strike on the Odesa port, on the agency's site and four copies.
WIRE_TEXT = (
    "ODESA, Ukraine, May 18 (Reuters) - A Russian drone strike hit a grain warehouse in Odesa on Saturday, "
    "killing three dock workers at the port, the regional governor said.\n\n"
    "The strike set fire to the warehouse roof and damaged two ships moored nearby, he said on "
    "Telegram. Port operations "
    "resumed in the afternoon.\n\n"
    "(Reporting by Anna Petrenko; Editing by Mark Heinrich)"
)
WIRE_COPIES = [
    (
        "https://www.reuters.com/world/europe/{run}/odesa-port-drone-strike-2024-05-18/",
        "Drone strike on Odesa port kills three",
        WIRE_TEXT,
    ),
    (
        "https://www.harbour-ledger.com/world/{run}/odesa-port-drone",
        "Three dock workers killed in Odesa drone strike",
        WIRE_TEXT,
    ),
    (
        "https://news.prairie-courier.net/europe/{run}/odesa-drone",
        "Odesa port hit by drone strike",
        WIRE_TEXT.split("\n\n(Reporting")[0],
    ),
    (
        "https://www.lakeside-gazette.org/{run}/odesa-strike",
        "Drone strike sets Odesa grain warehouse ablaze",
        "This story was updated with details from the port.\n\n" + WIRE_TEXT,
    ),
    ("https://www.summit-post.info/news/{run}/odesa", "Russian drone strike kills three at Odesa port", WIRE_TEXT),
]
# Two outlets of their own on the Odesa port strike, after the wire story.
WIRE_FOLLOWUPS = [
    (
        "black-sea-monitor.net",
        "Odesa port warehouse burns after drone strike",
        "Three workers were killed when a Russian drone strike set a grain warehouse on fire in Odesa on Saturday, the "
        "regional administration said. Two ships moored at the quay were damaged.",
    ),
    (
        "danube-review.org",
        "Drone strike on Odesa grain store",
        "A drone strike hit a grain warehouse in Odesa on Saturday and killed three people, Ukraine's State "
        "Emergency Service "
        "said. Firefighters needed four hours to put out the fire.",
    ),
]
# Two independent outlets on one missile strike on a Mykolaiv school, the same toll.
CORROBORATED = [
    (
        "mykolaiv-herald.net",
        "Missile strike destroys Mykolaiv school",
        "A Russian missile strike destroyed a school in Mykolaiv on Monday, killing four people, the city's "
        "mayor said. The building "
        "had been empty of pupils since the start of the holidays.",
    ),
    (
        "southern-wire.org",
        "Four dead in Mykolaiv school strike",
        "Four people died when a missile strike hit a school in the southern city of Mykolaiv on Monday, the regional "
        "administration said. Windows were blown out across the neighbourhood.",
    ),
]


def acceptance_stream(run: str) -> dict[str, list[Article]]:
    """The acceptance streams, each article's address unique to ``run`` (a shared broker's
    dedup and other runs' incidents stay apart): ``contested`` (three outlets, tolls 9, 11, 2
    and a denial), ``wire`` (a wire story and four copies), ``wire_followups`` (two outlets of
    their own on the wire story's strike), ``corroborated`` (two outlets)."""
    contested = [
        Article.new(
            f"https://www.{site}/{run}/kharkiv-hospital",
            title=title,
            body=body,
            published_at=_at(CONTESTED_DAY, 14 + i),
            source=f"outlet{i}",
        )
        for i, (site, title, body) in enumerate(CONTESTED)
    ]
    wire = [
        Article.new(
            url.format(run=run), title=title, body=body, published_at=_at(WIRE_DAY, 10 + i * 0.5), source=f"wire{i}"
        )
        for i, (url, title, body) in enumerate(WIRE_COPIES)
    ]
    corroborated = [
        Article.new(
            f"https://www.{site}/{run}/mykolaiv-school",
            title=title,
            body=body,
            published_at=_at(CORROBORATED_DAY, 9 + i),
            source=f"outlet{i}",
        )
        for i, (site, title, body) in enumerate(CORROBORATED)
    ]
    followups = [
        Article.new(
            f"https://www.{site}/{run}/odesa-port",
            title=title,
            body=body,
            published_at=_at(WIRE_DAY, 13 + i),
            source=f"outlet{i}",
        )
        for i, (site, title, body) in enumerate(WIRE_FOLLOWUPS)
    ]
    return {"contested": contested, "wire": wire, "wire_followups": followups, "corroborated": corroborated}
