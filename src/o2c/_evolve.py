"""A fast ``attrs.evolve`` for transitions the domain has already checked.

``attrs.evolve`` runs every converter, validator and ``__attrs_post_init__`` of the
class again, which re-validates a whole order (addresses, every line, totals) when
one line's shipped quantity moves. Operations that have checked their own change
(the transition table allowed it, the quantity fits) use :func:`evolved` instead:
it copies the instance and sets the changed fields, and nothing else. Values built
from outside input still go through the full constructor.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")

_FIELDS: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(a.name for a in cls.__attrs_attrs__)  # type: ignore[attr-defined]
        _FIELDS[cls] = names
    return names


def evolved(inst: T, **changes: Any) -> T:
    """A copy of the attrs instance ``inst`` with ``changes``, without re-validation.

    Only for changes the caller has checked; derived fields (``init=False``) are
    copied as they are, so a change to what they derive from must use
    ``attrs.evolve``.
    """
    cls = type(inst)
    new = object.__new__(cls)
    setter = object.__setattr__
    for name in _names(cls):
        setter(new, name, changes[name] if name in changes else getattr(inst, name))
    return new
