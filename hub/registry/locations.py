"""The location registry: provinces, districts and subdistricts with their official DOPA codes
and Thai / English names, read from the ``geothai`` gazetteer (read-only; the hub does not
keep its own copy, so a ``geothai`` upgrade is the one way the data changes)."""
from __future__ import annotations

from typing import Any

import geothai

from hub.errors import InputError, NotFound
from hub.registry.ids import checked
from hub.thai import validate_district_code, validate_province_code, validate_subdistrict_code

PATH_CODE = "/path/code"  # every lookup takes its code from the request path (/v1/locations/.../{code})


def _province(p: Any) -> dict[str, Any]:
    return {"code": p.code, "name_th": p.name_th, "name_en": p.name_en}


def _district(d: Any) -> dict[str, Any]:
    return {"code": d.code, "name_th": d.name_th, "name_en": d.name_en, "province_code": d.province_code}


def _subdistrict(s: Any) -> dict[str, Any]:
    return {"code": s.code, "name_th": s.name_th, "name_en": s.name_en, "district_code": s.district_code,
            "province_code": s.province_code, "postal_codes": list(s.postal_codes)}


def _code(check: Any, value: str, field: str) -> str:
    """Malformed codes are 422; well-formed codes that do not exist are 404 (a missing resource)."""
    try:
        return checked(check, value, field)
    except InputError as exc:
        if exc.errors and exc.errors[0].rule == "unknown_code":
            raise NotFound(exc.errors[0].message) from None
        raise


def version() -> str:
    return str(geothai.DATA_VERSION)


def provinces() -> list[dict[str, Any]]:
    return [_province(p) for p in geothai.provinces()]


def province(code: str) -> dict[str, Any]:
    code = _code(validate_province_code, code, PATH_CODE)
    return {**_province(geothai.province(code)), "districts": [_district(d) for d in geothai.districts(code)]}


def district(code: str) -> dict[str, Any]:
    code = _code(validate_district_code, code, PATH_CODE)
    return {**_district(geothai.district(code)),
            "subdistricts": [_subdistrict(s) for s in geothai.subdistricts(code)]}


def subdistrict(code: str) -> dict[str, Any]:
    code = _code(validate_subdistrict_code, code, PATH_CODE)
    return _subdistrict(geothai.subdistrict(code))


_SHAPES = {"province": _province, "district": _district, "subdistrict": _subdistrict}


def search(query: str, limit: int = 10) -> list[dict[str, Any]]:
    return [{"level": r.level, **_SHAPES[r.level](r.area)} for r in geothai.search(query, limit=limit)]
