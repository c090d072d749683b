"""Who says what about a strike: the ``strike_claims`` component (speakers, denials, blame) and
the assembly of each event's claims (casualty figures, responsibility, what was hit)."""

from . import component  # noqa: F401  (registers the factory)
