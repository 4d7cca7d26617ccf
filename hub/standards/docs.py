"""HTML documentation of the published standards: one page per version, plus an index.

The seventh development step of the Back Office framework asks for documentation to an
international standard; here each page carries the metadata (owner, Back Office system and
its agencies, business process), a fields table with types, constraints and the Thai and
English descriptions, the examples, and the schema itself, so a page is useful saved to disk.

Plain string templates: every value from a standard passes through :func:`html.escape`
(``e()``) because standards are published by agencies and so are untrusted input to a
browser. Pages are self-contained (inline CSS, no scripts, no external assets).
"""
from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from hub.standards.catalogue import Catalogue
from hub.standards.compat.xsd import xsd_model
from hub.standards.model import DEPRECATED, StandardVersion

CSS = """
body{font-family:"Sarabun","Noto Sans Thai",system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1b;line-height:1.5}
table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:.92rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f4f7}
code,pre{font-family:ui-monospace,Menlo,monospace;font-size:.85rem}
pre{background:#f6f8fa;padding:.75rem;overflow-x:auto;border:1px solid #e1e4e8}
.deprecated{background:#fff3cd;border:1px solid #e0c060;padding:.5rem 1rem}
.muted{color:#666}
"""


def e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _page(title: str, body: str, lang: str = "th") -> str:
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(title)}</title><style>{CSS}</style></head><body>\n{body}\n</body></html>\n")


# ------------------------------------------------------------------------------ fields


def _resolve(schema: Any, root: Any) -> Any:
    for _ in range(32):
        if not isinstance(schema, dict) or not str(schema.get("$ref", "")).startswith("#/"):
            return schema
        target: Any = root
        for part in schema["$ref"][2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _type_label(node: dict[str, Any]) -> str:
    parts: list[str] = []
    kind = node.get("type")
    if isinstance(kind, list):
        parts.append(" | ".join(kind))
    elif kind:
        parts.append(str(kind))
    if "format" in node:
        parts.append(f"format {node['format']}")
    if "const" in node:
        parts.append(f"= {orjson.dumps(node['const']).decode()}")
    if not parts and "enum" in node:
        parts.append("enum")
    return ", ".join(parts) or "any"


def _constraints(node: dict[str, Any]) -> str:
    items = []
    for key in ("pattern", "minLength", "maxLength", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum",
                "minItems", "maxItems", "multipleOf", "uniqueItems"):
        if key in node:
            items.append(f"{key}: {node[key]}")
    if "enum" in node:
        en = node.get("x-enum-descriptions", {})
        th = node.get("x-enum-descriptions-th", {})
        values = []
        for value in node["enum"]:
            label = " / ".join(x for x in (th.get(str(value)), en.get(str(value))) if x)
            values.append(f"{value}" + (f" ({label})" if label else ""))
        items.append("one of: " + "; ".join(values))
    return "\n".join(items)


def json_fields(schema: dict[str, Any]) -> Iterator[dict[str, str]]:
    """Rows of the fields table: every property reachable through properties/items/$ref."""
    def walk(node: Any, path: str, required: bool, depth: int) -> Iterator[dict[str, str]]:
        node = _resolve(node, schema)
        if not isinstance(node, dict) or depth > 12:
            return
        reqs = set(node.get("required", []))
        for name, sub in node.get("properties", {}).items():
            sub_r = _resolve(sub, schema)
            if not isinstance(sub_r, dict):
                continue
            child = f"{path}/{name}"
            yield {
                "path": child, "type": _type_label(sub_r), "required": "yes" if name in reqs else "no",
                "constraints": _constraints(sub_r), "title": sub_r.get("title", ""),
                "en": sub_r.get("description", ""), "th": sub_r.get("x-description-th", ""),
            }
            yield from walk(sub_r, child, name in reqs, depth + 1)
            items = sub_r.get("items")
            if isinstance(items, dict):
                items_r = _resolve(items, schema)
                if isinstance(items_r, dict) and "properties" not in items_r and "type" in items_r:
                    yield {"path": f"{child}/*", "type": _type_label(items_r), "required": "",
                           "constraints": _constraints(items_r), "title": items_r.get("title", ""),
                           "en": items_r.get("description", ""), "th": items_r.get("x-description-th", "")}
                yield from walk(items_r, f"{child}/*", False, depth + 1)
    yield from walk(schema, "", True, 0)


def xsd_fields(files: dict[str, str]) -> Iterator[dict[str, str]]:
    model = xsd_model(files)
    for key, decl in model.decls.items():
        occurs = f"{decl.min}..{'n' if decl.max == float('inf') else int(decl.max)}"
        if decl.in_choice and "/" in key:
            occurs += " (choice)"
        owner = key.rsplit("/", 1)[0] if "/" in key else key
        yield {
            "path": key, "type": decl.type or "(inline)", "required": occurs,
            "constraints": "\n".join(
                [f"{k}: {v}" for k, v in model.facets.get(f"type:{decl.type}", {}).items()]
                + ([f"one of: {', '.join(model.enums[owner])}"] if owner in model.enums and decl.kind == "attribute"
                   else [])
            ),
            "title": decl.kind, "en": decl.doc_en, "th": decl.doc_th,
        }


# ------------------------------------------------------------------------------ pages


def _fields_table(version: StandardVersion) -> str:
    rows = list(json_fields(version.schema or {})) if version.is_json else list(xsd_fields(version.xsd_files or {}))
    occurs_header = "Required<br>จำเป็น" if version.is_json else "Occurs<br>จำนวน"
    head = ("<table class=\"fields\"><thead><tr><th>Field (path)<br>ฟิลด์</th><th>Type<br>ชนิดข้อมูล</th>"
            f"<th>{occurs_header}</th><th>Constraints<br>ข้อกำหนด</th><th>Title</th>"
            "<th>Description (English)</th><th>คำอธิบาย (ภาษาไทย)</th></tr></thead><tbody>")
    body = "".join(
        f"<tr><td><code>{e(r['path'])}</code></td><td>{e(r['type'])}</td><td>{e(r['required'])}</td>"
        f"<td>{e(r['constraints']).replace(chr(10), '<br>')}</td><td>{e(r['title'])}</td><td>{e(r['en'])}</td>"
        f"<td lang=\"th\">{e(r['th'])}</td></tr>"
        for r in rows
    )
    return head + body + "</tbody></table>"


def _example_text(version: StandardVersion, document: Any) -> str:
    if version.is_json:
        return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode("utf-8")
    return str(document)


def render_version(version: StandardVersion, catalogue: Catalogue, *, all_versions: list[StandardVersion] | None = None,
                   index_href: str = "../index.html", past_sunset: bool = False) -> str:
    meta = version.meta
    system = catalogue.systems.get(version.backoffice_system)
    parts = [f"<p class=\"muted\"><a href=\"{e(index_href)}\">มาตรฐานข้อมูลทั้งหมด / All data standards</a></p>",
             f"<h1><code>{e(version.id)}</code> {e(version.version)}</h1>",
             f"<p lang=\"th\"><strong>{e(meta.get('summary_th'))}</strong></p>",
             f"<p lang=\"en\">{e(meta.get('summary_en'))}</p>"]
    if version.status == DEPRECATED:
        sunset = version.sunset_at.isoformat() if version.sunset_at else "not set"
        state = "past its sunset: messages declaring it are refused" if past_sunset else "still accepted until the sunset"
        replaced = f" Use version {e(version.replaced_by)}." if version.replaced_by else ""
        parts.append(f"<p class=\"deprecated\"><strong>Deprecated / เลิกใช้</strong>: sunset {e(sunset)} "
                     f"({e(state)}).{replaced} {e(version.deprecation_note)}</p>")
    agencies = ""
    if system is not None:
        def named(members: tuple[str, ...]) -> str:
            return ", ".join(f"{m} ({catalogue.agency_name(m, 'th')})" for m in members)

        agencies = "".join(f"<tr><th>{e(role)}</th><td>{e(named(members))}</td></tr>"
                           for role, members in system.agencies.items())
    parts.append(
        "<h2>ข้อมูลมาตรฐาน / About this standard</h2><table>"
        f"<tr><th>Identifier</th><td><code>{e(version.ref)}</code> — declare it as the message's "
        f"<code>standard</code></td></tr>"
        f"<tr><th>Status / สถานะ</th><td>{e(version.status)}</td></tr>"
        f"<tr><th>Content type</th><td>{e(version.content_type)}</td></tr>"
        f"<tr><th>Owner agency / หน่วยงานเจ้าของ</th><td>{e(version.owner_agency)} — "
        f"{e(catalogue.agency_name(version.owner_agency, 'th'))} / {e(catalogue.agency_name(version.owner_agency))}"
        f"</td></tr>"
        f"<tr><th>Back Office system / ระบบงาน</th><td>{e(system.name_th if system else '')} / "
        f"{e(system.name_en if system else version.backoffice_system)} (<code>{e(version.backoffice_system)}</code>)"
        f"</td></tr>{agencies}"
        f"<tr><th>Business process / กระบวนงาน</th><td>{e(meta.get('business_process'))}</td></tr>"
        f"<tr><th>Published / เผยแพร่</th><td>{e(version.published_at.isoformat() if version.published_at else '')} "
        f"by {e(version.published_by)}</td></tr>"
        f"<tr><th>SHA-256</th><td><code>{e(version.content_sha256)}</code></td></tr></table>"
    )
    if all_versions:
        parts.append("<p>Versions / รุ่น: " + ", ".join(
            (f"<strong>{e(v.version)}</strong>" if v.version == version.version
             else f"<a href=\"{e(v.version)}.html\">{e(v.version)}</a>") + (" (deprecated)" if v.status == DEPRECATED else "")
            for v in all_versions) + "</p>")
    parts.append("<h2>ฟิลด์ข้อมูล / Fields</h2>" + _fields_table(version))
    valid = [x for x in version.examples if x.kind == "valid"]
    invalid = [x for x in version.examples if x.kind == "invalid"]
    if valid:
        parts.append("<h2>ตัวอย่างที่ถูกต้อง / Valid examples</h2>" + "".join(
            f"<h3>{e(x.name)}</h3><pre>{e(_example_text(version, x.document))}</pre>" for x in valid))
    if invalid:
        parts.append("<h2>ตัวอย่างที่ไม่ถูกต้อง / Invalid examples</h2>" + "".join(
            f"<h3>{e(x.name)}</h3>"
            + (f"<p>Fails: <code>{e(orjson.dumps(x.expect).decode())}</code></p>" if x.expect else "")
            + f"<pre>{e(_example_text(version, x.document))}</pre>" for x in invalid))
    files = {"schema.json": version.schema_text()} if version.is_json else (version.xsd_files or {})
    parts.append("<h2>Schema</h2>" + "".join(
        f"<details><summary><code>{e(name)}</code></summary><pre>{e(text)}</pre></details>"
        for name, text in files.items()))
    return _page(f"{version.ref} — {meta.get('summary_en', '')}", "\n".join(parts))


def render_index(summaries: list[dict[str, Any]], *, href: Any = None) -> str:
    """``href(id, version)`` gives each page's link (files and the served pages differ)."""
    href = href or (lambda sid, ver: f"{sid}/{ver}.html")
    rows = "".join(
        f"<tr><td><a href=\"{e(href(s['id'], s['latest']))}\"><code>{e(s['id'])}</code></a></td>"
        f"<td>{e(s['latest'])}</td><td>{e(', '.join(v['version'] for v in s['versions']))}</td>"
        f"<td>{e(s.get('backoffice_system_name_th') or '')}<br>{e(s.get('backoffice_system_name_en') or '')}</td>"
        f"<td>{e(s['owner_agency'])}</td><td lang=\"th\">{e(s['summary_th'])}</td><td>{e(s['summary_en'])}</td></tr>"
        for s in sorted(summaries, key=lambda s: s["id"])
    )
    body = ("<h1>มาตรฐานข้อมูล Back Office / Back Office data standards</h1>"
            "<p>Published, versioned standards: every message that declares one is checked against it at the hub's "
            "edge. มาตรฐานข้อมูลที่เผยแพร่แล้ว ข้อความที่อ้างถึงมาตรฐานจะถูกตรวจสอบก่อนรับเข้า</p>"
            "<table><thead><tr><th>Standard</th><th>Latest</th><th>Versions</th><th>Back Office system</th>"
            f"<th>Owner</th><th>สรุป</th><th>Summary</th></tr></thead><tbody>{rows}</tbody></table>")
    return _page("Back Office data standards", body)


def write_docs(out: Path, versions: list[StandardVersion], summaries: list[dict[str, Any]], catalogue: Catalogue,
               past_sunset: Any = lambda v: False) -> list[Path]:
    """Write ``index.html`` and ``<id>/<version>.html`` for every version; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "index.html"]
    written[0].write_text(render_index(summaries), encoding="utf-8")
    by_id: dict[str, list[StandardVersion]] = {}
    for v in versions:
        by_id.setdefault(v.id, []).append(v)
    for standard_id, group in by_id.items():
        folder = out / standard_id
        folder.mkdir(exist_ok=True)
        for v in group:
            path = folder / f"{v.version}.html"
            path.write_text(render_version(v, catalogue, all_versions=group, past_sunset=past_sunset(v)),
                            encoding="utf-8")
            written.append(path)
    return written
