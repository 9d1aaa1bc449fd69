"""Generated structuring code for the pure-Python shortcut (:mod:`._plain_decode`).

For one item class, :func:`hook_maker` writes and compiles what a person would write by
hand: a JSON ``object_hook`` that turns each item object into a model while the C scanner
is still parsing (so each dict is freed while it is hot, and no second pass walks the
decoded tree), with straight-line checks of each field (the converter's own rules),
nested single models inlined, and every value stored with a plain attribute assignment
on a bare instance of a *twin* class. The hook recognises an item by a *marker*, a
required key no nested model has; every other object stays a dict. The hook counts what
it builds, so :mod:`._plain_decode` can refuse a body where a model was built anywhere but
in the results list (a marker key inside ``meta``, say).

The twin is a slotted subclass of the model that adds no slot and restores ``object``'s
``__setattr__``/``__delattr__`` (the model's own refuse, as it is frozen): CPython then
runs each ``x.field = v`` as a direct slot store, several times cheaper than calling the
slot's ``__set__``. When the item is complete its ``__class__`` is set to the model (the
twin adds nothing to the layout, so CPython allows it), so the caller only ever sees real
model instances; a twin never escapes, since any doubt raises and the whole body is left
to the reference decoder.

Checks, field by field: strings are ``str`` and integers ``int`` by exact type; money
goes through the converter's money rule (a ``Decimal`` from the JSON scanner is already
exact and finite); timestamps of the two common shapes (``YYYY-MM-DDTHH:MM:SS`` then
``±HH:MM`` or ``Z``) are read by ``datetime.fromisoformat`` exactly as the converter's
parser reads them, uncached (as on the msgspec path), and any other through the
converter's parser and cache; ``Enum | str`` fields through the member table; anything
else through the converter's hook for that type. Money values are counted (``counts``)
so that :mod:`._plain_decode` can compare them with the raw bytes.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, get_args, get_origin

import attrs

from ._converter import (
    _CONVERTER,
    _enum_or_str,
    _optional_inner,
    _structure_money,
    _timestamp,
)
from .models.common import WIRE_NAME

__all__ = ["HookMaker", "Tally", "Unsupported", "hook_maker", "slots_beyond_fields"]

#: ``make()`` -> ``(hook, finish)``; ``finish()`` -> ``(built, counts)``: see :func:`hook_maker`.
Tally = Callable[[], tuple[int, list[int]]]
HookMaker = Callable[[], tuple[Callable[[dict[str, Any]], Any], Tally]]
_MISSING = object()
# The separators at 4, 7, 10, 13, 16, 19 and 22 of a timestamp with a ±HH:MM offset.
_OFFSET_SEPARATORS = frozenset({"--T::+:", "--T::-:"})
_fromisoformat = datetime.fromisoformat
if sys.version_info >= (3, 11):
    _fromisoformat_z = datetime.fromisoformat  # reads "Z" as "+00:00" (both: timezone.utc)
else:  # pragma: no cover - Python 3.10

    def _fromisoformat_z(text: str) -> datetime:
        return datetime.fromisoformat(text[:19] + "+00:00")


class Unsupported(Exception):
    """A model this shortcut does not build (always the reference decoder)."""


def hook_maker(item_cls: type[Any], money: dict[str, int]) -> HookMaker:
    """The generated ``make()`` for ``item_cls``; ``money`` gets a counter index per
    money key (each ``Decimal`` field's wire name, and ``currency``).

    ``make()`` returns ``(hook, finish)``: ``hook`` is a JSON ``object_hook`` that turns
    each object holding the item class's *marker* (a required key that no model nested in
    it has) into a model as it is parsed, and leaves every other object a dict;
    ``finish()`` returns how many models the hook built and the money counts since the
    last ``finish()``, and starts the tally again. A pair serves one decode at a time.

    Raises:
        Unsupported: a model (or a model inside it) this shortcut does not build, or an
            item class without a marker.
    """
    writer = _Writer(money)
    body = writer.object_lines(item_cls, depth=0, local_counts=True, known_dict=True)
    marker = _marker(item_cls)
    indexes = sorted(set(money.values()))
    cells = ", ".join([*(f"c{k}" for k in indexes), "built"])
    zeros = ", ".join(["0"] * (len(indexes) + 1))
    lines = [
        "def make():",
        f"  counts = {[0] * len(indexes)!r}  # what item functions (tuples of models) count",
        f"  {cells} = {zeros}",
        "  def hook(o0):",
        f"    nonlocal {cells}",
        f"    if {marker!r} not in o0:",
        "      return o0",
        *_indent(body),
        "    built += 1",
        "    return x0",
        "  def finish():",
        f"    nonlocal {cells}",
        f"    tally = built, [{', '.join(f'counts[{k}] + c{k}' for k in indexes)}]",
        f"    counts[:] = {[0] * len(indexes)!r}",
        f"    {cells} = {zeros}",
        "    return tally",
        "  return hook, finish",
    ]
    return writer.compile(lines, "make", f"hook for {item_cls.__qualname__}")  # type: ignore[no-any-return]


def _marker(cl: type[Any]) -> str:
    """A required wire key of ``cl`` that no attrs class nested in it has."""
    attrs.resolve_types(cl)
    nested: set[type[Any]] = set()
    for field in attrs.fields(cl):
        _nested_classes(field.type, nested)
    taken = {_wire_key(f) for n in nested for f in attrs.fields(n)}
    for field in attrs.fields(cl):
        if field.default is attrs.NOTHING and _wire_key(field) not in taken:
            return _wire_key(field)
    raise Unsupported


def _nested_classes(tp: Any, found: set[type[Any]]) -> None:
    if attrs.has(tp) and isinstance(tp, type) and tp not in found:
        found.add(tp)
        attrs.resolve_types(tp)
        for field in attrs.fields(tp):
            _nested_classes(field.type, found)
    for arg in get_args(tp):
        _nested_classes(arg, found)


def _wire_key(field: attrs.Attribute[Any]) -> str:
    return str(field.metadata.get(WIRE_NAME, field.name))


class _Writer:
    """Writes the generated code; ``ns`` collects the names it refers to."""

    def __init__(self, money: dict[str, int]) -> None:
        self.money = money
        self.ns: dict[str, Any] = {
            "_new": object.__new__,
            "_dict": dict,
            "_list": list,
            "_tuple": tuple,
            "_Doubt": ValueError,
            "_MISSING": _MISSING,
            "_fromisoformat": _fromisoformat,
            "_fromisoformat_z": _fromisoformat_z,
            "_OFFSET_SEPARATORS": _OFFSET_SEPARATORS,
            "_timestamp": _timestamp,
            "str": str,
            "int": int,
            "bool": bool,
        }
        self.functions: dict[type[Any], str] = {}  # item functions, for tuples of models
        self.stack: list[type[Any]] = []

    def name(self, value: Any, prefix: str) -> str:
        """A fresh name for ``value`` in the generated code's namespace."""
        key = f"_{prefix}{len(self.ns)}"
        self.ns[key] = value
        return key

    def compile(self, lines: list[str], name: str, label: str) -> Any:
        """The function ``name`` defined by ``lines``."""
        source = "\n".join(lines) + "\n"
        local: dict[str, Any] = {}
        code = compile(source, f"<truelayer_async plain structure {label}>", "exec")
        exec(code, self.ns, local)  # noqa: S102
        return local[name]

    # ------------------------------------------------------------------ one model

    def object_lines(
        self, cl: type[Any], *, depth: int, local_counts: bool, known_dict: bool = False
    ) -> list[str]:
        """Lines (indented for a function body) building model ``cl`` from dict
        ``o{depth}`` into ``x{depth}``; money counters are ``c{k}`` or ``counts[k]``."""
        if cl in self.stack:
            raise Unsupported  # a model holding itself: not inlined
        twin = _twin(cl)
        self.stack.append(cl)
        o, x, v = f"o{depth}", f"x{depth}", f"v{depth}"
        lines = [] if known_dict else [f"  if {o}.__class__ is not _dict:", "    raise _Doubt"]
        lines.append(f"  {x} = _new({self.name(twin, 'twin')})")
        for field in attrs.fields(cl):
            if not field.init or field.converter is not None or field.validator is not None:
                raise Unsupported
            key = field.metadata.get(WIRE_NAME, field.name)
            check = self.check(field.name, field.type, depth, local_counts=local_counts)
            if field.default is attrs.NOTHING:
                lines.append(f"  {v} = {o}[{key!r}]")
                lines += check
            elif field.default is None and check[:1] == [f"  if {v} is not None:"]:
                lines.append(f"  {v} = {o}.get({key!r})")  # optional: absent reads as null
                lines += check
            elif isinstance(field.default, (tuple, str, int, bool, type(None))):
                default = self.name(field.default, "d")
                lines += [f"  {v} = {o}.get({key!r}, _MISSING)", f"  if {v} is _MISSING:"]
                lines += [f"    {v} = {default}", "  else:", *_indent(check or ["  pass"])]
            else:
                raise Unsupported  # a factory default
            lines.append(f"  {x}.{field.name} = {v}")
        lines.append(f"  {x}.__class__ = {self.name(cl, 'cl')}")
        self.stack.pop()
        return lines

    def item_function(self, cl: type[Any]) -> str:
        """The name of a generated ``structure(o0, counts)`` for one item of ``cl``."""
        if cl not in self.functions:
            body = self.object_lines(cl, depth=0, local_counts=False)
            lines = ["def structure(o0, counts):", *body, "  return x0"]
            function = self.compile(lines, "structure", cl.__qualname__)
            self.functions[cl] = self.name(function, "s")
        return self.functions[cl]

    # ------------------------------------------------------------------ one field

    def counter(self, name: str, *, local_counts: bool) -> str:
        index = self.money.setdefault(name, len(self.money))
        return f"  c{index} += 1" if local_counts else f"  counts[{index}] += 1"

    def check(self, name: str, tp: Any, depth: int, *, local_counts: bool) -> list[str]:
        """Lines that check ``v{depth}`` (and may replace it) as the converter would."""
        v = f"v{depth}"
        if tp is str or tp is int or tp is bool:
            lines = [f"  if {v}.__class__ is not {tp.__name__}:", "    raise _Doubt"]
            if name == "currency" and tp is str:
                lines.append(self.counter(name, local_counts=local_counts))
            return lines
        if tp is Decimal:
            # The scanner's Decimals are exact and finite (NaN and Infinity are refused).
            return [
                f"  if {v}.__class__ is not {self.name(Decimal, 'Decimal')}:",
                f"    {v} = {self.name(_structure_money, 'money')}({v}, None)",
                self.counter(name, local_counts=local_counts),
            ]
        if tp is datetime:
            # The two common shapes read directly, exactly as the converter's parser reads
            # them (the same string; "Z" read as "+00:00"); a non-digit where the offset's
            # minutes start fails there, and the reference decides. Anything else goes
            # through the converter's parser and cache.
            return [
                f"  if {v}.__class__ is str and len({v}) == 25 and "
                f"{v}[4:23:3] in _OFFSET_SEPARATORS and {v}[23] < '6':",
                f"    {v} = _fromisoformat({v})",
                f"  elif {v}.__class__ is str and len({v}) == 20 and {v}[4:20:3] == '--T::Z':",
                f"    {v} = _fromisoformat_z({v})",
                "  else:",
                f"    {v} = _timestamp({v})",
            ]
        found = _enum_or_str(tp)
        if found is not None:
            enum_cls, nullable = found
            members = self.name({str(member.value): member for member in enum_cls}, "m")
            lines = [f"  if {v}.__class__ is not str:", "    raise _Doubt"]
            lines.append(f"  {v} = {members}.get({v}, {v})")
            return [f"  if {v} is not None:", *_indent(lines)] if nullable else lines
        inner = _optional_inner(tp)
        if inner is not None:
            inner_lines = self.check(name, inner, depth, local_counts=local_counts)
            return [f"  if {v} is not None:", *_indent(inner_lines)]
        if attrs.has(tp):
            nested = self.object_lines(tp, depth=depth + 1, local_counts=local_counts)
            return [f"  o{depth + 1} = {v}", *nested, f"  {v} = x{depth + 1}"]
        args = get_args(tp)
        if get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis:
            if attrs.has(args[0]):
                item = self.item_function(args[0])
                return [
                    f"  if {v}.__class__ is not _list:",
                    "    raise _Doubt",
                    f"  {v} = _tuple([{item}(i, counts) for i in {v}])",
                ]
            if args[0] is str:
                return [
                    f"  if {v}.__class__ is not _list:",
                    "    raise _Doubt",
                    f"  for i in {v}:",
                    "    if i.__class__ is not str:",
                    "      raise _Doubt",
                    f"  {v} = _tuple({v})",
                ]
        if tp == dict[str, Any]:
            return [f"  if {v}.__class__ is not _dict:", "    raise _Doubt"]
        # Anything else (dates, tagged unions...): the converter's own hook for the type.
        hook = self.name(_CONVERTER.get_structure_hook(tp), "h")
        return [f"  {v} = {hook}({v}, {self.name(tp, 't')})"]


def _indent(lines: list[str]) -> list[str]:
    return ["  " + line for line in lines]


_TWINS: dict[type[Any], type[Any]] = {}


def slots_beyond_fields(cl: type[Any]) -> set[str]:
    """The slots of attrs class ``cl`` that ``__init__`` fills besides its fields (attrs'
    cached hash): a model built without ``__init__`` would lack them (both shortcuts)."""
    slots = {name for k in cl.__mro__ for name in k.__dict__.get("__slots__", ())}
    return slots - {field.name for field in attrs.fields(cl)} - {"__weakref__"}


def _twin(cl: type[Any]) -> type[Any]:
    """The assignable twin of frozen slotted attrs class ``cl`` (see the module doc)."""
    if cl in _TWINS:
        return _TWINS[cl]
    if not (isinstance(cl, type) and attrs.has(cl)):
        raise Unsupported
    if hasattr(cl, "__attrs_post_init__") or hasattr(cl, "__attrs_pre_init__"):
        raise Unsupported
    attrs.resolve_types(cl)
    for field in attrs.fields(cl):
        if not (
            field.name.isidentifier()
            and isinstance(getattr(cl, field.name, None), types.MemberDescriptorType)
        ):
            raise Unsupported  # not a slot of its own: no plain store to take
    if slots_beyond_fields(cl):
        raise Unsupported  # a slot __init__ fills besides the fields (attrs' cached hash)
    namespace = {
        "__slots__": (),
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,
        "__module__": __name__,
    }
    twin = type(f"_Plain{cl.__name__}", (cl,), namespace)
    if twin.__basicsize__ != cl.__basicsize__ or cl.__dictoffset__ != 0:
        raise Unsupported  # the instance layouts differ: no __class__ assignment
    _TWINS[cl] = twin
    return twin
