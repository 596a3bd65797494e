"""Config plumbing every stage shares, and nothing else: a leaf module that imports no other corpuskit code.

:class:`ConfigError` is a problem a person can fix (exit 2, one located message, no traceback);
:func:`load_yaml` parses strictly (no duplicate keys, bounded size and alias expansion); :func:`validate`
turns a pydantic failure into one line per problem naming the file and the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

M = TypeVar("M", bound=BaseModel)


class ConfigError(Exception):
    """A config problem a person can fix; the message is complete and printed as is."""


def _corpus_root(value: Any) -> Any:
    return value if isinstance(value, str) and "://" in value else Path(value)


#: A corpus root: a local folder (a Path) or a URL kept as it is (``s3://bucket/corpus``: a Path would
#: fold its ``//``); see :mod:`corpuskit.store.corpus_root`.
CorpusRoot = Annotated[Path | str, BeforeValidator(_corpus_root)]


def corpus_root_arg(value: str | Path, *, resolve: bool = False) -> str | Path:
    """A corpus given on the command line: a URL stays a string, anything else is a local path.
    ``resolve``: an absolute path (a relative one means the current folder, not a config's)."""
    root = _corpus_root(str(value))
    return root if isinstance(root, str) or not resolve else root.expanduser().resolve()


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def require_unique(names: list[str], what: str) -> None:
    """For a validator: ValueError naming each repeated entry of ``names`` (``what``: "mixture names")."""
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{what} must be unique; repeated: {', '.join(repeated)}")


def _fmt_loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) if loc else "(top level)"


def format_validation_error(path: Path | str, err: ValidationError, prefix: tuple[Any, ...] = ()) -> str:
    """One line per problem: file, key, what is wrong and how to fix it."""
    lines = [f"{path}: invalid config ({err.error_count()} problem{'s' if err.error_count() > 1 else ''})"]
    for e in err.errors():
        loc = _fmt_loc(prefix + tuple(e["loc"]))
        typ = e["type"]
        if typ == "extra_forbidden":
            lines.append(f"  - key '{loc}': unknown key; remove it or check its spelling")
        elif typ == "missing":
            lines.append(f"  - key '{loc}': required but missing; add it")
        else:
            got = e.get("input")
            got_s = f" (got {got!r})" if not isinstance(got, dict | list) and got is not None else ""
            msg = e["msg"].removeprefix("Value error, ")
            lines.append(f"  - key '{loc}': {msg}{got_s}")
    return "\n".join(lines)


def validate(model: type[M], data: Any, where: Path | str, prefix: tuple[Any, ...] = ()) -> M:
    """``model.model_validate(data)``, with a failure turned into a located :class:`ConfigError`."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(where, e, prefix=prefix)) from None


MAX_CONFIG_BYTES = 1024**2  # a config is a page of YAML; anything bigger is a mistake (or an attack)
MAX_CONFIG_NODES = 100_000  # nodes after expanding aliases: refuses "billion laughs" before it runs


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> Any:
    loader.flatten_mapping(node)
    first: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if isinstance(key, list | dict):
            raise yaml.constructor.ConstructorError(None, None, "a key must be a scalar", key_node.start_mark)
        if key in first:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {first[key]})", key_node.start_mark
            )
        first[key] = line
    yield from yaml.SafeLoader.construct_yaml_map(loader, node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Nodes the document would have with every alias expanded (memoised: linear in the composed graph)."""
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = 1  # cycles (recursive aliases) count once
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(v, memo) for v in node.value)
    else:
        size = 1
    memo[id(node)] = size
    return size


def load_yaml(path: Path | str) -> Any:
    """Parse a config file: UTF-8, at most 1 MiB, no duplicate keys, no alias expansion bombs."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{p}: config file not found; check the path (cwd is {Path.cwd()})")
    if not p.is_file():
        raise ConfigError(f"{p}: is a folder, not a config file; give the path of a .yaml file")
    if p.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{p}: {p.stat().st_size:,} bytes is too large for a config (limit 1 MiB)")
    try:
        loader = _StrictLoader(p.read_text(encoding="utf-8"))
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            if _expanded_size(node, {}) > MAX_CONFIG_NODES:
                raise ConfigError(
                    f"{p}: expands to more than {MAX_CONFIG_NODES:,} values through YAML aliases; "
                    "write the values out instead of nesting aliases"
                )
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(f"{p}: not valid YAML{where}: {problem}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p}: not UTF-8 text ({e.reason} at byte {e.start})") from None
