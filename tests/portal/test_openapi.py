"""The OpenAPI file describes exactly the API routes the app serves (no drift)."""

from pathlib import Path

import yaml

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def test_every_api_route_is_documented_and_nothing_else(app) -> None:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            for m in rule.methods - {"HEAD", "OPTIONS"}:
                served.add((rule.rule[len("/api/v1"):], m))
    assert served == documented
