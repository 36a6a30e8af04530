"""Page tokens are sealed with an HMAC: forged, foreign or tampered tokens are INVALID_ARGUMENT."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory_server.api.page_tokens import DEVELOPMENT_KEY, MIN_KEY_LENGTH, PageTokens, parse_keys
from inventory_server.domain.errors import InvalidArgument

OLD = "o" * MIN_KEY_LENGTH
NEW = "n" * MIN_KEY_LENGTH


def refused(tokens: PageTokens, token: str) -> str:
    with pytest.raises(InvalidArgument) as caught:
        tokens.open(token)
    assert [v.field for v in caught.value.violations] == ["page_token"]
    return caught.value.message


def test_a_sealed_token_opens_to_the_listing_cursor() -> None:
    tokens = PageTokens([NEW])
    sealed = tokens.seal("eyJmIjoiZnAifQ")
    assert sealed != "eyJmIjoiZnAifQ"
    assert tokens.open(sealed) == "eyJmIjoiZnAifQ"


def test_the_empty_token_stays_empty_both_ways() -> None:
    tokens = PageTokens([NEW])
    assert tokens.seal("") == ""
    assert tokens.open("") == ""


def test_an_unsealed_or_tampered_token_is_refused() -> None:
    tokens = PageTokens([NEW])
    sealed = tokens.seal("eyJmIjoiZnAifQ")
    inner, _, mac = sealed.rpartition(".")
    for forged in ("eyJmIjoiZnAifQ", inner + "x." + mac, inner + "." + mac[:-1], "." + mac, sealed + "."):
        assert "page token" in refused(tokens, forged)


def test_a_token_of_a_server_with_another_key_is_refused() -> None:
    foreign = PageTokens([OLD]).seal("eyJmIjoiZnAifQ")
    refused(PageTokens([NEW]), foreign)


def test_keys_rotate_newest_first_older_keys_still_open() -> None:
    issued_before = PageTokens([OLD]).seal("abc")
    rotated = PageTokens([NEW, OLD])
    assert rotated.open(issued_before) == "abc"
    assert PageTokens([NEW]).open(rotated.seal("abc")) == "abc"  # new tokens use the newest key


@given(st.text(max_size=300))
def test_any_text_opens_or_is_a_clean_invalid_argument(text: str) -> None:
    tokens = PageTokens([NEW])
    try:
        tokens.open(text)
    except InvalidArgument as error:
        assert error.violations[0].field == "page_token"  # noqa: PT017 - hypothesis needs try/except


def test_parse_keys_splits_on_commas_newest_first_and_refuses_short_keys() -> None:
    assert parse_keys(f" {NEW} ,{OLD}\n") == [NEW, OLD]
    with pytest.raises(ValueError, match=f"at least {MIN_KEY_LENGTH}"):
        parse_keys(f"{NEW},short")
    with pytest.raises(ValueError, match="no key"):
        parse_keys(" , ")


def test_the_development_key_is_long_enough_and_public() -> None:
    assert len(DEVELOPMENT_KEY) >= MIN_KEY_LENGTH
    assert "development" in DEVELOPMENT_KEY
