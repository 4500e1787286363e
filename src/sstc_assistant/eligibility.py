"""Partner briefing: what the documents say to a city or institution that considers joining the
Cities Project. A set of retrieval questions composed from its profile, each answered (and cited)
by the same Assistant, or marked as something the documents do not say."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from .assistant import Assistant
from .retrieval import Filters
from .types import Answer

Region = Literal[
    "Africa",
    "Arab States",
    "Asia and the Pacific",
    "Europe and the CIS",
    "Latin America and the Caribbean",
    "other",
]
EntityType = Literal[
    "municipal government",
    "provincial government",
    "national agency",
    "UN entity",
    "civil society organization",
    "private sector",
    "academia",
]
THEMES = [
    "Sustainable Development Goals",
    "trade and investment",
    "technology transfer",
    "capacity development",
    "expertise exchange",
    "needs assessment",
    "co-financing of pilots",
    "knowledge sharing",
]
# how the documents name each kind of entity, for the lexical check of an answer
ENTITY_TERMS = {
    "municipal government": ["municipal", "local authorities", "cities", "city"],
    "provincial government": ["provincial", "sub-national", "subnational"],
    "national agency": ["government", "national"],
    "UN entity": ["United Nations", "UNDP", "UNIDO", "UN "],
    "civil society organization": ["CSO", "civil society"],
    "private sector": ["private sector", "business"],
    "academia": ["academia", "universit", "think tank", "research"],
}


class Profile(BaseModel):
    model_config = {"extra": "forbid"}
    name: str = Field("", max_length=200, description="the city or institution (optional)")
    region: Region
    entity_type: EntityType
    themes: list[str] = Field(default_factory=list, max_length=10)


class Section(BaseModel):
    title: str
    question: str
    answer: Answer
    said: bool = Field(description="the documents address this point for this profile")
    note: str = ""


class Briefing(BaseModel):
    profile: Profile
    sections: list[Section]

    def markdown(self) -> str:
        lines = []
        for s in self.sections:
            lines.append(f"### {s.title}")
            if s.said:
                lines.append(s.answer.answer)
                lines += [f"- [{c.n}] {c.human}" for c in s.answer.citations]
            else:
                lines.append(f"_{s.note or 'The documents do not say.'}_")
            lines.append("")
        return "\n".join(lines)


def _mentions(answer: Answer, terms: list[str]) -> bool:
    text = " ".join(c.quote for c in answer.citations)
    return any(re.search(re.escape(t), text, re.IGNORECASE) for t in terms)


def briefing(assistant: Assistant, profile: Profile) -> Briefing:
    project = Filters(kinds=["project-report"])
    themes = ", ".join(profile.themes) if profile.themes else "South-South cooperation among cities"
    sections: list[Section] = []

    def ask(
        title: str,
        question: str,
        filters: Filters | None,
        *,
        must_mention: list[str] | None = None,
        missing: str = "",
    ) -> None:
        answer = assistant.ask(question, filters=filters)
        said = answer.answerable and (not must_mention or _mentions(answer, must_mention))
        sections.append(
            Section(title=title, question=question, answer=answer, said=said, note="" if said else missing)
        )

    if profile.region == "other":
        sections.append(
            Section(
                title="Your region",
                question="",
                said=False,
                answer=Answer(question="", answer="", answerable=False),
                note="The documents list partners by UN region; for a region outside those they say nothing.",
            )
        )
    else:
        ask(
            "Partners from your region",
            f"Which regions do the cities and institutions that joined the Cities Project come from, "
            f"including {profile.region}?",
            project,
            must_mention=[profile.region],
            missing=f"The documents do not mention partners from {profile.region}; they do not say whether "
            "entities from that region are eligible.",
        )
    ask(
        f"Entities like yours ({profile.entity_type})",
        f"What role do {profile.entity_type}s play in South-South and triangular cooperation?",
        None,
        must_mention=ENTITY_TERMS[profile.entity_type],
        missing=f"The documents do not describe the role of entities of this type ({profile.entity_type}).",
    )
    ask(
        "Services that match your interests",
        f"Which services does the Cities Project provide for {themes}?",
        project,
        missing="The documents do not describe services for these themes.",
    )
    ask(
        "Pilot proposals that are prioritised",
        "Which pilot project proposals will be prioritized?",
        project,
        missing="The documents do not say which pilot proposals are prioritised.",
    )
    ask(
        "Next steps the documents mention",
        "How did the project team identify potential city partners and development priorities?",
        project,
        missing="The documents do not describe how to apply or join.",
    )
    return Briefing(profile=profile, sections=sections)
