"""Location registry: provinces, districts, subdistricts with official codes (geothai).

Authenticated like every other route although the data is public: issue 5 allows anonymous
access only to the health probes and published standard documents, and keeping the open
surface to that list is worth more than saving a form a token.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from hub.registry import locations
from hub.registry.location_schemas import DistrictDetail, ProvinceDetail, ProvinceList, SearchResult, Subdistrict

router = APIRouter(tags=["locations"])


@router.get("/v1/locations/provinces", response_model=ProvinceList)
def list_provinces() -> dict[str, Any]:
    """Every province (77) with its code and Thai / English names."""
    return {"data_version": locations.version(), "items": locations.provinces()}


@router.get("/v1/locations/provinces/{code}", response_model=ProvinceDetail)
def get_province(code: str) -> dict[str, Any]:
    """A province and its districts."""
    return locations.province(code)


@router.get("/v1/locations/districts/{code}", response_model=DistrictDetail)
def get_district(code: str) -> dict[str, Any]:
    """A district (อำเภอ/เขต) and its subdistricts."""
    return locations.district(code)


@router.get("/v1/locations/subdistricts/{code}", response_model=Subdistrict)
def get_subdistrict(code: str) -> dict[str, Any]:
    """A subdistrict (ตำบล/แขวง) with its postal codes."""
    return locations.subdistrict(code)


# A hit carries the fields of its level only (a province has no province_code).
@router.get("/v1/locations/search", response_model=SearchResult, response_model_exclude_unset=True)
def search_locations(q: str = Query(min_length=1, max_length=100), limit: int = Query(10, ge=1, le=100)) -> dict[str, Any]:
    """Find areas by Thai or English name."""
    return {"items": locations.search(q, limit)}
