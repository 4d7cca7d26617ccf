"""How the unified record chooses between sources (issue 15): the group's owners in their
declared order, then the freshest observation; agreeing sources are no conflict."""
from __future__ import annotations

from datetime import UTC, datetime

from hub.integration.queries import QueryService
from hub.integration.record import DESIGNATED_OWNER, FRESHEST, Candidate, choose, field_groups

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def source(system: str, provider: str = "TH/GOV/X/a") -> QueryService:
    return QueryService(provider, "record.person/v1", system, "http", {}, None, None, "001", 1.0, 0, 1024, "t", T0)


def at(day: int) -> datetime:
    return T0.replace(day=day)


def test_the_first_owner_wins_over_a_fresher_source() -> None:
    old_owner = Candidate("email", "a@x", source("dpis"), at(1))
    fresh_other = Candidate("email", "b@x", source("person-registry"), at(20))
    chosen, rule = choose([fresh_other, old_owner], ("dpis", "person-registry"))
    assert (chosen.value, rule) == ("a@x", DESIGNATED_OWNER)
    # the second owner wins when the first did not answer
    chosen, rule = choose([fresh_other, Candidate("email", "c@x", source("hr-api"), at(25))],
                          ("dpis", "person-registry"))
    assert (chosen.value, rule) == ("b@x", DESIGNATED_OWNER)


def test_without_an_owner_the_freshest_wins_and_agreement_is_no_conflict() -> None:
    one = Candidate("level", "K1", source("hr-api", "TH/GOV/A/hr"), at(3))
    two = Candidate("level", "K2", source("hr-api", "TH/GOV/B/hr"), at(9))
    chosen, rule = choose([one, two], ("dpis",))
    assert (chosen.value, rule) == ("K2", FRESHEST)
    same = Candidate("level", "K2", source("dpis"), at(2))
    chosen, rule = choose([two, same], ("dpis",))
    assert rule is None and chosen.observed_at == at(9)  # agreeing: the freshest observation is shown


def test_the_published_standard_declares_every_group_with_an_owner_and_a_service() -> None:
    import json
    from pathlib import Path

    schema = json.loads((Path(__file__).parents[2] / "standards/th.integration.record/1.0.0/schema.json")
                        .read_text(encoding="utf-8"))
    groups = field_groups(schema)
    assert set(groups) == {"person", "position", "org_unit", "telework", "letters"}
    every_field = [f for g in groups.values() for f in g.fields]
    assert len(every_field) == len(set(every_field)), "a field belongs to one group"
    assert all(g.owners and g.service.startswith("record.") for g in groups.values())
