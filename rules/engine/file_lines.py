"""Where a field sits in a pack file: the line of a path such as `deadline_rules[2].offset`.

The validator names fields by path; a person fixing a file needs the line. This walks the JSON
text once, noting the line on which each member's key (or each list item) starts.
"""

from __future__ import annotations

import json
import re
from typing import Any

Path = tuple[str | int, ...]

_PATH_PART = re.compile(
    r"\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\]"
)
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_WHITESPACE = " \t\n\r"


def split_path(path: str) -> Path:
    """`a[2].b['x y']` -> ("a", 2, "b", "x y"); an unreadable tail is dropped."""
    parts: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PATH_PART.match(path, position)
        if match is None or match.end() == position:
            break
        name, index, quoted = match.groups()
        if name is not None:
            parts.append(name)
        elif index is not None:
            parts.append(int(index))
        else:
            parts.append(_unquote(quoted))
        position = match.end()
    return tuple(parts)


def _unquote(quoted: str) -> str:
    body = quoted[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


class _Walker:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0
        self.lines: dict[Path, int] = {(): 1}

    def line(self) -> int:
        return self.text.count("\n", 0, self.position) + 1

    def skip(self) -> None:
        while self.position < len(self.text) and self.text[self.position] in _WHITESPACE:
            self.position += 1

    def value(self, path: Path) -> None:
        self.skip()
        char = self.text[self.position : self.position + 1]
        if char == "{":
            self.position += 1
            self.skip()
            if self.text.startswith("}", self.position):
                self.position += 1
                return
            while True:
                self.skip()
                line = self.line()
                key = self.string()
                self.lines[(*path, key)] = line
                self.skip()
                self.expect(":")
                self.value((*path, key))
                self.skip()
                if self.text.startswith(",", self.position):
                    self.position += 1
                    continue
                self.expect("}")
                return
        if char == "[":
            self.position += 1
            self.skip()
            if self.text.startswith("]", self.position):
                self.position += 1
                return
            index = 0
            while True:
                self.skip()
                self.lines[(*path, index)] = self.line()
                self.value((*path, index))
                self.skip()
                index += 1
                if self.text.startswith(",", self.position):
                    self.position += 1
                    continue
                self.expect("]")
                return
        if char == '"':
            self.string()
            return
        for literal in ("true", "false", "null"):
            if self.text.startswith(literal, self.position):
                self.position += len(literal)
                return
        match = _NUMBER.match(self.text, self.position)
        if match is None:
            raise ValueError(f"unexpected character at line {self.line()}")
        self.position = match.end()

    def string(self) -> str:
        start = self.position
        if not self.text.startswith('"', start):
            raise ValueError(f"expected a string at line {self.line()}")
        end = start + 1
        while True:
            end = self.text.index('"', end)
            backslashes = len(self.text[start + 1 : end]) - len(
                self.text[start + 1 : end].rstrip("\\")
            )
            if backslashes % 2 == 0:
                break
            end += 1
        self.position = end + 1
        result: Any = json.loads(self.text[start : end + 1])
        return str(result)

    def expect(self, char: str) -> None:
        if not self.text.startswith(char, self.position):
            raise ValueError(f"expected {char!r} at line {self.line()}")
        self.position += 1


def field_lines(text: str) -> dict[Path, int]:
    """Every path of a JSON text with the line it starts on (the text must be valid JSON)."""
    walker = _Walker(text)
    walker.value(())
    return walker.lines


def line_of(text: str, path: str, lines: dict[Path, int] | None = None) -> int:
    """The line of `path` in the JSON text, or of its nearest existing parent (a missing field)."""
    lines = field_lines(text) if lines is None else lines
    parts = split_path(path)
    while parts not in lines:
        parts = parts[:-1]
    return lines[parts]
