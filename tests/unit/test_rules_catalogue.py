"""docs/rules.md cannot drift from the code: every rule ID the code cites has a row, each row's
module cites its rule, and each row's test exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULE = re.compile(
    r"\b(?:REG|DON|LBL|TRK|REC|RPT|COI|ISBT|BED|EXP|QC|EL|EX|AE|FU|RCV|COST|SITE|CON|ID)-\d+\b"
)
ROW = re.compile(r"^\| ([A-Z]+-\d+) \| .+ \| `([^`]+)` \| `([^`]+)::([^`]+)` \|$")


def catalogue() -> dict[str, tuple[str, str, str]]:
    rows = {}
    for line in (ROOT / "docs" / "rules.md").read_text(encoding="utf-8").splitlines():
        found = ROW.match(line)
        if found:
            rule, module, test_file, test = found.groups()
            rows[rule] = (module, test_file, test)
    return rows


def test_every_rule_the_code_cites_is_in_the_catalogue() -> None:
    cited = {
        rule
        for path in (ROOT / "src" / "regenpath").rglob("*.py")
        for rule in RULE.findall(path.read_text(encoding="utf-8"))
    }
    assert cited, "the code cites rules"
    assert sorted(cited - set(catalogue())) == []


def test_each_row_names_a_module_that_cites_it_and_a_test_that_exists() -> None:
    for rule, (module, test_file, test) in catalogue().items():
        source = (ROOT / "src" / module).read_text(encoding="utf-8")
        assert re.search(rf"\b{re.escape(rule)}\b", source), (rule, module)
        tests = (ROOT / test_file).read_text(encoding="utf-8")
        assert re.search(rf"^def {re.escape(test)}\(", tests, re.MULTILINE), (rule, test)


def test_the_readme_and_the_code_point_only_inside_the_repository() -> None:
    outside = re.compile(r"\.\./shared|\b(?:outcomes|regulatory|fhir)\.md\b")
    code = [p for p in (ROOT / "src" / "regenpath").rglob("*") if p.suffix in (".py", ".toml")]
    for path in [ROOT / "README.md", *code]:
        assert not outside.search(path.read_text(encoding="utf-8")), path
