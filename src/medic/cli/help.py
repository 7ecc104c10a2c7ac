"""Help texts without stray type tags.

Typer's Rich help formatter (typer 0.29, `rich_utils`) prints every option's value type,
flags included, so `--version` read `--version <bool>` as if it took a value. Its plain
formatter skips flags (`if not self.is_flag`); the Rich one does not check. Flags take
no value, so for them no type is shown; options that take a value keep theirs.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperOption

__all__ = ["hide_flag_types"]

_MARK = "_medic_hides_flag_types"


def hide_flag_types() -> None:
    original = TyperOption.display_type_rich
    if getattr(original, _MARK, False):
        return

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        if self.is_flag and self.metavar is None:
            return None
        return original(self, ctx)

    setattr(display_type_rich, _MARK, True)
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]
