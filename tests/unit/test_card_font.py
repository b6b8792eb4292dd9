"""The password card's Chinese font comes from a package whose licence is clear and shipped beside it."""

from __future__ import annotations

from importlib import metadata

from hongbao.adapters.images import _font, cjk_font_path


def test_the_card_font_is_the_bundled_noto_sans_cjk_sc() -> None:
    assert cjk_font_path().parent.name == "noto_cjk_sans_otc"
    assert _font(30).getname() == ("Noto Sans CJK SC", "Regular")


def test_the_font_package_ships_the_sil_open_font_licence() -> None:
    dist = metadata.distribution("noto-cjk-sans-otc")
    assert dist.metadata["License-Expression"] == "OFL-1.1"
    licences = [f for f in dist.files or () if f.name == "LICENSE"]
    assert licences and "SIL OPEN FONT LICENSE Version 1.1" in licences[0].read_text()
