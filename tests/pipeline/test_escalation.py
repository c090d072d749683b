"""Severity and the escalation index: explained components, tit-for-tat chains,
the reference article's sequence, and the backtest command's PNG."""

import json
from datetime import UTC, datetime, timedelta

from pipeline.escalation import EscalationTracker, backtest_main, severity
from strikewatch.core.models import Actor, Casualties, Event, EventTime, EventType, Place, Weapon

T = datetime(2021, 2, 21, tzinfo=UTC)
US = Actor(name="United States", type="state_military", country="US")
MILITIA = Actor(name="Kataib Hezbollah", type="militia_proxy", country="IQ", sponsor="IR")


def ev(i, attacker, targets, at, etype=EventType.AIR_STRIKE, killed=0, country=("Syria", "SY")):
    return Event(
        id=f"e{i}",
        article_id=f"a{i}",
        event_type=etype,
        attacker=attacker,
        targets=targets,
        places=[Place(name=country[0], country=country[0], country_code=country[1], precision="country")],
        time=EventTime(date=at.date(), start=at, precision="day"),
        casualties=Casualties(killed=killed, statement="reported"),
    )


def test_severity_explains_itself():
    big = ev(1, US, [MILITIA], T, killed=20).model_copy(
        update={
            "munitions": [Weapon(name="2,000-pound bomb", kind="munition", payload_lb=2000)],
            "target_kinds": ["base"],
        }
    )
    small = ev(2, MILITIA, [US], T, etype=EventType.DRONE_STRIKE, country=("Iraq", "IQ"))
    v_big, comps = severity(big)
    v_small, _ = severity(small)
    assert v_big > v_small
    names = {c.name for c in comps}
    assert {"type", "payload", "casualties", "cross_border", "state_vs_proxy", "target_kind"} <= names
    assert abs(v_big - min(1.0, sum(c.value for c in comps))) < 1e-3


def test_tit_for_tat_chain_raises_the_dyad_index():
    tr = EscalationTracker()
    s1 = tr.observe(ev(1, US, [MILITIA], T), T)
    s2 = tr.observe(
        ev(2, MILITIA, [US], T + timedelta(days=60), etype=EventType.DRONE_STRIKE, country=("Iraq", "IQ")),
        T + timedelta(days=60),
    )
    s3 = tr.observe(ev(3, US, [MILITIA], T + timedelta(days=120)), T + timedelta(days=120))
    dyad = lambda ss: next(s for s in ss if s.scope == "dyad")  # noqa: E731
    assert dyad(s3).tit_for_tat_chain == ["e1", "e2", "e3"]
    assert dyad(s3).value > dyad(s1).value
    comp = {c.name: c for c in dyad(s3).components}
    assert comp["tit_for_tat_chain"].value > 0 and "2 action-reaction steps" in comp["tit_for_tat_chain"].note
    assert abs(dyad(s3).value - sum(c.value * c.weight for c in dyad(s3).components)) < 1e-3
    assert s2[0].scope == "theatre" and s2[0].key == "Iraq"


def test_reference_article_backtest_plots_the_rising_chain(shared_data, tmp_path, capsys):
    art = shared_data / "articles" / "us_strikes_iraq_syria_2021-06-28.txt"
    assert backtest_main(["--article", str(art), "--out", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    png = tmp_path / "article.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dyad = json.loads((tmp_path / "article.json").read_text())["dyad:United States vs proxies:IR"]
    # February strikes -> drone attacks since April -> June strikes: a two-step chain.
    assert [p["at"][:7] for p in dyad] == ["2021-02", "2021-05", "2021-06"]
    assert len(dyad[-1]["chain"]) == 3
    assert dyad[-1]["index"] == max(p["index"] for p in dyad)
    assert out["png"] == str(png)


def test_a_record_dated_9999_prunes_no_shared_history():
    """Issue 20, attack round 2: the tracker keeps WINDOW_DAYS before the newest incident, so
    one incident dated 9999 dropped Iraq's index from 0.837 to 0.287 and a 20-step tit-for-tat
    chain to 0. Its date is held to the wall clock (plus MAX_FUTURE), and the history stays.
    The record is built past the model (which already makes such a date unknown), as a
    hostile producer's would be decoded by an older reader."""
    now = datetime.now(UTC)
    start = now - timedelta(days=100)
    iraq = ("Iraq", "IQ")

    def chain(tracker):
        out = None
        for i in range(21):  # militia and state answer each other every 4 days: a 20-step chain
            who, whom = (MILITIA, US) if i % 2 else (US, MILITIA)
            at = start + timedelta(days=4 * i)
            out = tracker.observe(ev(i, who, [whom], at, country=iraq), at, now=now)
        return out

    control, attacked = EscalationTracker(), EscalationTracker()
    chain(control)
    chain(attacked)
    far = datetime(9999, 12, 31, tzinfo=UTC)
    hostile = Event.model_construct(
        **{
            **dict(ev(99, US, [], now, country=("Yemen", "YE"))),
            "time": EventTime.model_construct(date=far.date(), start=far, precision="day"),
        }
    )
    attacked.observe(hostile, far, now=now)
    after = start + timedelta(days=84)
    nxt = ev(100, MILITIA, [US], after, etype=EventType.DRONE_STRIKE, country=iraq)
    want = control.observe(nxt, after, now=now)
    got = attacked.observe(nxt, after, now=now)
    theatre = lambda ss: next(s for s in ss if s.scope == "theatre")  # noqa: E731
    dyad = lambda ss: next(s for s in ss if s.scope == "dyad")  # noqa: E731
    assert len(dyad(got).tit_for_tat_chain) == len(dyad(want).tit_for_tat_chain) == 22
    assert theatre(got).value == theatre(want).value > 0.5
    assert dyad(got).value == dyad(want).value
