"""What is wrong with a configuration file: located problems and the error that carries them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from generator.secrets import mask


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the file, at a 1-based line and column (0 when the file itself is the problem).

    ``key`` is the path of the offending key or value, e.g. ``monitors[3].expect.status``
    (list indexes count from 0), or ``""`` when the problem is not about a key (a syntax error).
    """

    file: str
    line: int
    col: int
    key: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line <= 0 else f"{self.file}:{self.line}:{self.col}"
        what = f"{self.key}: {self.message}" if self.key else self.message
        # a resolved secret can end up quoted in a message (e.g. a bad URL built from one)
        return mask(f"{where}: {what}")

    def annotation(self) -> str:
        """A GitHub Actions workflow command that shows the problem on the file's line in a pull request."""
        props = [f"file={_escape_property(self.file)}"]
        if self.line > 0:
            props.append(f"line={self.line}")
            if self.col > 0:
                props.append(f"col={self.col}")
        what = f"{self.key}: {self.message}" if self.key else self.message
        return f"::error {','.join(props)}::{_escape_data(mask(what))}"


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` lists every reason, in file order."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__(format_problems(self.problems))


def format_problems(problems: Iterable[Problem], *, github: bool = False) -> str:
    """One line per problem; with ``github=True`` also one ``::error`` annotation line per problem."""
    problems = list(problems)
    lines = [str(problem) for problem in problems]
    if github:
        lines.extend(problem.annotation() for problem in problems)
    return "\n".join(lines)


# GitHub's workflow-command escaping (the runner's toolkit does the same)
def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
