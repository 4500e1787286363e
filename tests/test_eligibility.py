"""The partner briefing: cited where the documents speak, explicit where they are silent, and never
quoting a piece of a sentence."""

from __future__ import annotations

import json
import re
import shutil
from typing import get_args

import pytest
from conftest import CORPUS, ROOT

from sstc_assistant.assistant import Assistant
from sstc_assistant.eligibility import (
    ENTITIES,
    REGIONS,
    THEME_ITEMS,
    THEMES,
    Briefing,
    EntityType,
    Profile,
    Reader,
    Region,
    Section,
    briefing,
    describes_joining,
    next_steps_section,
)
from sstc_assistant.ingest import ingest
from sstc_assistant.retrieval import Filters
from sstc_assistant.settings import Settings
from sstc_assistant.types import Citation

LATIN_AMERICAN_UNIVERSITY = Profile(
    name="Universidad de ejemplo",
    region="Latin America and the Caribbean",
    entity_type="academia",
    themes=["knowledge sharing"],
)
PROFILES = [
    LATIN_AMERICAN_UNIVERSITY,
    Profile(
        region="Africa",
        entity_type="municipal government",
        themes=["technology transfer", "trade and investment"],
    ),
    Profile(
        region="Arab States",
        entity_type="private sector",
        themes=["co-financing of pilots", "Sustainable Development Goals"],
    ),
    Profile(region="other", entity_type="UN entity"),
    Profile(
        region="Europe and the CIS",
        entity_type="civil society organization",
        themes=["needs assessment", "solar ferries"],
    ),
]
# the regions the overview names ("close to 50 cities and institutions from Africa, Arab States, …")
NAMED_REGIONS = ["Africa", "Arab States", "Asia and the Pacific", "Europe and the CIS"]
SENTENCE_END = re.compile(r"[.!?;:][\"”’)\]]*\d*$|;\s+(?:and|or)$")
SUB_ITEM = re.compile(r"^\((?:[a-z]{1,3}|[ivxl]{1,5})\)\s")


@pytest.fixture(scope="module")
def briefings(corpus_assistant: Assistant) -> dict[str, Briefing]:
    """One briefing per profile over the real corpus index (the questions cost seconds each)."""
    return {p.model_dump_json(): briefing(corpus_assistant, p) for p in PROFILES}


def _of(briefings: dict[str, Briefing], profile: Profile) -> Briefing:
    return briefings[profile.model_dump_json()]


def _sections(b: Briefing) -> dict[str, Section]:
    return {s.title: s for s in b.sections}


def test_arab_states_municipality_briefing(corpus_assistant) -> None:
    b = briefing(
        corpus_assistant,
        Profile(region="Arab States", entity_type="municipal government", themes=["technology transfer"]),
    )
    sections = _sections(b)
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


def test_latin_american_university_hears_which_regions_the_documents_name(briefings) -> None:
    b = _of(briefings, LATIN_AMERICAN_UNIVERSITY)
    region = _sections(b)["Partners from your region"]
    assert not region.said
    assert region.named == NAMED_REGIONS
    assert region.not_mentioned == ["Latin America and the Caribbean"]
    assert region.note == (
        "The documents name partners from Africa, the Arab States, Asia and the Pacific, and Europe and "
        "the CIS [1]; they do not mention Latin America and the Caribbean."
    )
    # the statement is cited to the sentence that names the regions, which is not shown as an answer
    [naming] = region.answer.citations
    assert naming.doc_id == "cities-project-overview" and naming.n == 1
    assert all(r in naming.quote for r in NAMED_REGIONS)
    assert not region.answer.answerable and region.answer.answer == region.note
    assert "Latin America" not in " ".join(c.quote for s in b.sections for c in s.answer.citations)


def test_silence_on_entity_and_joining_is_said_not_guessed(briefings) -> None:
    sections = _sections(_of(briefings, LATIN_AMERICAN_UNIVERSITY))
    entity = sections["Entities like yours (academia)"]
    assert not entity.said and entity.not_mentioned == ["academia"]
    assert "the Cities Project documents do not mention them" in entity.note
    themes = sections["Services that match your interests"]
    assert themes.said and themes.named == ["knowledge sharing"] and themes.not_mentioned == []
    assert themes.note == "The documents address knowledge sharing."
    steps = sections["Next steps the documents mention"]
    assert not steps.said and not steps.answer.citations
    assert steps.note == "The documents do not describe how to apply or join."


def test_themes_the_documents_never_mention_are_named(briefings) -> None:
    profile = PROFILES[4]
    themes = _sections(_of(briefings, profile))["Services that match your interests"]
    assert themes.said and themes.named == ["needs assessment"]
    assert themes.not_mentioned == ["solar ferries"]
    assert themes.note == "The documents address needs assessment; they do not mention solar ferries."


def test_an_african_city_gets_its_region_quoted(briefings) -> None:
    region = _sections(_of(briefings, PROFILES[1]))["Partners from your region"]
    assert region.said and region.note == "" and region.not_mentioned == []
    assert "Africa" in region.named
    [quote] = region.answer.citations
    assert "Africa" in quote.quote
    assert region.answer.answer == f"{' '.join(quote.quote.split())} [1]"


def _fragment(quote: str) -> str | None:
    """Why a quote is not a whole sentence or sub-paragraph, or None."""
    text = quote.strip()
    if text[:1].islower() and not SUB_ITEM.match(text):
        return "starts in lower case mid-clause"
    if not SENTENCE_END.search(text):
        return "ends without sentence punctuation"
    return None


def _assert_whole(assistant: Assistant, b: Briefing) -> None:
    """Every quote is a whole sentence or sub-paragraph, standing where a sentence of its document
    begins; a said section is its quotes, each cited once, in order."""
    quotes = [(s.title, c) for s in b.sections for c in s.answer.citations]
    assert quotes, "the briefing quotes nothing at all"
    for title, c in quotes:
        assert _fragment(c.quote) is None, f"{title}: {_fragment(c.quote)}: {c.quote!r}"
        doc = assistant.index.document_text(c.doc_id)
        where = re.search(r"\s+".join(map(re.escape, c.quote.split())), doc)
        assert where, f"{title}: the quote is not the document's text: {c.quote!r}"
        before = doc[: where.start()].rstrip()
        gap = doc[len(before) : where.start()]
        assert not before or before.endswith((".", "!", "?", ":", ";")) or "\n\n" in gap, (
            f"{title}: the quote starts mid-sentence: …{before[-60:]!r} | {c.quote[:60]!r}"
        )
    for s in b.sections:
        if s.said:
            sentences = [f"{' '.join(c.quote.split())} [{c.n}]" for c in s.answer.citations]
            assert s.answer.answer.replace("- ", "").replace("\n", " ") == " ".join(sentences)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: f"{p.region}-{p.entity_type}")
def test_no_quote_is_a_fragment(briefings, corpus_assistant: Assistant, profile: Profile) -> None:
    _assert_whole(corpus_assistant, _of(briefings, profile))


def test_a_cut_quote_is_read_back_to_its_whole_sentence(corpus_assistant: Assistant) -> None:
    """What a clause-level quote (the generative path) or a chunk cut at its head would cite."""
    reader = Reader(corpus_assistant.index)
    clause = Citation(
        n=1,
        doc_id="cities-project-overview",
        pages=[1],
        chunk_id="clause",
        quote="pointed out that the number of actors in South-South and triangular cooperation have expanded",
    )
    whole = reader.whole(clause)
    assert whole is not None
    assert whole.quote.startswith("Report of the Secretary-General: Role of South-South cooperation")
    assert whole.quote.endswith("through South-South and triangular cooperation efforts.")
    heading = clause.model_copy(
        update={"doc_id": "cities-project-2024-highlights", "quote": "About UNOSSC and The Cities Project"}
    )
    assert reader.whole(heading) is None, "a heading is no sentence to quote"


def test_markdown_shows_what_the_documents_do_not_say(briefings) -> None:
    md = _of(briefings, LATIN_AMERICAN_UNIVERSITY).markdown()
    assert (
        "_The documents name partners from Africa, the Arab States, Asia and the Pacific, and Europe and "
        "the CIS [1]; they do not mention Latin America and the Caribbean._"
    ) in md
    assert "the Cities Project documents do not mention them._" in md
    assert "_The documents do not describe how to apply or join._" in md
    # the backing sentence is shown beside its citation, not as an answer
    assert (
        "overview, p. 1: “By the end of 2018, there were close to 50 cities and institutions from Africa"
        in md
    )
    assert "valid responses" not in md, "a sentence about survey responses is no next step"


def test_an_answer_that_is_no_next_step_is_not_quoted_as_one(corpus_assistant: Assistant) -> None:
    """The question the briefing used to ask: its answer (the survey responses) says nothing of how
    to join, so the section says the documents do not describe it."""
    question = "How did the project team identify potential city partners and development priorities?"
    # its best sentence is the survey one (probability about 0.50, on the calibrated threshold:
    # whether it is quoted as an answer of its own is not what this test is about)
    lenient = Assistant(
        corpus_assistant.settings.model_copy(update={"abstain_threshold": 0.3}),
        embedder=corpus_assistant.embedder,
    )
    asked = lenient.ask(question, filters=Filters(kinds=["project-report"]))
    assert asked.answerable and "valid responses" in asked.citations[0].quote
    steps = next_steps_section(corpus_assistant, Reader(corpus_assistant.index), question)
    assert not steps.said and not steps.answer.citations
    assert steps.note == "The documents do not describe how to apply or join."


def test_joining_words_decide_next_steps() -> None:
    overview = (CORPUS / "cities-project-overview.txt").read_text(encoding="utf-8")
    highlights = (CORPUS / "cities-project-2024-highlights.txt").read_text(encoding="utf-8")
    survey = re.search(r"These surveys received .*? priorities\.", highlights)
    joined = re.search(r"By the end of 2018[^.]*\.", overview)
    assert joined and not describes_joining(joined.group(0)), "who joined is not how to join"
    assert survey and not describes_joining(survey.group(0)), "surveying partners is not how to join"
    assert describes_joining("Cities that wish to join submit an expression of interest to the project team.")
    assert describes_joining("Applications are open until 30 June.")


AMERICAS = (
    "In 2025, the Cities Project extended its platform and network to new partners through exchanges on "
    + ", ".join(
        f"{work} for secondary cities and their neighbourhoods"
        for work in [
            "urban water management",
            "solid waste recycling",
            "public transport planning",
            "heritage tourism",
            "flood early warning",
            "street lighting",
            "affordable housing",
            "green building codes",
            "digital land registries",
            "small business incubation",
            "vocational training",
            "clean cooking",
        ]
    )
    + ", so that cities and institutions from Latin America and the Caribbean joined the Cities Project "
    "to share knowledge on urban resilience with partners in other regions."
)
CALL = (
    "Cities and institutions that wish to join the Cities Project submit an expression of interest to the "
    "project team at UNOSSC, which reviews it with the city's development priorities."
)


@pytest.fixture(scope="module")
def more_reports(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """The real Cities Project reports plus two written for these tests: a call for partners that
    tells how to join, and a report whose one long sentence names Latin America and the Caribbean
    only after a chunk boundary (chunks of 120 tokens), as long UN paragraphs are split."""
    folder = tmp_path_factory.mktemp("more-reports")
    for path in CORPUS.glob("cities-project-*.txt"):
        shutil.copy(path, folder)
    catalog = json.loads((CORPUS / "catalog.json").read_text(encoding="utf-8"))
    documents = [d for d in catalog["documents"] if d["doc_id"].startswith("cities-project")]
    for doc_id, title, text in [
        ("cities-project-call", "Cities Project call for city partners", CALL),
        ("cities-project-americas", "Cities Project in the Americas", AMERICAS),
    ]:
        (folder / f"{doc_id}.txt").write_text(f"{title}\n\n{text}\n", encoding="utf-8")
        documents.append(
            {
                "doc_id": doc_id,
                "title": title,
                "date": "2025",
                "kind": "project-report",
                "language": "en",
                "source": "test",
            }
        )
    (folder / "catalog.json").write_text(json.dumps({"documents": documents}), encoding="utf-8")
    settings = Settings(
        home=ROOT,
        indexes_dir=tmp_path_factory.mktemp("idx-more"),
        index="more",
        corpus_dir=folder,
        chunk_max_tokens=120,
    )
    assert ingest(settings).ingested_any
    return Assistant(settings)


@pytest.mark.xfail(
    reason="the follow-up 'Which regions ..., including Latin America and the Caribbean?' abstains under the "
    "calibrated threshold, so the section says the documents 'do not say whether' partners come from "
    "there instead of quoting the Americas report",
    strict=False,
)
def test_a_sentence_cut_at_its_head_by_a_chunk_is_quoted_whole(more_reports: Assistant) -> None:
    starts = [
        r["text"]
        for r in more_reports.index.db.execute(
            "SELECT text FROM chunks WHERE doc_id = 'cities-project-americas' ORDER BY ordinal"
        )
    ]
    assert any(t.startswith("America and the Caribbean") for t in starts), "a chunk must start mid-sentence"
    b = briefing(more_reports, LATIN_AMERICAN_UNIVERSITY)
    region = _sections(b)["Partners from your region"]
    assert region.said and region.note == "" and "Latin America and the Caribbean" in region.named
    [quote] = region.answer.citations
    assert " ".join(quote.quote.split()) == AMERICAS
    _assert_whole(more_reports, b)
    steps = _sections(b)["Next steps the documents mention"]
    assert steps.said and steps.note == ""
    [step] = steps.answer.citations
    assert step.doc_id == "cities-project-call" and step.quote == CALL


def test_every_region_kind_and_theme_has_its_words() -> None:
    assert set(REGIONS.say) == set(get_args(Region))
    assert set(REGIONS.patterns) == set(get_args(Region)) - {"other"}
    assert set(ENTITIES.patterns) == set(get_args(EntityType))
    assert set(THEME_ITEMS.patterns) == set(THEMES) and THEMES
    # "Cities Project" names the project, not cities; South Africa is a State, not the region
    assert ENTITIES.named_in("the Cities Project platform") == []
    assert REGIONS.named_in("South Africa and the Arab States") == ["Arab States"]
