"""schema.graphql is the API contract: it must be what the code builds."""

from __future__ import annotations

from pathlib import Path

from hub.cli import main
from schema import schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_schema_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text() == str(schema) + "\n", "run `leasehub export-schema`"


def test_export_schema_check_fails_on_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: Int }\n")
    assert main(["export-schema", "--output", str(stale), "--check"]) == 1
    assert main(["export-schema", "--output", str(stale)]) == 0
    assert main(["export-schema", "--output", str(stale), "--check"]) == 0
