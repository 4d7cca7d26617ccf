"""Answers of the location registry (``/v1/locations``): DOPA codes with Thai and English names."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Province(BaseModel):
    code: str
    name_th: str
    name_en: str


class District(Province):
    province_code: str


class Subdistrict(Province):
    district_code: str
    province_code: str
    postal_codes: list[str]


class ProvinceList(BaseModel):
    data_version: str
    items: list[Province]


class ProvinceDetail(Province):
    districts: list[District]


class DistrictDetail(District):
    subdistricts: list[Subdistrict]


class Found(BaseModel):
    """A search hit: a province, district or subdistrict (the fields of its level)."""

    level: Literal["province", "district", "subdistrict"]
    code: str
    name_th: str
    name_en: str
    province_code: str | None = None
    district_code: str | None = None
    postal_codes: list[str] | None = None


class SearchResult(BaseModel):
    items: list[Found]
