"""The open incidents' day and place index: every incident the clustering rules admit is a
candidate, incidents close OPEN_FOR_HOURS after their last report, and the index survives
Beam's state coder (pickle) with only the changed incidents re-serialised."""

import pickle
import random
from datetime import UTC, datetime, timedelta

from pipeline.incidents import (
    MAX_DAY_GAP,
    MAX_KM,
    OPEN_FOR_HOURS,
    SAME_PLACE_KM,
    Clusterer,
    _need,
    footprint,
    new_incident,
    token_jaccard,
)
from pipeline.open_incidents import MAX_CANDIDATES, OpenIncidents
from strikewatch.core.models import Actor, Event, EventTime, EventType, Place, Span

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)
TOWNS = [
    ("Kherson", 46.64, 32.61),
    ("Mykolaiv", 46.97, 31.99),
    ("Odesa", 46.48, 30.73),
    ("Izmail", 45.35, 28.84),
    ("Dnipro", 48.46, 35.05),
    ("Nikopol", 47.57, 34.39),
    ("Kharkiv", 49.99, 36.23),
    ("Sumy", 50.91, 34.80),
]


def event(n: int, rng: random.Random) -> Event:
    town, lat, lon = rng.choice(TOWNS)
    r = rng.random()
    if r < 0.15:
        places = [Place(name="Ukraine", country="Ukraine", country_code="UA", precision="country")]
    elif r < 0.25:
        places = [
            Place(
                name=f"{town} Oblast",
                country="Ukraine",
                country_code="UA",
                lat=lat + 0.3,
                lon=lon - 0.4,
                precision="admin1",
            )
        ]
    else:
        places = [
            Place(
                name=town,
                country="Ukraine",
                country_code="UA",
                lat=lat + rng.uniform(-0.05, 0.05),
                lon=lon,
                precision="city",
            )
        ]
    day = T0.date() + timedelta(days=rng.randint(0, 6))
    when = EventTime() if rng.random() < 0.2 else EventTime(date=day, precision=rng.choice(["day", "week"]))
    text = f"report {n}"
    return Event(
        id=f"e{n}",
        article_id=f"a{n}",
        source="s",
        event_type=rng.choice(list(EventType)[:4]),
        places=places,
        time=when,
        attacker=Actor(name=rng.choice(["Russia", "Ukraine"]), type="state_military") if rng.random() < 0.5 else None,
        evidence=[Span(text=text, start=0, end=len(text))],
        article_published_at=T0,
    )


def test_every_incident_the_rules_admit_is_a_candidate():
    rng = random.Random(5)
    index = OpenIncidents()
    incidents = []
    for n in range(400):
        inc = new_incident(event(n, rng), T0)
        incidents.append(inc)
        index.put(inc, f"text {n}", footprint(inc), T0)
    for n in range(400, 700):
        f = footprint(event(n, rng))
        admitted = {i.id for i in incidents if _need(f, footprint(i)) is not None}
        found = index.candidates(f, day_gap=MAX_DAY_GAP, km=MAX_KM, same_km=SAME_PLACE_KM)
        if len(found) < MAX_CANDIDATES:
            assert admitted <= {i for i, _t, _f in found}
        assert len(found) <= MAX_CANDIDATES
    # ... and the index does cut: a located report meets a fraction of them
    located = footprint(
        Event(
            id="x",
            article_id="x",
            source="s",
            event_type=EventType.SHELLING,
            time=EventTime(date=T0.date(), precision="day"),
            places=[Place(name="Sumy", country="Ukraine", lat=50.91, lon=34.80, precision="city")],
        )
    )
    assert len(index.candidates(located, day_gap=MAX_DAY_GAP, km=MAX_KM, same_km=SAME_PLACE_KM)) < 0.4 * len(index)


def test_an_incident_closes_open_for_hours_after_its_last_report():
    rng = random.Random(1)
    cl = Clusterer(token_jaccard)
    ev = event(1, rng).model_copy(
        update={
            "time": EventTime(date=T0.date(), precision="day"),
            "event_type": EventType.SHELLING,
            "places": [Place(name="Sumy", country="Ukraine", lat=50.91, lon=34.80, precision="city")],
        }
    )
    index, first = cl.add(OpenIncidents(), ev, T0)
    again = ev.model_copy(update={"id": "e2", "article_id": "a2"})
    index, second = cl.add(index, again, T0 + timedelta(hours=OPEN_FOR_HOURS - 1))
    assert second is not None and second.id == first.id and second.source_count == 2  # open: joins
    late = ev.model_copy(update={"id": "e3", "article_id": "a3"})
    index, third = cl.add(index, late, T0 + timedelta(hours=2 * OPEN_FOR_HOURS))
    assert third.id != first.id and third.revision == 0 and len(index) == 1  # closed: a new incident, the old one gone


def test_the_index_survives_the_state_coder_and_writes_only_what_changed():
    rng = random.Random(2)
    cl = Clusterer(token_jaccard)
    index = OpenIncidents()
    for n in range(60):
        ev = event(n, rng)
        index, _ = cl.add(index, ev, T0 + timedelta(minutes=n))
    blob = pickle.dumps(index)
    loaded = pickle.loads(blob)
    assert [(i.id, i.revision, t) for i, t in loaded] == [(i.id, i.revision, t) for i, t in index]
    probe = footprint(event(999, rng))
    kw = dict(day_gap=MAX_DAY_GAP, km=MAX_KM, same_km=SAME_PLACE_KM)
    assert [c[0] for c in loaded.candidates(probe, **kw)] == [c[0] for c in index.candidates(probe, **kw)]
    # a loaded incident is read from its JSON only when a report meets it; the rest stay bytes
    loaded = pickle.loads(blob)
    entries = loaded._entries
    assert all(e.incident is None for e in entries.values())
    ev = event(1000, rng)
    loaded, _ = cl.add(loaded, ev, T0 + timedelta(hours=1))
    assert sum(e.incident is not None for e in entries.values()) < len(entries)
    changed = [i for i, e in entries.items() if e.state is None]
    assert len(changed) == 1  # one entry to pickle again
    again = pickle.loads(pickle.dumps(loaded))
    assert {i.id: i.revision for i, _t in again} == {i.id: i.revision for i, _t in loaded}


def test_a_plain_list_still_works():
    cl = Clusterer(token_jaccard)
    rng = random.Random(3)
    ev = event(1, rng)
    index, inc = cl.add([], ev, T0)
    assert [i.id for i, _t in index] == [inc.id]


def test_one_wire_dates_one_strike_once():
    """The same town on two days in two stories of one wire read alike (MiniLM 0.95+): two
    strikes. Another outlet's story dated a day off may still be the same strike."""
    from strikewatch.core.models import Provenance

    def wire(n: int, day: int, credit: str | None) -> Event:
        text = "A Russian missile struck an apartment block in the Ukrainian city of Dnipro"
        return Event(
            id=f"w{n}",
            article_id=f"wa{n}",
            source="s",
            event_type=EventType.MISSILE_ATTACK,
            places=[Place(name="Dnipro", country="Ukraine", lat=48.46, lon=35.05, precision="city")],
            time=EventTime(date=T0.date() + timedelta(days=day), precision="day"),
            outlet=f"site{n}.com",
            provenance=Provenance(credit=credit, publisher=f"site{n}"),
            evidence=[Span(text=text, start=0, end=len(text))],
        )

    cl = Clusterer(lambda a, b: 1.0)
    index, first = cl.add(OpenIncidents(), wire(1, 0, "reuters"), T0)
    index, second = cl.add(index, wire(2, 1, "reuters"), T0 + timedelta(hours=20))
    assert second.id != first.id  # the wire's next day's story: another strike
    index, third = cl.add(index, wire(3, 1, None), T0 + timedelta(hours=21))
    assert third.id in (first.id, second.id)  # an outlet of its own a day off: still joins one of them
