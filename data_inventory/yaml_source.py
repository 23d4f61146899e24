"""Reading the inventory YAML so every value can be traced back to its line.

Dates stay strings (the schema checks them), duplicate keys are reported instead of silently keeping
the last one, and syntax errors carry the line and column PyYAML found them at.
"""
from __future__ import annotations

from dataclasses import dataclass

import yaml

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that leaves `2026-11-01` as a string, so JSON Schema sees what the file says."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }


class YamlSyntaxError(ValueError):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


@dataclass
class DuplicateKey:
    path: tuple  # path of the mapping holding the key
    key: str
    line: int
    first_line: int


class YamlDocument:
    """Parsed data plus the node tree it came from (for line numbers)."""

    def __init__(self, text: str):
        loader = _Loader(text)
        try:
            self._root = loader.get_single_node()
            self.data = loader.construct_document(self._root) if self._root is not None else None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            context = f", {exc.context}" if exc.context else ""
            raise YamlSyntaxError(f"YAML syntax error: {exc.problem}{context}{where}", line) from None
        except yaml.YAMLError as exc:
            raise YamlSyntaxError(f"YAML syntax error: {exc}", None) from None
        finally:
            loader.dispose()

    def line_of(self, path) -> int | None:
        """Line of the value at `path` (keys and list indices), or of its closest existing ancestor."""
        node = self._root
        if node is None:
            return None
        for step in path:
            child = self._child(node, step)
            if child is None:
                break
            node = child
        return node.start_mark.line + 1

    @staticmethod
    def _child(node, step):
        if isinstance(node, yaml.MappingNode):
            found = None
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == step:
                    found = value_node  # the last one wins, as in the constructed data
            return found
        if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            return node.value[step]
        return None

    def duplicate_keys(self) -> list[DuplicateKey]:
        found: list[DuplicateKey] = []

        def walk(node, path, ancestors=frozenset()):
            if id(node) in ancestors:  # a recursive alias; its keys were checked the first time
                return
            ancestors = ancestors | {id(node)}
            if isinstance(node, yaml.MappingNode):
                seen: dict[str, int] = {}
                for key_node, value_node in node.value:
                    key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                    line = key_node.start_mark.line + 1
                    if key is not None and key in seen:
                        found.append(DuplicateKey(path, key, line, seen[key]))
                    elif key is not None:
                        seen[key] = line
                    walk(value_node, (*path, key), ancestors)
            elif isinstance(node, yaml.SequenceNode):
                for index, item in enumerate(node.value):
                    walk(item, (*path, index), ancestors)

        if self._root is not None:
            walk(self._root, ())
        return found
