"""The consent page names exactly the field groups the published record standard declares
(issue 15): a group added to ``th.integration.record`` without words for the citizen, or
words for a group that no longer exists, fails here rather than on a citizen's screen."""
from __future__ import annotations

import json
from pathlib import Path

from hub.integration.eservices import FIELD_GROUPS
from hub.integration.record import field_groups

STANDARD = Path(__file__).resolve().parents[2] / "standards" / "th.integration.record"


def test_every_published_field_group_has_thai_and_english_words_and_no_other() -> None:
    for version in sorted(p for p in STANDARD.iterdir() if p.is_dir()):
        schema = json.loads((version / "schema.json").read_text(encoding="utf-8"))
        assert set(field_groups(schema)) == set(FIELD_GROUPS), version.name
    assert all(th and en and th != en for th, en in FIELD_GROUPS.values())
