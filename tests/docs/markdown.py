"""Just enough Markdown reading for the documentation checks: fences, code spans, links, headings.

Offsets are kept so every finding can name its file and line. Code (fenced blocks and code
spans) is blanked out, not removed, before links are looked for, so a link written as an
example inside code is not checked and line numbers stay right.
"""

import re
import shlex
import subprocess
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Open at any indent (fences inside list items are indented) and inside block quotes; close
# with the same character, at least as many of it, and nothing else on the line (CommonMark).
_FENCE_OPEN = re.compile(r"^((?:[ \t]*>)*)[ \t]*(`{3,}|~{3,})[ \t]*([^`\n]*?)[ \t]*$")
_CODE_SPAN = re.compile(r"(`+)(?!`)((?:(?!\n[ \t]*\n).)+?)(?<!`)\1(?!`)", re.DOTALL)
_INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]"  # [text], one level of nested brackets (images in links)
    r"\(\s*(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"  # (destination
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"  # "optional title")
)
_REFERENCE_DEFINITION = re.compile(r"^[ ]{0,3}\[[^\]\n]+\]:[ \t]*(<[^>\n]*>|\S+)", re.MULTILINE)
_HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*[\"']([^\"']+)[\"']", re.I)
_HTML_ANCHOR = re.compile(r"<[a-z][^>]*?\b(?:id|name)\s*=\s*[\"']([^\"']+)[\"']", re.I)
_ATX_HEADING = re.compile(r"^[ ]{0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^[ ]{0,3}(=+|-+)[ \t]*$")
_SCHEME = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")
_SHELL_INFO = {"", "bash", "sh", "shell", "console", "zsh", "shell-session", "shellsession"}
# Options of make that take a value in the next word.
_MAKE_OPTION_WITH_VALUE = {"-C", "-f", "-I", "-j", "-l", "-o", "-W", "--file", "--directory"}


@cache
def repository_files() -> frozenset[str]:
    """The repository's files, relative to ROOT: tracked, or new and not ignored by git (so a
    document being written counts, and node_modules/, build/ and .local/ do not)."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return frozenset(name for name in listing.split("\0") if name and (ROOT / name).exists())


@cache
def repository_paths() -> frozenset[str]:
    """repository_files() and every folder that holds one of them."""
    files = repository_files()
    folders = {str(parent) for name in files for parent in Path(name).parents}
    return files | folders


def documents() -> list[Path]:
    """The Markdown the checks read: README, CHANGELOG, docs/ and .cursor/ (rules included)."""
    names = {"README.md", "CHANGELOG.md", ".cursor/rules"}  # rules: a file without suffix
    return [
        ROOT / name
        for name in sorted(repository_files())
        if name in names
        or (name.startswith("docs/") and name.endswith(".md"))
        or (name.startswith(".cursor/") and name.endswith((".md", ".mdc")))
    ]


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def current_documents() -> list[Path]:
    """The documents that describe the project as it is now: README, docs/ and the `.cursor`
    context and rules (not the changelog or prompt records, which keep what was true then)."""
    return [
        path
        for path in documents()
        if relative(path) in {"README.md", ".cursor/context.md"}
        or relative(path).startswith(("docs/", ".cursor/rules/"))
    ]


@dataclass(frozen=True)
class Fence:
    info: str  # the whole info string, e.g. "sql no-run"
    line: int  # 1-based line of the first line inside the fence
    text: str
    end: int  # 1-based line of the closing fence (past the last line if there is none)

    @property
    def language(self) -> str:
        return self.info.split()[0].lower() if self.info.split() else ""

    @property
    def flags(self) -> set[str]:
        return {word.lower() for word in self.info.split()[1:]}


def fences(text: str) -> list[Fence]:
    found: list[Fence] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        opening = _FENCE_OPEN.match(lines[index])
        if not opening:
            index += 1
            continue
        quote, marker, info = opening.groups()
        # Inside a block quote, each line of the block carries the same `>` markers.
        inside = re.compile(rf"^(?:[ \t]*>[ ]?){{{quote.count('>')}}}")
        closing = re.compile(rf"^[ \t]*{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
        end = index + 1
        while end < len(lines) and not closing.match(inside.sub("", lines[end], count=1)):
            end += 1
        body = [inside.sub("", line, count=1) for line in lines[index + 1 : end]]
        found.append(Fence(info, index + 2, "\n".join(body), end + 1))
        index = end + 1
    return found


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def without_fences(text: str) -> str:
    """`text` with every fenced block (fence lines included) blanked out."""
    lines = text.split("\n")
    for fence in fences(text):
        for number in range(fence.line - 2, min(fence.end, len(lines))):
            lines[number] = " " * len(lines[number])
    return "\n".join(lines)


@dataclass(frozen=True)
class Span:
    line: int
    text: str


def code_spans(text: str) -> list[Span]:
    """Inline code outside fenced blocks, with the line it starts on."""
    prose = without_fences(text)
    return [
        Span(prose.count("\n", 0, match.start()) + 1, match.group(2).strip())
        for match in _CODE_SPAN.finditer(prose)
    ]


def without_code(text: str) -> str:
    prose = without_fences(text)
    for match in _CODE_SPAN.finditer(prose):
        prose = _blank(prose, match.start(), match.end())
    return prose


@dataclass(frozen=True)
class Link:
    line: int
    target: str  # as written, minus <> around it

    @property
    def is_external(self) -> bool:
        return bool(_SCHEME.match(self.target))


def links(text: str) -> list[Link]:
    """Inline links and images, reference definitions and HTML href/src outside code."""
    prose = without_code(text)
    found = [
        (match.start(1), match.group(1))
        for pattern in (_INLINE_LINK, _REFERENCE_DEFINITION, _HTML_LINK)
        for match in pattern.finditer(prose)
    ]
    return [
        Link(prose.count("\n", 0, start) + 1, target.removeprefix("<").removesuffix(">"))
        for start, target in sorted(found)
    ]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its rendered text, lowercased, punctuation other than
    `-` and `_` dropped, each space a `-`."""
    rendered = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links and images: their text
    rendered = re.sub(r"<[^>]+>", "", rendered)  # HTML tags
    rendered = rendered.replace("`", "").replace("*", "").replace("~~", "")
    return re.sub(r"[^\w\- ]", "", rendered.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a link may point at in this document: heading slugs (with GitHub's
    `-1`, `-2` suffixes for repeats) and explicit HTML ids and names."""
    lines = without_fences(text).split("\n")
    headings: list[str] = []
    for number, line in enumerate(lines):
        atx = _ATX_HEADING.match(line)
        if atx:
            headings.append(atx.group(2) or "")
        elif (
            number > 0
            and _SETEXT_UNDERLINE.match(line)
            and lines[number - 1].strip()
            and not _ATX_HEADING.match(lines[number - 1])
            and not re.match(r"^\s*([-*+]|\d+[.)])\s", lines[number - 1])
        ):
            headings.append(lines[number - 1].strip())
    seen: Counter[str] = Counter()
    found: set[str] = set()
    for heading in headings:
        base = slug(heading)
        found.add(f"{base}-{seen[base]}" if seen[base] else base)
        seen[base] += 1
    found.update(match.group(1) for match in _HTML_ANCHOR.finditer(without_code(text)))
    return found


def split_target(target: str) -> tuple[str, str]:
    """(path, anchor) of a link target, both URL-decoded; the query string dropped."""
    path, _, anchor = target.partition("#")
    path = path.partition("?")[0]
    return urllib.parse.unquote(path), urllib.parse.unquote(anchor)


# --- make commands ---


@dataclass(frozen=True)
class MakeCommand:
    line: int
    targets: list[str]  # the goals as written (may be globs such as bench-*)
    variables: dict[str, str]  # NAME=value arguments, unquoted as the shell would


def _words(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        words = list(lexer)
    except ValueError:  # an unbalanced quote in an example: fall back to plain words
        words = line.split()
    if "#" in words:
        words = words[: words.index("#")]
    return [word for word in words if not word.startswith("#")] if words else []


def _commands(words: list[str]) -> Iterator[list[str]]:
    command: list[str] = []
    for word in words:
        if word and set(word) <= set(";&|()"):
            yield command
            command = []
        else:
            command.append(word)
    yield command


def _make_command(line: int, words: list[str]) -> MakeCommand | None:
    # Skip a prompt, assignments to the environment and wrappers that run the next word.
    while words and (words[0] in {"$", "time", "env", "sudo", "command"} or "=" in words[0]):
        words = words[1:]
    if not words or words[0] != "make":
        return None
    targets: list[str] = []
    variables: dict[str, str] = {}
    arguments = iter(words[1:])
    for word in arguments:
        if word in _MAKE_OPTION_WITH_VALUE or word.startswith(("-f", "-C", "--file=", "--dir")):
            return None  # another Makefile or folder: not ours to check
        if word.startswith("-"):
            continue
        name, equals, value = word.strip("[]").partition("=")
        if equals:
            variables[name] = value
        else:
            targets.append(word)
    return MakeCommand(line, targets, variables)


def make_commands(text: str) -> list[MakeCommand]:
    """`make …` commands in code spans and in shell (or plain) fenced blocks."""
    found: list[tuple[int, str]] = [(span.line, span.text) for span in code_spans(text)]
    for fence in fences(text):
        if fence.language not in _SHELL_INFO:
            continue
        logical, start = "", fence.line
        for offset, raw in enumerate(fence.text.split("\n")):
            if not logical:
                start = fence.line + offset
            logical += raw.rstrip()
            if logical.endswith("\\"):
                logical = logical[:-1] + " "
                continue
            found.append((start, logical))
            logical = ""
        if logical:
            found.append((start, logical))
    commands = [
        _make_command(line, command)
        for line, snippet in found
        for command in _commands(_words(snippet))
    ]
    return sorted((command for command in commands if command), key=lambda c: c.line)
