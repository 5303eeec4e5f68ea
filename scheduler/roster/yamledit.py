"""Changes to a YAML file made on its text, so that everything a change is
not about stays byte for byte: comments wherever they are (on their own
line, after a value, inside a flow mapping), blank lines, quotes, layout.

Dumping a round-trip document cannot promise that: ruamel.yaml attaches a
comment to a neighbouring node, so adding or removing that node moves the
comment, drops it or breaks the file, and comments inside flow mappings do
not survive a load at all. Here each change is a splice at positions taken
from the composed node tree (every node's start and end), and new entries
are written in the style of their neighbours (block or flow, same
indentation). The caller validates the result by parsing it.

Paths name nodes from the top: keys and list indexes, e.g.
``("members", 2, "away")``.
"""

from __future__ import annotations

import bisect
import re
from datetime import date

from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

from scheduler.roster.rosterfile import compose

NULL = "tag:yaml.org,2002:null"
STR = "tag:yaml.org,2002:str"
PLAIN = re.compile(r"\w[\w .@/()+'-]*")  # safe unquoted in block and flow context alike
_resolver = VersionedResolver()


class Unsupported(ValueError):
    """The file's layout is one these edits do not handle (anchors, a list
    item sharing its line with another)."""


def scalar(value) -> str:
    """A value as YAML text: dates and numbers as they are, text plain when
    that reads back as the same text, else double-quoted."""
    if isinstance(value, bool) or value is None:
        raise TypeError(f"no YAML for {value!r} here")
    if isinstance(value, (date, int)):
        return value.isoformat() if isinstance(value, date) else str(value)
    text = str(value)
    if PLAIN.fullmatch(text) and not text.endswith(" ") and _resolver.resolve(ScalarNode, text, (True, False)) == STR:
        return text
    return '"' + "".join(_escape(c) for c in text) + '"'


def _escape(c: str) -> str:
    if c in '"\\':
        return "\\" + c
    code = ord(c)
    printable = (0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
                 or 0x10000 <= code <= 0x10FFFF) and c not in "\u2028\u2029\ufeff"
    if printable:
        return c
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def flow(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


class Text:
    """A YAML document's text and the splices made to it."""

    def __init__(self, text: str, root=None):
        """`root`: the node tree of `text`, if it was composed already."""
        self.text = text
        self.root = compose(text) if root is None else root
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.splices: list[tuple[int, int, str]] = []
        self._scalars: list[tuple[int, int]] | None = None
        _refuse_aliases(self.root)

    def result(self) -> str:
        text, end = [], len(self.text)
        for start, stop, new in sorted(self.splices, reverse=True):
            if stop > end:
                raise Unsupported("two changes overlap")
            text.append(self.text[stop:end])
            text.append(new)
            end = start
        text.append(self.text[:end])
        return "".join(reversed(text))

    # -- the changes ------------------------------------------------------------------
    def append(self, path: tuple, item: dict, flow_item: bool = True) -> None:
        """Add `item` at the end of the list at `path`; a missing or empty key
        gets a list holding it. `flow_item`: one line ``{k: v, ...}`` unless
        the list's last item is a block mapping (and the other way round)."""
        parent, key = self.node(path[:-1]), path[-1]
        pair = _pair(parent, key)
        if pair is None:
            self._add_key(parent, key, [item], after=())
            return
        key_node, value = pair
        if _is_null(value):
            self._fill_null(parent, key_node, value, item, flow_item)
        elif isinstance(value, SequenceNode):
            self._append_item(value, item, flow_item)
        else:
            raise Unsupported(f"{key} is not a list")

    def set(self, path: tuple, key: str, value, after: tuple[str, ...] = ()) -> None:
        """Give the mapping at `path` the scalar `value` for `key`: in place if
        the key is there, else as a new key after the last of `after` present."""
        mapping = self.node(path)
        pair = _pair(mapping, key)
        if pair is None:
            self._add_key(mapping, key, value, after)
            return
        key_node, old = pair
        if not isinstance(old, ScalarNode):
            raise Unsupported(f"{key} is not a single value")
        start, end = self._value_span(key_node, old)
        self.splices.append((start, end, (" " if self.text[start - 1] == ":" else "") + scalar(value)))

    def remove(self, path: tuple, index: int) -> None:
        """Take item `index` out of the list at `path`. Comments inside the
        item stay, on their own lines. A list left empty goes with its key
        when that removes no comment."""
        parent, key = self.node(path[:-1]), path[-1]
        key_node, seq = _pair(parent, key)
        if seq.flow_style:
            self._remove_flow(parent, key_node, seq, index)
        else:
            self._remove_block(parent, key_node, seq, index)

    def node(self, path: tuple):
        node = self.root
        for step in path:
            if isinstance(step, int):
                node = node.value[step]
            else:
                node = _pair(node, step)[1]
        return node

    # -- adding ---------------------------------------------------------------------------
    def _append_item(self, seq: SequenceNode, item: dict, flow_item: bool) -> None:
        if seq.flow_style:
            if not seq.value:
                self._insert(seq.start_mark.index + 1, flow(item))
            else:
                self._insert(self._end(seq.value[-1]), ", " + flow(item))
            return
        last = seq.value[-1]
        if isinstance(last, MappingNode):
            flow_item = last.flow_style
        column = self._dash(last)[1]
        self._insert_lines(self._after(self._end(last), column),
                           self._item_lines(item, column, flow_item, last))

    def _fill_null(self, parent: MappingNode, key_node, value, item: dict, flow_item: bool) -> None:
        start, end = self._value_span(key_node, value)
        if parent.flow_style:
            self.splices.append((start, end, (" " if self.text[start - 1] == ":" else "") + flow([item])))
            return
        if end > start:
            self.splices.append((start, end, ""))  # an explicit null: ~ or null
        column = key_node.start_mark.column
        self._insert_lines(self._after(end, column), self._item_lines(item, column + 2, flow_item))

    def _add_key(self, mapping: MappingNode, key: str, value, after: tuple[str, ...]) -> None:
        anchor = None
        for name in after:
            anchor = _pair(mapping, name) or anchor
        anchor_key, anchor_value = anchor or mapping.value[-1]
        end = self._end(anchor_value, anchor_key)
        if mapping.flow_style:
            self._insert(end, f", {key}: {flow(value)}")
            return
        column = mapping.value[0][0].start_mark.column
        if isinstance(value, list):
            lines = [" " * column + f"{key}:"]
            for item in value:
                lines += self._item_lines(item, column + 2, True)
        else:
            lines = [" " * column + f"{key}: {scalar(value)}"]
        self._insert_lines(self._after(end, column), lines)

    def _item_lines(self, item: dict, column: int, flow_item: bool, like=None) -> list[str]:
        if flow_item or not isinstance(item, dict):
            return [" " * column + "- " + flow(item)]
        inner = like.start_mark.column if isinstance(like, MappingNode) else column + 2
        lines = []
        for k, v in item.items():
            lines.append((" " * column + "- " if not lines else " " * inner) + f"{k}: {scalar(v)}")
        return lines

    # -- removing -------------------------------------------------------------------------
    def _remove_block(self, parent: MappingNode, key_node, seq: SequenceNode, index: int) -> None:
        item = seq.value[index]
        dash, column = self._dash(item)
        start = self._line_start(dash)
        if self.text[start:dash].strip():
            raise Unsupported("a list item shares its line with something else")
        stop = self._line_end(self._end(item))
        kept = self._comments(start, stop)
        if len(seq.value) == 1 and not parent.flow_style:
            key_start = self._line_start(key_node.start_mark.index)
            if not self.text[key_start:key_node.start_mark.index].strip() and not self._comments(key_start, stop):
                self.splices.append((key_start, stop, ""))
                return
        self.splices.append((start, stop, "".join(" " * column + c + self.newline for c in kept)))

    def _remove_flow(self, parent: MappingNode, key_node, seq: SequenceNode, index: int) -> None:
        items = seq.value
        if len(items) == 1:
            if self._remove_pair(parent, key_node, seq):
                return
            start, stop = seq.start_mark.index + 1, seq.end_mark.index - 1
        elif index > 0:
            start, stop = self._end(items[index - 1]), self._end(items[index])
        else:
            start, stop = items[0].start_mark.index, items[1].start_mark.index
        self.splices.append((start, stop, self._kept_inline(start, stop)))

    def _remove_pair(self, parent: MappingNode, key_node, value) -> bool:
        """Take a whole `key: value` out of `parent`, if no comment goes with it."""
        end = self._end(value)
        if parent.flow_style:
            pairs = parent.value
            at = next(i for i, (k, _v) in enumerate(pairs) if k is key_node)
            if len(pairs) == 1:
                return False
            if at > 0:
                start = self._end(pairs[at - 1][1], pairs[at - 1][0])
            else:
                start, end = key_node.start_mark.index, pairs[1][0].start_mark.index
            if self._comments(start, end):
                return False
            self.splices.append((start, end, ""))
            return True
        start = self._line_start(key_node.start_mark.index)
        stop = self._line_end(end)
        if self.text[start:key_node.start_mark.index].strip() or self.text[end:stop].strip() \
                or self._comments(start, stop):
            return False
        self.splices.append((start, stop, ""))
        return True

    def _kept_inline(self, start: int, stop: int) -> str:
        """What replaces a span cut out of a flow collection: its comments,
        each ending its line, the next line indented as the span's last."""
        kept = self._comments(start, stop)
        if not kept:
            return ""
        return "".join(f" {c}{self.newline}" for c in kept) + " " * self._indent(stop)

    # -- positions --------------------------------------------------------------------------
    def _end(self, node, key_node=None) -> int:
        """Where the node's own text ends (comments and blank lines after it
        are not part of it). `key_node`: the key of `node`, for an empty value."""
        while True:
            if isinstance(node, ScalarNode):
                if node.tag == NULL and node.start_mark.index == node.end_mark.index and key_node is not None:
                    return self._colon(key_node)
                end = node.end_mark.index
                if node.style in ("|", ">"):
                    while end > node.start_mark.index and self.text[end - 1] in " \t\r\n":
                        end -= 1
                return end
            if node.flow_style:
                return node.end_mark.index
            if isinstance(node, SequenceNode):
                node, key_node = node.value[-1], None
            else:
                key_node, node = node.value[-1]

    def _value_span(self, key_node, value: ScalarNode) -> tuple[int, int]:
        if value.start_mark.index == value.end_mark.index:  # empty: it sits right after the colon
            position = self._colon(key_node)
            return position, position
        return value.start_mark.index, value.end_mark.index

    def _colon(self, key_node) -> int:
        return self.text.index(":", key_node.end_mark.index) + 1

    def _dash(self, item) -> tuple[int, int]:
        """The position and column of the `-` that starts a block list item."""
        at = item.start_mark.index - 1
        while at >= 0 and self.text[at] in " \t\r\n":
            at -= 1
        if at < 0 or self.text[at] != "-":
            raise Unsupported("no '-' before a list item")
        return at, at - self._line_start(at)

    def _after(self, position: int, column: int) -> int:
        """The start of the line after the one holding `position`, moved past
        comment lines indented deeper than `column` (they belong to what
        ends there) but not past a blank line that no such comment follows."""
        at = end = self._line_end(position)
        while at < len(self.text):
            line_end = self._line_end(at)
            line = self.text[at:line_end]
            stripped = line.lstrip(" ")
            if stripped.startswith("#") and len(line) - len(stripped) > column:
                end = at = line_end
            elif not line.strip():
                at = line_end
            else:
                break
        return end

    def _line_start(self, position: int) -> int:
        return self.text.rfind("\n", 0, position) + 1

    def _line_end(self, position: int) -> int:
        at = self.text.find("\n", position)
        return len(self.text) if at < 0 else at + 1

    def _indent(self, position: int) -> int:
        start = self._line_start(position)
        line = self.text[start:self._line_end(position)]
        return len(line) - len(line.lstrip(" "))

    def _insert(self, position: int, text: str) -> None:
        self.splices.append((position, position, text))

    def _insert_lines(self, position: int, lines: list[str]) -> None:
        lead = self.newline if position > 0 and self.text[position - 1] != "\n" else ""
        self._insert(position, lead + "".join(line + self.newline for line in lines))

    def _comments(self, start: int, stop: int) -> list[str]:
        """The comments between two positions, in order."""
        found = []
        for match in re.finditer("#", self.text[start:stop]):
            at = start + match.start()
            if at > 0 and self.text[at - 1] not in " \t\r\n" or self._in_scalar(at):
                continue
            end = self.text.find("\n", at)
            found.append(self.text[at: len(self.text) if end < 0 else end].rstrip("\r"))
        return found

    def _in_scalar(self, position: int) -> bool:
        if self._scalars is None:
            self._scalars = sorted(_scalar_spans(self.root))
        i = bisect.bisect_right(self._scalars, (position, float("inf"))) - 1
        return i >= 0 and self._scalars[i][0] <= position < self._scalars[i][1]


def _pair(mapping: MappingNode, key: str):
    for k, v in mapping.value:
        if isinstance(k, ScalarNode) and k.value == key:
            return k, v
    return None


def _is_null(node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == NULL


def _scalar_spans(root):
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ScalarNode):
            yield node.start_mark.index, node.end_mark.index
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            for k, v in node.value:
                stack += (k, v)


def _refuse_aliases(root) -> None:
    """An alias shares its anchor's node, whose marks are elsewhere in the
    text: positions would be wrong."""
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if id(node) in seen:
            raise Unsupported("the file uses YAML anchors and aliases (& and *)")
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            for k, v in node.value:
                stack += (k, v)
