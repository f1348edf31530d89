"""What a reply must hold, shared by the types that send something and wait for an answer
(websocket, udp): text it contains, a regular expression, bytes in hex, JSON paths.

Each type builds its own ``expect`` block from the parts it supports, so its schema lists only those.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from generator.config.keys import Block, Checked, Key, Texts, regex
from generator.probes.http import check_json
from generator.probes.http_spec import JsonAssertion, JsonAssertions

HEX = r"^\s*([0-9A-Fa-f]{2}\s*)+$"


@dataclass(frozen=True)
class ReplyExpect:
    contains: tuple[str, ...] = ()
    regex: str | None = None
    hex: str | None = None  # bytes the reply must contain, written as hex
    json: tuple[JsonAssertion, ...] = ()

    @property
    def wanted(self) -> bool:
        return bool(self.contains or self.regex or self.hex or self.json)


def hex_problem(text: str) -> str | None:
    return None if re.fullmatch(HEX, text) else f'"{text}" is not hex bytes (e.g. "0a ff 00")'


def hex_key(name: str, doc: str) -> Checked:
    return Checked(name, doc, check=hex_problem, pattern=HEX, secret_ok=False, good=("de ad be ef", "00ff"),
                   bad=("xyz", "abc", 7))


def expect_block(definition: str, doc: str, *, binary: bool = False, with_json: bool = False) -> Block:
    """``expect: {contains, regex[, hex][, json]}``; every part given must hold."""
    keys: list[Key] = [
        Texts("contains", "text (or texts) the reply must contain"),
        regex("regex", "a regular expression the reply must match"),
    ]
    if binary:
        keys.append(hex_key("hex", "bytes the reply must contain, in hex (e.g. \"0a ff\")"))
    if with_json:
        keys.append(JsonAssertions("json", "assertions on the reply as JSON, e.g. [{path: status, equals: ok}]"))
    return Block("expect", doc, definition=definition, make=ReplyExpect, what=" of expectations", keys=tuple(keys))


def _quote(text: str, limit: int = 60) -> str:
    return "'" + (text if len(text) <= limit else text[: limit - 1] + "…") + "'"


def unmet(expect: ReplyExpect, data: bytes | str) -> str:
    """The first expectation the reply does not meet, as a short sentence, or "" when all hold."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    text = data if isinstance(data, str) else data.decode("utf-8", errors="replace")
    for needle in expect.contains:
        if needle not in text:
            return f"reply does not contain {_quote(needle)}"
    if expect.regex and not re.search(expect.regex, text):
        return f"reply does not match /{expect.regex}/"
    if expect.hex and bytes.fromhex(expect.hex) not in raw:
        return f"reply does not contain the bytes {expect.hex.strip()}"
    if expect.json:
        try:
            document: Any = json.loads(text)
        except ValueError:
            return "reply is not valid JSON"
        for assertion in expect.json:
            failure = check_json(assertion, document)
            if failure:
                return failure
    return ""


def shown(data: bytes | str, limit: int = 200) -> str:
    """A reply as it may appear in details: text, or hex when it is not text."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data[: limit // 2].hex(" ")
    else:
        text = data
    return text if len(text) <= limit else text[: limit - 1] + "…"
