"""Request and response shapes of the shared person registry (``th.shared.person`` fields plus
the HR fields agencies' HR systems report)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from hub.registry.ids import CitizenIdField, DistrictCodeField, ProvinceCodeField, SubdistrictCodeField
from hub.schemas.common import IsoTimestamp
from hub.schemas.envelope import PartyId
from hub.thai import ThaiDate


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")
    house_no: str | None = Field(None, max_length=30)
    moo: str | None = Field(None, pattern=r"^[0-9]{1,3}$")
    building: str | None = Field(None, max_length=200)
    soi: str | None = Field(None, max_length=100)
    road: str | None = Field(None, max_length=100)
    subdistrict_code: SubdistrictCodeField
    district_code: DistrictCodeField
    province_code: ProvinceCodeField
    postal_code: str | None = Field(None, pattern=r"^[1-9][0-9]{4}$")

    @model_validator(mode="after")
    def _codes_nest(self) -> Address:
        # The official codes are hierarchical: a subdistrict's first four digits are its
        # district, a district's first two its province. A mismatch is a wrong address; the
        # message names the member (hub.schemas.validation), so the 422 points at it.
        if not self.subdistrict_code.startswith(self.district_code):
            raise ValueError(f"/subdistrict_code: {self.subdistrict_code} is not in district {self.district_code}")
        if not self.district_code.startswith(self.province_code):
            raise ValueError(f"/district_code: {self.district_code} is not in province {self.province_code}")
        return self


class PersonFields(BaseModel):
    """The fields a source may report; each is kept per source with when it was observed."""

    model_config = ConfigDict(extra="forbid")
    prefix_th: str | None = Field(None, max_length=50)
    first_name_th: str | None = Field(None, min_length=1, max_length=200)
    last_name_th: str | None = Field(None, min_length=1, max_length=200)
    first_name_en: str | None = Field(None, min_length=1, max_length=200)
    last_name_en: str | None = Field(None, min_length=1, max_length=200)
    birth_date: ThaiDate | None = None
    sex: Literal["male", "female", "unspecified"] | None = None
    nationality: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    address: Address | None = None
    # HR fields, as DPIS-style systems hold them
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    start_date: ThaiDate | None = Field(None, description="First day in government service (CE).")
    position_code: str | None = Field(None, max_length=20)
    level: str | None = Field(None, max_length=20)
    employment_status: Literal["active", "inactive"] | None = None

    def reported(self) -> dict[str, object]:
        """The fields present, as JSON values."""
        return self.model_dump(mode="json", exclude_none=True)


FIELD_NAMES = tuple(PersonFields.model_fields)


class PersonUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    citizen_id: CitizenIdField
    source: PartyId | None = Field(None, description="The reporting subsystem; defaults to the caller's own.")
    observed_at: AwareDatetime | None = Field(None, description="When the source saw these values; default now.")
    update_id: str | None = Field(None, min_length=1, max_length=64,
                                  description="Idempotency key: the same id is applied once.")
    fields: PersonFields

    @model_validator(mode="after")
    def _not_empty(self) -> PersonUpdate:
        if not self.fields.reported():
            raise ValueError("/fields: at least one field is needed")
        return self


# A field group of the unified record (``hub.integration.record``), as a consent names it.
RecordGroup = Annotated[str, StringConstraints(pattern=r"^record:[a-z][a-z_]{0,39}$")]


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    consumer: PartyId = Field(description="Subsystem or member allowed to read.")
    purpose: str = Field(min_length=3, max_length=500)
    fields: list[Literal[FIELD_NAMES] | RecordGroup] | Literal["*"] = Field(  # type: ignore[valid-type]
        "*", description="Fields it may read, or *; ``record:GROUP`` covers a field group of the unified record "
                         "(th.integration.record).")
    expires_at: AwareDatetime


class Consent(BaseModel):
    id: int
    consumer: str
    purpose: str
    fields: list[str]
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    recorded_by: str
    valid: bool


class PersonReported(BaseModel):
    citizen_id: str
    applied: bool = Field(description="false: this update_id was applied before, nothing changed")
    fields: list[str]


class Fact(BaseModel):
    """One source's newest observation of a field."""

    value: Any
    source: str
    observed_at: IsoTimestamp
    recorded_at: IsoTimestamp
    age_seconds: int
    stale: bool


class FieldFacts(Fact):
    """The newest observation of a field, and every source's (newest first)."""

    sources: list[Fact]


class PersonRecord(BaseModel):
    citizen_id: str
    fields: dict[str, FieldFacts] = Field(description="Only the fields the caller may read.")
    stale: bool = Field(description="Some field's newest observation is older than stale_after_seconds.")
    stale_after_seconds: int
    basis: str = Field(description="Why the caller may read: owner, admin or consent.")
    consent_id: int | None
