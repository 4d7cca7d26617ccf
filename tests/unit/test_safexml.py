"""Hostile and malformed XML must be refused cheaply and without side effects."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from hub.standards import safexml
from hub.standards.safexml import UnsafeXmlError, XmlSyntaxError, load_xsd, parse_xml

# What an entity expansion or an unbounded tree would cost shows in memory (a billion laughs
# expands to gigabytes); a refusal made before that work stays far under this. Measured as the
# growth of the process's peak resident size, which no other test's freed memory can hide.
PEAK_GROWTH_LIMIT_KIB = 64 * 1024

SECRET = "SENTINEL-7f3c9a-do-not-read"


@pytest.fixture
def sentinel(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


def refused(data: bytes | str, reason: str, **limits: int) -> UnsafeXmlError:
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with pytest.raises(UnsafeXmlError) as err:
        parse_xml(data, **limits)
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert err.value.reason == reason, str(err.value)
    assert growth < PEAK_GROWTH_LIMIT_KIB, f"the refusal raised the process's peak memory by {growth} KiB"
    return err.value


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz a="&lol9;">&lol9;</lolz>"""


class TestHostileInput:
    def test_billion_laughs(self) -> None:
        err = refused(BILLION_LAUGHS, safexml.REASON_DOCTYPE)
        assert isinstance(err, ValueError)
        assert "DOCTYPE" in str(err)

    def test_quadratic_blowup(self) -> None:
        blob = "x" * 100_000
        doc = f'<?xml version="1.0"?><!DOCTYPE k [<!ENTITY a "{blob}">]><k>{"&a;" * 20_000}</k>'
        refused(doc.encode(), safexml.REASON_DOCTYPE)

    def test_xxe_local_file_is_never_read(self, sentinel: Path) -> None:
        doc = (
            f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "{sentinel.as_uri()}">]>'
            "<r>&xxe;</r>"
        )
        err = refused(doc, safexml.REASON_DOCTYPE)
        assert SECRET not in str(err)

    def test_xxe_parameter_entity(self, sentinel: Path) -> None:
        doc = (
            f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{sentinel.as_uri()}"> %p;]><r/>'
        ).encode()
        err = refused(doc, safexml.REASON_DOCTYPE)
        assert SECRET not in str(err)

    def test_xxe_in_utf16_is_seen_through_the_encoding(self, sentinel: Path) -> None:
        doc = (
            '<?xml version="1.0" encoding="UTF-16"?>'
            f'<!DOCTYPE r [<!ENTITY xxe SYSTEM "{sentinel.as_uri()}">]><r>&xxe;</r>'
        ).encode("utf-16")
        err = refused(doc, safexml.REASON_DOCTYPE)
        assert SECRET not in str(err)

    def test_external_dtd_over_network(self) -> None:
        # Port 9 on loopback: if anything tried to fetch it, it would fail slowly or noisily.
        refused(b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r/>', safexml.REASON_DOCTYPE)

    def test_external_dtd_local_file(self, sentinel: Path) -> None:
        err = refused(f'<!DOCTYPE r SYSTEM "{sentinel.as_uri()}"><r/>'.encode(), safexml.REASON_DOCTYPE)
        assert SECRET not in str(err)

    def test_doctype_after_comments_and_pis(self) -> None:
        refused(b"<?xml version='1.0'?>\n<!-- c -->\n<?pi data?>\n<!DOCTYPE r><r/>", safexml.REASON_DOCTYPE)

    def test_lowercase_doctype(self) -> None:
        refused(b"<!doctype r><r/>", safexml.REASON_DOCTYPE)

    def test_bare_entity_declaration_in_prolog(self) -> None:
        refused(b'<!ENTITY a "b"><r/>', safexml.REASON_ENTITY)

    def test_backstop_when_the_prolog_scan_is_bypassed(
        self, monkeypatch: pytest.MonkeyPatch, sentinel: Path
    ) -> None:
        # Defence in depth: even if the byte scan missed a DTD (an encoding it cannot
        # read), the parser settings keep the file unread and docinfo refuses it.
        monkeypatch.setattr(safexml, "_check_prolog", lambda raw: None)
        doc = f'<!DOCTYPE r [<!ENTITY xxe SYSTEM "{sentinel.as_uri()}">]><r>&xxe;</r>'.encode()
        with pytest.raises(UnsafeXmlError) as err:
            parse_xml(doc)
        assert err.value.reason == safexml.REASON_DOCTYPE
        assert SECRET not in str(err.value)

    def test_ten_thousand_deep(self) -> None:
        doc = b"<a>" * 10_000 + b"</a>" * 10_000
        err = refused(doc, safexml.REASON_TOO_DEEP)
        assert "max_depth=128" in str(err)

    def test_depth_beyond_libxml2_hard_limit_is_still_too_deep(self) -> None:
        doc = b"<a>" * 1_000 + b"</a>" * 1_000
        err = refused(doc, safexml.REASON_TOO_DEEP, max_depth=5_000)
        assert "hard limit" in str(err)

    def test_depth_limit_is_exact(self) -> None:
        doc = b"<a><b><c><d/></c></b></a>"
        assert parse_xml(doc, max_depth=4).tag == "a"
        err = refused(doc, safexml.REASON_TOO_DEEP, max_depth=3)
        assert "'d'" in str(err)

    def test_attribute_count(self) -> None:
        attrs = " ".join(f'a{i}="v"' for i in range(65))
        err = refused(f"<r><e {attrs}/></r>", safexml.REASON_TOO_MANY_ATTRIBUTES)
        assert "65 attributes" in str(err)
        assert parse_xml(f"<r><e {attrs}/></r>", max_attributes=65).tag == "r"

    def test_size_limit_bytes_and_str(self) -> None:
        doc = b"<r>" + b"x" * 2_000 + b"</r>"
        err = refused(doc, safexml.REASON_TOO_LARGE, max_bytes=1_000)
        assert "over the limit of 1000 bytes" in str(err)
        refused(doc.decode(), safexml.REASON_TOO_LARGE, max_bytes=1_000)
        # Thai characters are 3 bytes in UTF-8: the limit is on bytes, not characters.
        refused("<r>" + "ก" * 400 + "</r>", safexml.REASON_TOO_LARGE, max_bytes=1_000)


class TestMalformed:
    def test_mismatched_tag_has_line_and_column(self) -> None:
        with pytest.raises(XmlSyntaxError) as err:
            parse_xml(b"<a>\n  <b>\n</a>")
        assert err.value.line == 3
        assert err.value.column is not None
        assert "line 3" in str(err.value)
        assert "mismatch" in str(err.value)

    def test_undefined_entity_is_a_syntax_error_with_position(self) -> None:
        with pytest.raises(XmlSyntaxError) as err:
            parse_xml(b"<a>\n<b>&xxe;</b></a>")
        assert (err.value.line, err.value.column) == (2, 9)
        assert "Entity 'xxe' not defined" in str(err.value)

    @pytest.mark.parametrize("doc", [b"", b"   ", b"<a>", b"<a/><b/>", b"not xml"])
    def test_other_malformed(self, doc: bytes) -> None:
        with pytest.raises(XmlSyntaxError):
            parse_xml(doc)

    def test_wrong_type(self) -> None:
        with pytest.raises(TypeError, match="bytes or str"):
            parse_xml(123)  # type: ignore[arg-type]


class TestLegitimateInput:
    def test_thai_text_namespaces_and_builtin_entities(self) -> None:
        doc = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rsm:GovernmentDocument xmlns:rsm="urn:th:gov:egif:data:standard:GovernmentDocument:1.0">'
            "<Subject>ขออนุมัติ &amp; รายงาน &#x0E01;</Subject></rsm:GovernmentDocument>"
        ).encode()
        root = parse_xml(doc)
        assert root.tag == "{urn:th:gov:egif:data:standard:GovernmentDocument:1.0}GovernmentDocument"
        assert root[0].text == "ขออนุมัติ & รายงาน ก"
        assert root[0].sourceline == 2

    def test_str_with_stale_encoding_declaration(self) -> None:
        root = parse_xml('<?xml version="1.0" encoding="windows-874"?><r>ไทย</r>')
        assert root.text == "ไทย"

    def test_cp874_bytes_with_declaration(self) -> None:
        doc = '<?xml version="1.0" encoding="windows-874"?><r>สารบรรณ</r>'.encode("cp874")
        assert parse_xml(doc).text == "สารบรรณ"

    def test_utf16_bytes(self) -> None:
        assert parse_xml('<?xml version="1.0" encoding="UTF-16"?><r>ก</r>'.encode("utf-16")).text == "ก"

    def test_doctype_text_inside_cdata_is_content(self) -> None:
        root = parse_xml(b"<r><![CDATA[<!DOCTYPE html><!ENTITY x 'y'>]]></r>")
        assert root.text == "<!DOCTYPE html><!ENTITY x 'y'>"


class TestLoadXsd:
    XS = 'xmlns:xs="http://www.w3.org/2001/XMLSchema"'

    def write(self, folder: Path, name: str, body: str) -> Path:
        path = folder / name
        path.write_text(f'<?xml version="1.0"?>\n<xs:schema {self.XS} {body}</xs:schema>', encoding="utf-8")
        return path

    def test_imports_inside_the_folder(self, tmp_path: Path) -> None:
        self.write(
            tmp_path,
            "b.xsd",
            'targetNamespace="urn:b" elementFormDefault="qualified">'
            '<xs:element name="Leaf" type="xs:string"/>',
        )
        main = self.write(
            tmp_path,
            "a.xsd",
            'xmlns:b="urn:b" targetNamespace="urn:a">'
            '<xs:import namespace="urn:b" schemaLocation="b.xsd"/>'
            '<xs:element name="Root"><xs:complexType><xs:sequence><xs:element ref="b:Leaf"/>'
            "</xs:sequence></xs:complexType></xs:element>",
        )
        schema = load_xsd(main)
        good = parse_xml(b'<a:Root xmlns:a="urn:a" xmlns:b="urn:b"><b:Leaf>x</b:Leaf></a:Root>')
        bad = parse_xml(b'<a:Root xmlns:a="urn:a"><Leaf>x</Leaf></a:Root>')
        assert schema.validate(good)
        assert not schema.validate(bad)

    @pytest.mark.parametrize("location", ["http://127.0.0.1:9/x.xsd", "../outside.xsd", "/etc/passwd", "file:///etc/passwd"])
    def test_refuses_imports_that_leave_the_folder(self, tmp_path: Path, location: str) -> None:
        inner = tmp_path / "inner"
        inner.mkdir()
        self.write(tmp_path, "outside.xsd", 'targetNamespace="urn:b"><xs:element name="Leaf"/>')
        main = self.write(inner, "a.xsd", f'targetNamespace="urn:a"><xs:import namespace="urn:b" schemaLocation="{location}"/>')
        with pytest.raises(UnsafeXmlError) as err:
            load_xsd(main)
        assert err.value.reason == safexml.REASON_SCHEMA_LOCATION

    def test_refuses_a_schema_with_a_doctype(self, tmp_path: Path) -> None:
        path = tmp_path / "evil.xsd"
        path.write_text(f'<!DOCTYPE xs:schema SYSTEM "x.dtd"><xs:schema {self.XS}/>', encoding="utf-8")
        with pytest.raises(UnsafeXmlError) as err:
            load_xsd(path)
        assert err.value.reason == safexml.REASON_DOCTYPE
