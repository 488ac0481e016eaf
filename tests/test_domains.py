"""Translations between named domains: their names in logs and on the command line."""

import pytest

from unpaired.domains import Translation, pairs, parse_translation
from unpaired.errors import ConfigError


def test_single_letter_domains_keep_the_authors_names() -> None:
    translation = Translation("A", "B")
    assert (str(translation), translation.suffix) == ("AtoB", "AB")
    assert translation.back == Translation("B", "A")


def test_named_domains_spell_the_translation_out() -> None:
    translation = Translation("cat", "dog")
    assert (str(translation), translation.suffix) == ("cat_to_dog", "cat_to_dog")


def test_pairs_are_every_ordered_pair_of_different_domains() -> None:
    assert pairs(("A", "B")) == (Translation("A", "B"), Translation("B", "A"))
    assert len(pairs(("cat", "dog", "wild"))) == 6
    assert pairs(("A",)) == ()


@pytest.mark.parametrize("text", ["cat_to_dog", "cat->dog", Translation("cat", "dog")])
def test_a_translation_is_read_in_each_form(text) -> None:
    assert parse_translation(text, pairs(("cat", "dog"))) == Translation("cat", "dog")


def test_an_unknown_translation_lists_those_there_are() -> None:
    with pytest.raises(ConfigError, match=r"direction=cat_to_fox .* cat_to_dog, dog_to_cat"):
        parse_translation("cat_to_fox", pairs(("cat", "dog")))
    with pytest.raises(ConfigError, match="one-directional"):
        parse_translation("BtoA", (Translation("A", "B"),))
    with pytest.raises(ConfigError, match="it makes none"):
        parse_translation("AtoB", ())
