"""strikewatch's spaCy components, registered with ``@Language.factory`` on import.

``PIPES`` is their order after the statistical pipes (``load_nlp`` adds them). Each
writes one ``doc.spans`` group (``base.Keys``) and can run alone on ``nlp.make_doc``:

    nlp = spacy.blank("en"); finder = nlp.add_pipe("strike_weapons")
    doc = finder(nlp.make_doc("F-16s dropped 2,000-pound bombs"))
    [s._.sw_weapon.name for s in doc.spans["sw_weapons"]]   # ['F-16', '2,000-pound bomb']
"""

from ..facts.casualties import component as _casualties  # noqa: F401  (registers the factories)
from ..facts.parties import component as _parties  # noqa: F401
from ..facts.triggers import component as _triggers  # noqa: F401
from ..facts.weapons import component as _weapons  # noqa: F401
from . import attributions, cues, places, times  # noqa: F401
from .base import Keys

# Actors before places (places read the actors for the country context) and roles
# (which name the actors they find); triggers before modality and roles.
PIPES = (
    "strike_triggers",
    "strike_actors",
    "strike_weapons",
    "strike_places",
    "strike_times",
    "strike_casualties",
    "strike_attributions",
    "strike_cues",
    "strike_modality",
    "strike_roles",
    "strike_parties",
)

__all__ = ["PIPES", "Keys"]
