"""The parties of a strike as spaCy components: who is named (``strike_actors`` ->
``doc.spans["sw_actors"]``, ``actors.py``) and who struck whom (``strike_roles`` ->
``doc.spans["sw_roles"]``, ``roles.py``).

    nlp = spacy.blank("en"); nlp.add_pipe("strike_actors")
    doc = nlp("Iran-backed Kataib Hezbollah fighters")  # -> Kataib Hezbollah, militia_proxy, sponsor IR
"""

from __future__ import annotations

from spacy.language import Language

from .actors import ActorFinder
from .roles import RoleLabeller


@Language.factory("strike_actors", assigns=["doc.spans"])
def make_actor_finder(nlp: Language, name: str) -> ActorFinder:
    return ActorFinder(nlp, name)


@Language.factory("strike_roles", assigns=["doc.spans"], requires=["token.dep", "doc.spans"])
def make_role_labeller(nlp: Language, name: str) -> RoleLabeller:
    return RoleLabeller(nlp, name)
