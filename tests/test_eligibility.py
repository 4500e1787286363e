"""The partner briefing: cited where the documents speak, explicit where they are silent."""

from __future__ import annotations

from sstc_assistant.eligibility import Profile, briefing


def test_arab_states_municipality_briefing(corpus_assistant) -> None:
    b = briefing(
        corpus_assistant,
        Profile(region="Arab States", entity_type="municipal government", themes=["technology transfer"]),
    )
    sections = {s.title: s for s in b.sections}
    region = sections["Partners from your region"]
    assert region.said and any("Arab States" in c.quote for c in region.answer.citations)
    entity = sections["Entities like yours (municipal government)"]
    assert entity.said and any("municipal" in c.quote for c in entity.answer.citations)
    pilots = sections["Pilot proposals that are prioritised"]
    assert pilots.said and any("prioritized" in c.quote for c in pilots.answer.citations)
    for s in b.sections:
        if s.said:
            assert s.answer.citations and all(
                c.doc_id.startswith("cities-project") for c in s.answer.citations
            )
    md = b.markdown()
    assert "[1]" in md and "p. 1" in md


def test_silence_is_said_not_guessed(corpus_assistant) -> None:
    b = briefing(corpus_assistant, Profile(region="Latin America and the Caribbean", entity_type="academia"))
    region = next(s for s in b.sections if s.title == "Partners from your region")
    assert not region.said
    assert "do not mention partners from Latin America and the Caribbean" in region.note
    assert "Latin America" not in " ".join(c.quote for s in b.sections for c in s.answer.citations)
