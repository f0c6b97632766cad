"""Words of Party and state body names that more than one extraction pass matches.

One list each, so that the entity post-passes (``extraction.compose``) and the
entity linker (``extraction.entities``) cannot drift apart when a level or a
committee is added. Lower case, as in running text; the regular expressions
built from them say themselves whether they take capitals too.
"""

from __future__ import annotations

# The Party committees of a territory ("Tỉnh ủy Thái Bình", "Huyện ủy Vũ Thư").
TERRITORY_COMMITTEES = ("tỉnh ủy", "huyện ủy", "thành ủy", "thị ủy", "quận ủy")

# Administrative levels printed before a place name ("huyện Đông Hưng", "thôn Lạc
# Thiện"), from the top: province and district, commune, village. The same units as
# extraction/data/places.yaml, which has "đặc khu" besides.
UPPER_LEVELS = ("tỉnh", "thành phố", "huyện", "quận", "thị xã")
COMMUNE_LEVELS = ("thị trấn", "xã", "phường")
VILLAGE_LEVELS = ("thôn", "làng", "xóm", "ấp", "bản")
LEVELS = UPPER_LEVELS + COMMUNE_LEVELS + VILLAGE_LEVELS

