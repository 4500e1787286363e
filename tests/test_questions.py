"""What a question asks for and pins down (questions.py): the rules that let the assistant tell a
similar-sounding sentence from an answer."""

from __future__ import annotations

import pytest

from sstc_assistant.questions import (
    answer_type,
    countries,
    has_answer_type,
    names_ordinal,
    ordinal_value,
    question_acronyms,
    question_ordinals,
    spells_out,
)

EXPO = "Which city will host the twelfth Global South-South Development Expo?"
CONFERENCE = (
    "Which country will host the third High-level United Nations Conference on South-South Cooperation?"
)


def test_an_ordinal_pins_the_name_it_qualifies() -> None:
    assert question_ordinals(EXPO) == [("twelfth", {"global", "south-south", "develop", "expo"})]
    # "United Nations" names half the corpus: the conference is told apart by "High-level"
    assert question_ordinals(CONFERENCE) == [("third", {"high-level", "conferenc"})]
    # a common noun is one word; what follows is the question's verb
    assert question_ordinals("Which day did delegates at the twenty-second session call for?") == [
        ("twenty-second", {"session"})
    ]
    # an adverb is not an ordinal of a series
    assert question_ordinals("Our municipality first needs help identifying priorities.") == []


def test_a_passage_must_name_the_same_occurrence_of_the_same_thing() -> None:
    ordinal, heads = question_ordinals(EXPO)[0]
    other_expo = (
        "Welcomes the eleventh Global South-South Development Expo in Bangkok and its twelfth session"
    )
    assert not names_ordinal(other_expo, ordinal, heads)
    assert names_ordinal("looks forward to the twelfth Global South-South Development Expo", ordinal, heads)
    ordinal, heads = question_ordinals(CONFERENCE)[0]
    landlocked = (
        "on the margins of the third United Nations Conference on the Landlocked Developing Countries"
    )
    assert not names_ordinal(landlocked, ordinal, heads)
    assert names_ordinal("convene the Third High-level United Nations Conference on", ordinal, heads)


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("22nd", 22),
        ("twenty-second", 22),
        ("Twenty second", 22),
        ("first", 1),
        ("tenth", 10),
        ("twentieth", 20),
        ("seventy-ninth", 79),
        ("eightieth", 80),
        ("session", None),
        ("twenty-foo", None),
    ],
)
def test_an_ordinal_is_read_as_its_number(token: str, value: int | None) -> None:
    assert ordinal_value(token) == value


def test_digits_and_words_name_the_same_occurrence() -> None:
    ordinal, heads = question_ordinals("When was the organizational meeting of the 22nd session held?")[0]
    assert names_ordinal("The Committee held its twenty-second session at Headquarters", ordinal, heads)
    assert not names_ordinal("The Committee held its twenty-third session at Headquarters", ordinal, heads)


def test_countries_are_read_whole_and_under_their_other_names() -> None:
    assert countries("the Government of China and Türkiye") == {"China", "Türkiye"}
    assert countries("Turkey") == {"Türkiye"}
    assert countries("Nigeria and South Sudan") == {"Nigeria", "South Sudan"}  # not Niger, not Sudan
    assert countries("Papua New Guinea") == {"Papua New Guinea"}
    assert countries("the United Nations Development Programme") == set()


def test_acronyms_are_matched_to_their_spelled_out_names() -> None:
    assert question_acronyms("What did UNCTAD and UNOSSC do under resolution II?") == {"UNCTAD", "UNOSSC"}
    assert spells_out(
        "UNCTAD", "Requests the United Nations Conference on Trade and Development, in its role"
    )
    assert spells_out("UNOSSC", "the United Nations Office for South-South Cooperation as focal point")
    assert not spells_out("UNCTAD", "the United Nations development system")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What is the deadline for submitting pilot project proposals?", "deadline"),
        ("When was the twenty-second session held?", "year"),
        ("Who presided over the twenty-first session?", "person"),
        ("Who was elected Rapporteur of the Committee?", "person"),
        ("Who responded to the Cities Project's 2024 needs surveys?", None),  # groups answer it
        ("Whom did the outcome document call upon to report?", None),  # an office answers it
        ("Когда было открыто окно трёхстороннего сотрудничества?", "year"),
        ("¿Cuántas delegaciones intervinieron en el debate?", "number"),
        ("Quel est le nom du maire de la ville?", "person"),
        ("南南合作高级别委员会的主席是谁？", "person"),
        ("كم عدد موظفي المكتب؟", "number"),
    ],
)
def test_what_a_question_asks_for(question: str, kind: str | None) -> None:
    assert answer_type(question) == kind


def test_a_dated_fact_is_not_a_deadline() -> None:
    q = "What is the deadline for submitting pilot project proposals?"
    assert not has_answer_type("deadline", "By the end of 2018, close to 50 cities had joined.", q)
    assert has_answer_type("deadline", "Proposals must be submitted no later than 31 March 2025.", q)
    assert has_answer_type("deadline", "Applications are accepted until 15 June.", q)


def test_a_person_is_a_name_with_a_state_not_an_organisation_with_an_acronym() -> None:
    q = "Who was the President of the twenty-second session?"
    assert has_answer_type("person", "The Committee elected Omar Hilale (Morocco) as President.", q)
    assert has_answer_type("person", "The session was opened by Ms. Dima Al-Khatib.", q)
    assert not has_answer_type(
        "person", "Partners include the United Nations Development Programme (UNDP).", q
    )
