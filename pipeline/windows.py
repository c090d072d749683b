"""How long the job's keyed state lives, in event time, and what an alert remembers of an
incident: shared by the stages that keep the state (incidents.py, alerts.py) and by the
start-up read that rebuilds it (recovery.py), below all three so none imports another for them.
"""

from __future__ import annotations

from strikewatch.core.models import Incident

OPEN_FOR_HOURS = 72  # an incident takes new reports for 3 days after its last one (allowed lateness)
# An incident takes new reports for OPEN_FOR_HOURS after its last one (incidents.py);
# a day more covers late revisions. After that its suppression state is dropped.
SENT_TTL_S = (OPEN_FOR_HOURS + 24) * 3600


def fingerprint(inc: Incident) -> tuple:
    """What a subscription was told of an incident: a revision that changes none of it is no news."""
    return (
        round(inc.severity or 0.0, 2),
        inc.casualties.killed,
        inc.casualties.injured,
        inc.casualties.statement,
        inc.grade,
        inc.contested,
    )
