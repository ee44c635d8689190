"""Matching tokens (SPEC §7): the region key's rules, and a token is neither the number nor
the county's child_key."""

from __future__ import annotations

import pytest

from kcbx.identity import child_key
from kcbx.region import tokens

pytestmark = pytest.mark.unit

NUMBER = "411082201403317030"
KEY = "a-region-key-of-thirty-two-or-more-characters"


def test_a_token_is_an_hmac_of_the_number_under_the_region_key():
    made = tokens.token(KEY, NUMBER)
    assert len(made) == 64 and NUMBER not in made
    assert made == tokens.token(KEY, NUMBER) != tokens.token(KEY + "x", NUMBER)
    assert made != child_key("a-county-pii-key-of-thirty-two-characters", NUMBER)
    assert tokens.fingerprint(KEY) != tokens.fingerprint(KEY + "x") and KEY not in tokens.fingerprint(KEY)


def test_the_region_key_is_long_and_not_the_countys_own(monkeypatch):
    monkeypatch.delenv(tokens.REGION_KEY_ENV, raising=False)
    assert tokens.region_key("any pii key") is None  # no region: no tokens
    monkeypatch.setenv(tokens.REGION_KEY_ENV, "short")
    with pytest.raises(tokens.RegionKeyError, match="too short") as short:
        tokens.region_key("any pii key")
    assert "short" not in str(short.value).replace("too short", "")  # the key itself is never shown
    monkeypatch.setenv(tokens.REGION_KEY_ENV, KEY)
    with pytest.raises(tokens.RegionKeyError, match="must differ"):
        tokens.region_key(KEY)
    assert tokens.region_key("the county's own pii key, another one") == KEY
