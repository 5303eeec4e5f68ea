"""The roster file: YAML in, a validated `Roster` out, comments kept.

The file is an interface people edit by hand and the web page edits by
program, so:

* every problem names the file, the line and the field
  (``rosters/team.yaml:14: members[2].email: duplicate email ...``), and all
  problems are collected, not just the first;
* the document is loaded round-trip (`ruamel.yaml`), so that a program can
  change one value and write the file back with its comments and order;
* writes are atomic and carry the version (a hash of the bytes) the writer
  read, so that two editors never silently overwrite each other.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (MappingEndEvent, MappingStartEvent, ScalarEvent, SequenceEndEvent,
                                SequenceStartEvent, StreamEndEvent)
from ruamel.yaml.nodes import MappingNode, SequenceNode
from ruamel.yaml.scanner import RoundTripScanner

try:
    from _ruamel_yaml import CParser  # ruamel.yaml.clib
except ImportError:  # pragma: no cover - pure Python interpreters
    CParser = None

from scheduler.store.base import Store, version_of
from scheduler.store.folder import FolderStore
from scheduler.core.model import Roster
from scheduler.errors import FileError, RosterInvalid
from scheduler.roster.validator import BadScalar, Validator, cut

YAML_KEY = re.compile(r"^[ \t]*(?:-[ \t]+)?([A-Za-z_][\w-]*)[ \t]*:")

# Limits on what a hand-written file can make the loader do. A roster is a few
# kilobytes, five levels deep, and needs no aliases; these leave ample room.
MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32  # nested mappings and lists
MAX_REPEATED = 10_000  # values that aliases (*name) repeat, in all


class TooLarge(YAMLError):
    """The document would make the loader do too much; says what, at a line."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.message, self.line = message, line


def _lenient_timestamp(constructor: RoundTripConstructor, node):
    try:
        return RoundTripConstructor.construct_yaml_timestamp(constructor, node)
    except ValueError:
        return BadScalar(node.value)


class _BoundedScanner(RoundTripScanner):
    """Stops at the first token nested too deeply: ruamel's scanner slows down
    with every open flow level ("[[[[..."), so waiting for the composer's own
    depth check would take seconds on a file of 20,000 brackets."""

    def fetch_more_tokens(self):
        if self.flow_level + len(self.indents) > MAX_DEPTH:
            raise TooLarge(f"nested more than {MAX_DEPTH} levels deep", self.reader.line + 1)
        return super().fetch_more_tokens()


class _BoundedComposer(Composer):
    """Builds the node graph and, before any Python object is made from it,
    refuses aliases that would repeat too much (a "billion laughs": a few
    lines of anchors that expand a billion-fold) or that contain themselves."""

    def compose_document(self):
        node = super().compose_document()
        _count_repeats(node)
        return node


def _count_repeats(root) -> None:
    sizes: dict[int, int] = {}  # expanded size of each node already counted
    open_: set[int] = set()
    unique = 0

    def size(node) -> int:
        nonlocal unique
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_:
            raise TooLarge("an alias refers to the list or mapping that contains it", node.start_mark.line + 1)
        unique += 1
        total = 1
        if isinstance(node, (SequenceNode, MappingNode)):
            open_.add(key)
            children = node.value if isinstance(node, SequenceNode) else [n for pair in node.value for n in pair]
            total += sum(size(child) for child in children)  # depth is bounded by MAX_DEPTH
            open_.discard(key)
            if total - unique > MAX_REPEATED:
                raise TooLarge(f"aliases (*name) repeat more than {MAX_REPEATED:,} values; "
                               "a roster needs none: write the values out", node.start_mark.line + 1)
        sizes[key] = total
        return total

    size(root)


def yaml_io() -> YAML:
    """The YAML reader/writer for rosters: round-trip, quotes and layout kept."""
    yaml = YAML(typ="rt")
    yaml.Scanner, yaml.Composer = _BoundedScanner, _BoundedComposer
    yaml.max_depth = MAX_DEPTH
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never re-wrap long lines
    yaml.constructor.add_constructor("tag:yaml.org,2002:timestamp", _lenient_timestamp)
    return yaml


def compose(text: str):
    """The node tree of `text` (every node with its start and end marks, no
    comments), within the limits above. With ruamel.yaml.clib installed its C
    parser does the work, several times faster than the pure one on a large
    roster: a first pass over its events refuses a file nested too deeply
    (as soon as it goes too deep, before the C composer, which recurses, sees
    it), then the C composer builds the tree. A file with a tab goes to the
    pure parser: libyaml accepts tabs in places where ruamel refuses them,
    and a file must read the same wherever rota runs."""
    if CParser is None or "\t" in text:
        return yaml_io().compose(text)
    _check_depth(CParser(text))
    node = YAML(typ="safe", pure=False).compose(text)
    if node is not None:
        _count_repeats(node)
    return node


def _check_depth(events) -> None:
    """Raise as ruamel's composer does with `max_depth`: a node nested more
    than MAX_DEPTH deep (aliases do not count)."""
    depth = 0
    while True:
        event = events.get_event()
        if isinstance(event, (ScalarEvent, SequenceStartEvent, MappingStartEvent)) and depth + 1 > MAX_DEPTH:
            raise MaxDepthExceededError(None, None, f"maximum depth of data structure exceeded ({depth + 1})",
                                        event.start_mark)
        if isinstance(event, (SequenceStartEvent, MappingStartEvent)):
            depth += 1
        elif isinstance(event, (SequenceEndEvent, MappingEndEvent)):
            depth -= 1
        elif isinstance(event, StreamEndEvent):
            return


@dataclass
class RosterFile:
    """A roster as read from disk: the values, the bytes, and the version
    (hash of the bytes) it was read at."""

    path: Path
    roster: Roster
    data: bytes
    version: str
    node: Any = dataclasses.field(default=None, repr=False, compare=False)  # the composed text: where edits go

    @functools.cached_property
    def document(self) -> CommentedMap:
        """The editable round-trip document, comments and all, loaded on first
        use: reading a roster needs only `roster`, and the round-trip loader
        is slow on large files."""
        return yaml_io().load(self.data.decode("utf-8"))


def load(source: Store | Path | str) -> RosterFile:
    """The roster kept in a store (or in the roster file at a path)."""
    store = source if isinstance(source, Store) else FolderStore(source)
    data = store.read_roster(limit=MAX_BYTES + 1)  # no more than that is ever needed to refuse it
    return parse(data, Path(store.where("roster")))


def parse(data: bytes, path: Path | str = "<roster>") -> RosterFile:
    if len(data) > MAX_BYTES:
        raise RosterInvalid([FileError(path, None, None, f"larger than a roster can be ({MAX_BYTES // 1024} KiB at most)")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise RosterInvalid([FileError(path, line, None, "not UTF-8 text")]) from None
    try:
        node = compose(text)
        # the round-trip constructor, as the editable document uses: the same
        # types (dates, quoted strings), line numbers and duplicate-key check
        document = None if node is None else yaml_io().constructor.construct_document(node)
    except TooLarge as e:
        raise RosterInvalid([FileError(path, e.line, None, e.message)]) from None
    except MaxDepthExceededError as e:
        raise RosterInvalid([FileError(path, e.problem_mark.line + 1 if e.problem_mark else None, None,
                                       f"nested more than {MAX_DEPTH} levels deep")]) from None
    except RecursionError:  # a structure the limits above did not foresee: still one line
        raise RosterInvalid([FileError(path, None, None, "nested too deeply to read")]) from None
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        problem, field = " ".join(str(p) for p in (e.context, e.problem) if p), None
        if "'\\t'" in problem:  # a tab typed into the file: ruamel marks its very line
            problem, field = "a tab character; YAML indents and separates with spaces only", _key_on_line(text, line)
        raise RosterInvalid([FileError(path, line, field, f"not valid YAML: {cut(problem)}")]) from None
    except YAMLError as e:
        raise RosterInvalid([FileError(path, None, None, f"not valid YAML: {cut(str(e))}")]) from None
    roster = Validator(path).roster(document)
    return RosterFile(Path(path), roster, data, version_of(data), node)


def _key_on_line(text: str, line: int | None) -> str | None:
    """The key written on a line the parser could not read, to point at the field."""
    lines = text.splitlines()
    if line is None or not 0 < line <= len(lines):
        return None
    found = YAML_KEY.match(lines[line - 1])
    return found.group(1) if found else None


def dump(document: CommentedMap) -> bytes:
    out = io.StringIO()
    yaml_io().dump(document, out)
    return out.getvalue().encode("utf-8")


def save(roster_file: RosterFile, document: CommentedMap) -> RosterFile:
    """Validate `document` and write it over the file, unless the file has
    changed since `roster_file` was read. Returns the file as now written."""
    return replace(roster_file, parse(dump(document), roster_file.path))  # never write what we could not read back


def replace(roster_file: RosterFile, new: RosterFile, before: Callable[[], None] | None = None,
            store: Store | None = None) -> RosterFile:
    """Write `new.data` (bytes already parsed and validated into `new`) to
    the store (by default the roster file's folder), unless the roster has
    changed since `roster_file` was read: StaleVersion then.

    `before` runs once the new bytes are ready to take the old ones' place,
    with no other writer in between: if it raises, the roster is left as it
    was (see `Store.replace_roster`). Returns `new`."""
    store = store or FolderStore(roster_file.path)
    store.replace_roster(roster_file.version, new.data, before=before)
    return new


def current_version(path: Path) -> str | None:
    """The version of the file on disk now (None if it is gone)."""
    try:
        return version_of(path.read_bytes())
    except FileNotFoundError:
        return None
