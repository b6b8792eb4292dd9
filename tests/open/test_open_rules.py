"""The domain rules of open packets: phrase normalisation, codes, digests, sealing, distance."""

from __future__ import annotations

import pytest

from hongbao.domain.errors import HongbaoError
from hongbao.domain.geo import haversine_m
from hongbao.domain.open_kinds import (
    Place,
    SecretKind,
    check_distance,
    check_place,
    clean_code,
    new_code,
    normalize_phrase,
    parse_channel,
    parse_platform,
    seal,
    secret_digest,
    unseal,
)

KEY = b"k" * 32


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("马到成功", "马到成功"),
        ("  马到  成功 ", "马到 成功"),  # whitespace collapsed and stripped
        ("马到\u3000成功", "马到 成功"),  # the ideographic (full-width) space is a space
        ("ＨｏｎｇＢａｏ２０２６", "hongbao2026"),  # full-width Latin and digits become half-width, case-folded
        ("HongBao", "hongbao"),
        ("Straße", "strasse"),  # case-folding, not lower-casing
        ("新年\u200b快乐", "新年快乐"),  # invisible format characters removed
        ("恭喜发财！", "恭喜发财!"),  # full-width punctuation becomes half-width
        ("\t恭喜\n发财\r", "恭喜 发财"),
    ],
)
def test_phrase_normalisation_gives_one_form_for_what_people_consider_the_same_phrase(typed, normalized):
    assert normalize_phrase(typed) == normalized


@pytest.mark.parametrize("typed", ["", "   ", "\u200b", "x" * 33, 42, None, "a\x00b"])
def test_phrase_normalisation_refuses_empty_long_or_non_text_phrases(typed):
    with pytest.raises(HongbaoError) as refused:
        normalize_phrase(typed)
    assert refused.value.code == "invalid_phrase"


def test_new_codes_give_six_random_digits_that_are_not_sequential():
    codes = [new_code(6) for _ in range(200)]
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(set(codes)) > 190  # random, not a counter nor a constant
    assert sorted(codes) != codes


def test_a_typed_code_gives_its_digits_with_full_width_digits_and_spaces_accepted():
    assert clean_code(" 428 193 ", 6) == "428193"
    assert clean_code("４２８１９３", 6) == "428193"
    for bad in ("42819", "4281934", "42819a", 428193):
        with pytest.raises(HongbaoError) as refused:
            clean_code(bad, 6)
        assert refused.value.code == "invalid_code"


def test_digests_give_the_same_bytes_for_the_same_secret_and_differ_by_kind_and_key():
    code = secret_digest(KEY, SecretKind.CODE, "123456")
    assert len(code) == 32
    assert code == secret_digest(KEY, SecretKind.CODE, "123456")
    assert code != secret_digest(KEY, SecretKind.PHRASE, "123456")
    assert code != secret_digest(b"j" * 32, SecretKind.CODE, "123456")
    assert b"123456" not in code


def test_sealing_gives_back_the_secret_and_hides_it():
    sealed = seal(KEY, "马到成功 HongBao")
    assert "马到成功" not in sealed and "HongBao" not in sealed
    assert unseal(KEY, sealed) == "马到成功 HongBao"
    assert seal(KEY, "123456") != seal(KEY, "123456")  # a fresh nonce each time
    with pytest.raises(AssertionError):
        unseal(b"j" * 32, sealed)


def test_haversine_gives_known_distances():
    tiananmen, forbidden_city = (39.9055, 116.3976), (39.9163, 116.3972)
    assert 1_150 < haversine_m(*tiananmen, *forbidden_city) < 1_250
    assert haversine_m(*tiananmen, *tiananmen) == 0
    beijing, shanghai = (39.9042, 116.4074), (31.2304, 121.4737)
    assert 1_060_000 < haversine_m(*beijing, *shanghai) < 1_075_000


def test_distance_check_refuses_the_far_and_the_silent_and_admits_the_near():
    place = Place(39.9055, 116.3976, 100)
    check_distance(place, (39.9058, 116.3978))  # about 40 m away
    check_distance(None, None)  # no place set: no check
    with pytest.raises(HongbaoError) as far:
        check_distance(place, (39.9163, 116.3972))
    assert far.value.code == "too_far" and far.value.status == 403
    with pytest.raises(HongbaoError) as silent:
        check_distance(place, None)
    assert silent.value.code == "location_required"


@pytest.mark.parametrize(
    ("lat", "lng", "radius"), [(91, 0, 100), (0, 181, 100), (0, 0, 5), (0, 0, 10_001), (0, None, 100), (True, 0, 100)]
)
def test_a_place_out_of_range_or_incomplete_gives_invalid_location(lat, lng, radius):
    with pytest.raises(HongbaoError) as refused:
        check_place(lat, lng, radius)
    assert refused.value.code == "invalid_location"


def test_platforms_and_channels_give_their_names_or_refusals():
    assert parse_platform("WeChat", required=True) == "wechat"
    assert parse_platform(None, required=False) == "direct"
    assert parse_channel(None) == "app" and parse_channel("web") == "web"
    with pytest.raises(HongbaoError):
        parse_platform("myspace", required=True)
    with pytest.raises(HongbaoError):
        parse_channel("tv")
