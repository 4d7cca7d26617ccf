"""The tolerant reader's child look-up (``hub.adapters.ecms.codec.letter.kids``): by local name,
any namespace, any letter case, in document order — also once its cache of names is full."""
from lxml import etree

from hub.adapters.ecms.codec import letter
from hub.adapters.ecms.codec.letter import kid, kids


def test_children_are_found_by_local_name_in_any_case_and_namespace():
    root = etree.fromstring(b'<r xmlns:a="urn:a"><a:ProcessID>1</a:ProcessID><!-- c --><processID>2</processID>'
                            b'<PROCESSID xmlns="urn:b">3</PROCESSID><Other>4</Other></r>')
    assert [e.text for e in kids(root, "ProcessID")] == ["1", "2", "3"]
    assert kid(root, "processid").text == "1" and kid(root, "missing") is None


def test_names_past_the_cache_bound_are_still_matched(monkeypatch):
    monkeypatch.setattr(letter, "_LOWER_LOCAL", {})
    monkeypatch.setattr(letter, "_LOWER_LOCAL_MAX", 3)
    root = etree.fromstring(b"<r>" + b"".join(b"<N%d/>" % i for i in range(10)) + b"<n7>x</n7></r>")
    assert [e.tag for e in kids(root, "N7")] == ["N7", "n7"]
    assert len(letter._LOWER_LOCAL) == 3
