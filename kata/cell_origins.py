"""Where the lines of a stage module written from notebook cells came from, and messages that cite those
cells rather than the module, which the learner never opened (a kernel's check and a graded notebook alike)."""

import re

_WRITTEN_BY = "# Written by kata from"  # how every stage module made from a notebook's cells starts


def header(written_from: str) -> str:
    """The first line of a stage module made from a notebook's cells: one line, whatever the notebook's name holds
    (a line break in a submitted notebook's name made the rest of the name code of every module)."""
    named = written_from if written_from.isprintable() else ascii(written_from)
    return f"{_WRITTEN_BY} {named}: edit the notebook, not this file."


def written_from_cells(first_line: str) -> bool:
    """Whether a module's first line says it was made from a notebook's cells (the learner never edited it)."""
    return first_line.startswith(f"{_WRITTEN_BY} ")


# A line of a stage module written from notebook cells -> (the cell, as the learner knows it, line in that cell).
Origins = dict[int, tuple[str, int]]


def cell_line(origins: Origins, line: int) -> str | None:
    """'cell [12], line 5' for a line of a module made from cells, where it came from one."""
    if line not in origins:
        return None
    cell, line_in_cell = origins[line]
    return f"{cell}, line {line_in_cell}"


def in_notebook_words(text: str, origins_by_file: dict[str, Origins]) -> str:
    """`text` in a notebook's words: a line of a stage module made from its cells, cited as
    's03_bigram.py:25' or as '... s03_bigram.py raised NameError: ... (line 25)', becomes the line of the
    cell it came from (`origins_by_file` holds each such module's origins, under its name as `text` cites it),
    and '`pytest -m s07_transformer`' is said as a notebook runs a stage's tests."""
    text = re.sub(r"`pytest -m (\w+)`", r'`kata.check("\1")`', text)
    for file, origins in origins_by_file.items():
        cited = rf"(?<![\w./]){re.escape(file)}"
        text = re.sub(rf"{cited}:(\d+)", lambda match, lines=origins: cell_line(lines, int(match[1])) or match[0], text)
        text = re.sub(
            rf"({cited}\b[^\n]*) \(line (\d+)\)",
            lambda match, lines=origins: f"{match[1]} ({cell_line(lines, int(match[2])) or f'line {match[2]}'})",
            text,
        )
    return text
