"""One error type for bad input, with a message a planner can act on.

Every reader and validator raises :class:`InputError` naming the file, the row or
feature, what is wrong and how to fix it, so that the CLI can print one paragraph
instead of a library traceback.
"""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad user input: names the source, the offending row and the fix.

    Parameters
    ----------
    problem : str
        What is wrong, in one sentence.
    source : str or Path, optional
        The file (or layer name) the problem was found in.
    row : int or str, optional
        The row, feature index or id at fault.
    fix : str, optional
        What the user should do about it.
    """

    def __init__(
        self,
        problem: str,
        *,
        source: str | Path | None = None,
        row: int | str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.source = None if source is None else str(source)
        self.row = row
        self.fix = fix
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.source:
            where.append(self.source)
        if self.row is not None:
            where.append(f"row {self.row}")
        head = f"{': '.join(where)}: " if where else ""
        tail = f" Fix: {self.fix}" if self.fix else ""
        return f"{head}{self.problem}{tail}"
