"""The Markdown reading the documentation checks rely on, on small hand-written cases."""

import pytest

from tests.docs.markdown import anchors, fences, links, make_commands, slug


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Deploy to AWS", "deploy-to-aws"),
        ("Alarms: what each means, and what to do", "alarms-what-each-means-and-what-to-do"),
        ("ADR 0020 — DuckDB", "adr-0020--duckdb"),  # the dash goes, both spaces stay
        ("`make etl` and tasks_daily", "make-etl-and-tasks_daily"),
        ("[Runbook](runbook.md) *first*", "runbook-first"),
    ],
)
def test_slug_follows_github(heading: str, expected: str) -> None:
    assert slug(heading) == expected


def test_anchors_number_repeats_and_skip_code() -> None:
    text = '# Run\n## Run\n```bash\n# not a heading\n```\nSetext\n---\n<a id="here"></a>\n'

    assert anchors(text) == {"run", "run-1", "setext", "here"}


def test_links_outside_code_only() -> None:
    text = '[a](a.md) `[b](b.md)`\n```\n[c](c.md)\n```\n![d](img/d.png "title")\n[e]: e.md\n'

    assert [(link.line, link.target) for link in links(text)] == [
        (1, "a.md"),
        (5, "img/d.png"),
        (6, "e.md"),
    ]


def test_fences_keep_their_info_and_first_line() -> None:
    (block,) = fences("text\n\n```sql no-run\nCREATE TABLE x\n```\n")

    assert (block.language, block.flags, block.line, block.text) == (
        "sql",
        {"no-run"},
        4,
        "CREATE TABLE x",
    )


def test_make_commands_in_spans_and_shell_blocks() -> None:
    text = (
        "Run `make bench-etl ROWS=…` or `make seed [USERS=50]`.\n"
        "```bash\n$ LAKE_ROOT=x make query SQL='select 1' && make etl \\\n  DATE=2026-11-25\n"
        "make -C elsewhere other  # another Makefile\n```\n"
        "```python\nmake = 'not shell'\n```\n"
    )

    assert [(c.line, c.targets, c.variables) for c in make_commands(text)] == [
        (1, ["bench-etl"], {"ROWS": "…"}),
        (1, ["seed"], {"USERS": "50"}),
        (3, ["query"], {"SQL": "select 1"}),
        (3, ["etl"], {"DATE": "2026-11-25"}),
    ]
