"""Read the CloudFormation templates under infra/ as plain data.

CloudFormation's short-form intrinsics (`!Ref x`, `!Sub s`, `!GetAtt a.b`) are not YAML that a
safe loader knows; they are kept as `Tag` values, as written, for whoever reads the template
next: the local catalog builder resolves the few it needs, the template tests inspect them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

INFRA = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Tag:
    """A CloudFormation short-form intrinsic (`!Ref x`, `!Sub s`) kept as written."""

    name: str
    value: Any


class _TemplateLoader(yaml.CSafeLoader):
    """The safe loader on libyaml's parser (built into every PyYAML wheel): the same data as
    the pure-Python parser, read about eight times faster; a preflight reads every template."""


def _construct_tag(loader: _TemplateLoader, suffix: str, node: yaml.Node) -> Tag:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return Tag(suffix, value)


_TemplateLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(path.read_text(), Loader=_TemplateLoader)  # noqa: S506
    return template


def templates() -> list[Path]:
    """Every stack's template, in file-name order."""
    return sorted(INFRA.glob("*.yaml"))
