"""ConText cues written inside the entity: "status post CABG", "chronic infarct", "psychiatric history".

medspaCy's ConText never lets a cue modify an entity it overlaps (it guards against a concept modifying
itself), so a target phrase that carries its own cue loses it: "old infarct" is matched whole and "old"
makes nothing historical. This component runs right after ConText and applies, for the categories
named in models/pipeline.json (`context_inner_cue_categories`), each such cue whose direction points
at words of the same entity: a forward cue followed by more of the entity, a backward cue preceded by
more of it. The cue's allowed and excluded types hold as they do in ConText.
"""

from spacy.language import Language
from spacy.tokens import Doc

from extractor import knowledge


class InnerCues:
    def __init__(self, categories: frozenset[str], attributes: dict[str, dict[str, bool]]) -> None:
        self.categories = categories
        self.attributes = attributes

    def __call__(self, doc: Doc) -> Doc:
        graph = doc._.context_graph
        if graph is None or not doc.ents:
            return doc
        cues = [m for m in graph.modifiers if m.category in self.categories and m.category in self.attributes]
        if not cues:
            return doc
        for ent in doc.ents:
            for cue in cues:
                start, end = cue.modifier_span
                if end <= ent.start or start >= ent.end or not cue.allows(ent.label_.upper()):
                    continue
                direction = cue.direction.upper()
                forward = direction in ("FORWARD", "BIDIRECTIONAL") and end < ent.end
                backward = direction in ("BACKWARD", "BIDIRECTIONAL") and start > ent.start
                if not (forward or backward) or cue in ent._.modifiers:
                    continue
                ent._.modifiers += (cue,)
                for attr, value in self.attributes[cue.category].items():
                    setattr(ent._, attr, value)
        return doc


@Language.factory("context_inner_cues")
def make_inner_cues(nlp: Language, name: str) -> InnerCues:
    """After medspacy_context: its attribute mapping says what each category sets."""
    context = nlp.get_pipe("medspacy_context")
    categories = frozenset(c.upper() for c in knowledge.pipeline_config().context_inner_cue_categories)
    return InnerCues(categories, dict(context.context_attributes_mapping or {}))
