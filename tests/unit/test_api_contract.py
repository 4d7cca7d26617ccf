"""The API's published contract: OpenAPI documents an answer for every operation, and what
routing answers by itself (404, 405) has the same error shape as everything else."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hub.api.app import create_app
from tests.support.errors import assert_error_shape


@pytest.fixture(scope="module")
def app():  # noqa: ANN201
    return create_app()  # no hub needed: neither the document nor routing's own answers touch it


@pytest.fixture
def client(app) -> TestClient:  # noqa: ANN001
    return TestClient(app)  # outside ``with``: the lifespan (which builds a hub) does not run


def test_every_operation_documents_the_schema_of_its_answer(app) -> None:  # noqa: ANN001
    missing = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                # 204 No Content has, by definition, no body to describe.
                if not status.startswith("2") or status == "204":
                    continue
                content = response.get("content") or {}
                if not content or not all(media.get("schema") for media in content.values()):
                    missing.append(f"{method.upper()} {path} {status}")
    assert not missing, "answers without a schema: " + ", ".join(missing)


def test_every_reference_in_the_document_resolves(app) -> None:  # noqa: ANN001
    """Schema-driven tools (fuzzers, client generators) need every ``$ref`` to resolve: the
    submit body once pointed at a ``Code`` schema the document did not contain (issue 12)."""
    document = app.openapi()
    schemas = document.get("components", {}).get("schemas", {})
    dangling = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.rsplit("/", 1)[-1] not in schemas:
                dangling.append(f"{where}: {ref}")
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(document, "")
    assert not dangling, "references to schemas the document does not have: " + ", ".join(dangling)


def test_an_unknown_path_is_404_in_the_error_shape(client: TestClient) -> None:
    response = client.get("/v1/no-such-thing")
    assert response.status_code == 404
    assert_error_shape(response.json())
    assert response.json()["code"] == "not_found" and "/v1/no-such-thing" in response.json()["message"]


def test_a_wrong_method_is_405_in_the_error_shape(client: TestClient) -> None:
    response = client.delete("/v1/messages")
    assert response.status_code == 405
    assert_error_shape(response.json())
    assert response.json()["code"] == "method_not_allowed"
    assert "allow" in response.headers  # what the path takes instead
