"""bot/usecases/names.py: how typed names find things, and never guess between look-alikes."""

from __future__ import annotations

from bot.usecases.catalog import matching
from bot.usecases.names import Named, ambiguity, clashing, distinct_labels, fold, pick

ITEMS = [
    Named("id-1", "Newsletter"),
    Named("id-2", "newsletter"),
    Named("id-3", "Donors"),
]


def test_fold_ignores_case_spaces_and_unicode_forms() -> None:
    assert fold("  Caf\u00e9   Club ") == fold("cafe\u0301 club") == "café club"
    assert fold("Straße") == fold("STRASSE")
    assert fold("Newsletter") != fold("News letter")


def test_one_match_is_found_and_an_id_is_taken_as_given() -> None:
    assert pick("donors ", ITEMS).found == ITEMS[2]
    assert pick("id-2", ITEMS).found == ITEMS[1]
    assert pick("Ghost", ITEMS).candidates == ()


def test_an_exact_spelling_does_not_pick_between_look_alikes() -> None:
    chosen = pick("Newsletter", ITEMS)
    assert chosen.ambiguous and chosen.found is None
    sentence = ambiguity("list", chosen)
    assert "2 lists answer to “Newsletter”" in sentence
    assert "“Newsletter” (id id-1)" in sentence and "“newsletter” (id id-2)" in sentence
    assert "`id-1`" in sentence and "I will not guess" in sentence


def test_clashing_names_the_ids_a_name_cannot_tell_apart() -> None:
    assert clashing(ITEMS) == {"id-1", "id-2"}


def test_labels_that_collide_after_the_cut_end_with_a_piece_of_their_id() -> None:
    head = "x" * 80
    pairs = [("aaaaaaaa-1", head + " one"), ("bbbbbbbb-2", head + " two"), ("c", "Short")]
    labels = distinct_labels(pairs, 75)
    assert all(len(label) <= 75 for label in labels)
    assert len({fold(label) for label in labels}) == 3
    assert labels[0].endswith("id aaaaaaaa") and labels[2] == "Short"
    twins = distinct_labels([("1", "VIP"), ("2", "vip")], 75)
    assert twins == ["VIP · id 1", "vip · id 2"]


def test_type_ahead_matches_folded_names() -> None:
    pairs = [("1", "Café  Club"), ("2", "Other")]
    assert matching(pairs, "cafe\u0301 c") == [("1", "Café  Club")]
