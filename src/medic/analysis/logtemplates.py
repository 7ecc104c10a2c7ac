"""Log template mining (drain3): one template per line, stable ids, masked values.

`LogPatterns` wraps a `drain3.TemplateMiner` configured in code (no config file): the
masks below turn IPs, numbers, hex ids, UUIDs, paths, durations, sizes, block ids and
the like into one placeholder, `<VAR>`, before Drain groups lines by their constant
tokens. On top of plain Drain, `parse` refines a batch: a run of masked values is one
variable (so "1.2 KB" and "1234 bytes" give the same token count), templates that
differ in one position holding many distinct words are merged (a user or host name
that the prefix tree took for a constant), and a template whose `<*>` only ever held
a few words is split back (`VM Started` / `VM Paused`: alternatives, not a variable).

The senses (new log patterns at an onset), the diagnostician (log templates as series
in the ranking) and the log benchmark all mine with this one miner. Log text is
untrusted data from the watched system: templates appear only as data, fenced, in
summaries; they are never interpreted.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from drain3.masking import AbstractMaskingInstruction, MaskingInstruction
from drain3.template_miner import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig

__all__ = [
    "MASKS",
    "VAR",
    "LogPatterns",
    "Mask",
    "Template",
    "fence",
    "generic_template",
    "header_regex",
]

VAR = "VAR"  # masked values read `<VAR>` in templates; Drain's own wildcards read `<*>`


@dataclass(frozen=True)
class Mask:
    """Text matching `pattern` is replaced by `<name>` before mining."""

    name: str
    pattern: str


# Order matters: the specific shapes go before the numbers they contain.
MASKS: tuple[Mask, ...] = (
    Mask(
        "UUID", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
    ),
    Mask("URL", r"\b[a-z][a-z0-9+.-]*://[^\s\"'<>]+"),
    Mask("IP", r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.])"),
    Mask("MAC", r"\b(?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}\b"),
    Mask("TIME", r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"),
    Mask("DATE", r"\b\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?Z?)?\b"),
    Mask("PATH", r"(?<![\w/.])(?:/[\w.@%+-]+){2,}/?"),
    Mask("HEX", r"\b0[xX][0-9a-fA-F]+\b"),
    # Long hex ids (hashes, container and trace ids): at least one digit and one letter.
    Mask("ID", r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"),
    Mask("DURATION", r"(?<![\w.])\d+(?:\.\d+)?\s?(?:ms|us|µs|ns|s|m|h|sec|secs|min)\b"),
    Mask("SIZE", r"(?<![\w.])\d+(?:\.\d+)?\s?(?:[KMGTP]i?B|bytes)\b"),
    # Numbers standing alone or after a word boundary like `blk_`, `=`, `#`, `:`.
    Mask("NUM", r"(?<![A-Za-z0-9.])[-+]?\d+(?:\.\d+)?(?![A-Za-z0-9])"),
)

# Every mask needs a digit or a slash: only the tokens that have one are scanned, with
# the unit word that may follow a number ("1.2 KB", "30 ms").
_UNIT = r"(?:[KMGTP]i?B|bytes|ms|us|ns|s|sec|secs|min)"
# Anchored at a token's start and free of backtracking: `\S*[\d/]` would retry every
# suffix of every word.
_CANDIDATE = re.compile(rf"(?<!\S)[^\s\d/]*[\d/]\S*(?:\s{_UNIT}\b\S*)?")
_CACHE_SIZE = 20_000


class _TokenMasking(AbstractMaskingInstruction):
    """All `masks` in one scan of each token that has a digit or a slash (leftmost match
    wins, then the first mask in order). One alternation over a few short tokens costs
    a fraction of one `re.sub` per mask over the whole line, which was most of the
    mining time."""

    def __init__(self, masks: Sequence[Mask]) -> None:
        super().__init__(VAR)
        self._regex = re.compile("|".join(f"(?:{m.pattern})" for m in masks))
        self._cache: dict[str, str] = {}

    def mask(self, content: str, mask_prefix: str, mask_suffix: str) -> str:
        # Every mask is written as one placeholder, `<VAR>`: a `<NUM>` here and a `<HEX>`
        # there (the same field) must not split a template in two. It is not Drain's
        # `<*>` on purpose: Drain counts a template's `<*>` as dissimilar, so lines
        # made mostly of masked values would never match their own template.
        placeholder = f"{mask_prefix}{VAR}{mask_suffix}"
        sub = self._regex.sub
        cache = self._cache

        def token(found: re.Match[str]) -> str:
            text = found.group()
            masked = cache.get(text)
            if masked is None:
                # Tokens repeat (the same host, the same status code): remember a bounded
                # number of them rather than scan them again.
                if len(cache) >= _CACHE_SIZE:
                    cache.clear()
                masked = cache[text] = sub(placeholder, text)
            return masked

        return _CANDIDATE.sub(token, content)


_MASK_TOKEN = re.compile(rf"<(?:{VAR}|\*)>")


def generic_template(template: str) -> str:
    """`template` with every placeholder written as Drain's `<*>`."""
    return _MASK_TOKEN.sub("<*>", template)


def header_regex(log_format: str) -> re.Pattern[str]:
    """A regex for a Loghub-style format such as `<Date> <Time> <Level> <Content>`.

    Each `<Field>` becomes a named group; spaces match runs of whitespace. A line that
    does not match is mined whole.
    """
    parts = re.split(r"(<[^<>]+>)", log_format)
    out = []
    for part in parts:
        if part.startswith("<") and part.endswith(">"):
            out.append(f"(?P<{part[1:-1]}>.*?)")
        else:
            out.append(re.sub(r" +", r"\\s+", part))
    return re.compile("^" + "".join(out) + "$")


# Templates merged by `_consolidate` must still share this many constant tokens.
_MERGE_MIN_CONSTANTS = 2
# A constant alternative is a word (`Started`, `SOCKS5`), never a number or a mask.
_WORD = re.compile(r"[A-Za-z][\w-]*[.,:;!?]?")
# A run of tokens made only of masked values and punctuation (`(<VAR>` `<VAR>)`): one
# variable whose text happened to contain spaces, e.g. "1.2 KB", "(3 sent, 4 lost)".
_VAR_TOKEN = rf"(?:[^\w\s]|<{VAR}>)*<{VAR}>(?:[^\w\s]|<{VAR}>)*"
_PLACEHOLDER = f"<{VAR}>"
_VAR_RUN = re.compile(rf"(?<!\S){_VAR_TOKEN}(?:\s+{_VAR_TOKEN})+(?!\S)")


@dataclass(frozen=True)
class Template:
    """A line's template: `text` with `<VAR>` for masked values and `<*>` for the
    variables mining found; `id` is derived from the text, so it is stable across
    miners, processes and line order."""

    id: str
    text: str


@dataclass(frozen=True)
class _Key:
    length: int
    position: int
    rest: tuple[str, ...]


class LogPatterns:
    """A template miner: feed lines, get a template per line.

    `similarity` and `depth` are Drain's `st` and tree depth. `extra_patterns` (per-system
    shapes, e.g. the Loghub benchmark's regexes) and then `masks` replace values by
    `<VAR>` before mining; `header`, when given, is a regex with a `Content` group that
    cuts a line's header (timestamp, level, ...) off first. `add` mines one line at a
    time; `parse` mines a batch and then refines the templates: it merges templates that
    differ in one position holding at least `merge_min_values` distinct words (a variable
    the prefix tree took for a constant) and splits a template whose `<*>` only ever
    held at most `split_max_values` distinct words (alternatives such as
    `VM Started` / `VM Paused`, which Drain's similarity lumps together).
    """

    def __init__(
        self,
        *,
        similarity: float = 0.5,
        depth: int = 4,
        masks: Sequence[Mask] = MASKS,
        extra_patterns: Sequence[str] = (),
        header: re.Pattern[str] | None = None,
        max_children: int = 100,
        merge_min_values: int = 5,
        split_max_values: int = 3,
    ) -> None:
        config = TemplateMinerConfig()  # type: ignore[no-untyped-call]
        config.drain_sim_th = similarity
        config.drain_depth = depth
        config.drain_max_children = max_children
        config.parametrize_numeric_tokens = True
        config.masking_instructions = [MaskingInstruction(p, VAR) for p in extra_patterns]
        if masks:
            config.masking_instructions.append(_TokenMasking(masks))
        self._miner = TemplateMiner(config=config)
        self._drain = self._miner.drain
        self._header = header
        self._merge_min_values = merge_min_values
        self._split_max_values = split_max_values

    def content(self, line: str) -> str:
        """The part of `line` that is mined: the header regex's `Content`, or all of it."""
        if self._header is not None:
            found = self._header.match(line.strip())
            if found is not None:
                return found.group("Content")
        return line

    def mask(self, content: str) -> str:
        """`content` with its values masked and runs of masked values made one."""
        masked = str(self._miner.masker.mask(content))
        if masked.count(_PLACEHOLDER) < 2:  # no run possible: skip the slower regex
            return masked
        return _VAR_RUN.sub(_PLACEHOLDER, masked)

    def add(self, line: str) -> Template:
        """Learn from `line` and return its template as mined so far."""
        cluster, _ = self._drain.add_log_message(self.mask(self.content(line)))
        return _template(tuple(cluster.log_template_tokens))

    def parse(self, lines: Iterable[str]) -> list[Template]:
        """Mine `lines` and return each line's refined template, in order."""
        tokens: list[list[str]] = []
        clusters: list[int] = []
        for line in lines:
            masked = self.mask(self.content(line))
            cluster, _ = self._drain.add_log_message(masked)
            clusters.append(int(cluster.cluster_id))
            tokens.append(masked.split())
        merged = self._consolidate()
        roots = [merged.get(c, c) for c in clusters]
        members: dict[int, list[int]] = defaultdict(list)
        for index, root in enumerate(roots):
            members[root].append(index)
        out: list[Template | None] = [None] * len(roots)
        for root, indexes in members.items():
            template = tuple(self._drain.id_to_cluster[root].log_template_tokens)
            for index, text in self._split(template, [tokens[i] for i in indexes]):
                out[indexes[index]] = text
        return [t for t in out if t is not None]

    def _split(
        self, template: tuple[str, ...], lines: Sequence[Sequence[str]]
    ) -> Iterable[tuple[int, Template]]:
        param = self._drain.param_str
        wild = [i for i, t in enumerate(template) if t == param]
        whole = _template(template)
        values = [
            tuple(line[i] for i in wild) if len(line) == len(template) else () for line in lines
        ]
        distinct = set(values)
        if (
            not wild
            or len(distinct) > self._split_max_values
            or not all(v and all(_WORD.fullmatch(w) for w in v) for v in distinct)
        ):
            return ((i, whole) for i in range(len(lines)))
        texts: dict[tuple[str, ...], Template] = {}
        for value in distinct:
            filled = list(template)
            for position, word in zip(wild, value, strict=True):
                filled[position] = word
            texts[value] = _template(tuple(filled))
        return ((i, texts[v]) for i, v in enumerate(values))

    def _consolidate(self) -> dict[int, int]:
        """Merge templates that differ in one position only, when that position holds at
        least `merge_min_values` distinct words across the sibling templates: the tell of
        a variable that Drain's prefix tree took for a constant. Returns merged -> kept."""
        drain = self._drain
        param = drain.param_str
        groups: dict[_Key, list[int]] = defaultdict(list)
        for cluster in list(drain.clusters):
            tokens = tuple(cluster.log_template_tokens)
            for i in range(len(tokens)):
                groups[_Key(len(tokens), i, tokens[:i] + tokens[i + 1 :])].append(
                    int(cluster.cluster_id)
                )
        merged: dict[int, int] = {}
        for key, found in groups.items():
            ids = sorted({_root(merged, i) for i in found})
            if len(ids) < 2:
                continue
            values = {drain.id_to_cluster[i].log_template_tokens[key.position] for i in ids}
            values.discard(param)
            constants = sum(1 for t in key.rest if not _MASK_TOKEN.fullmatch(t))
            if len(values) < self._merge_min_values or constants < _MERGE_MIN_CONSTANTS:
                continue
            target = drain.id_to_cluster[ids[0]]
            widened = list(target.log_template_tokens)
            widened[key.position] = param
            target.log_template_tokens = tuple(widened)
            for other in ids[1:]:
                merged[other] = ids[0]
        return {i: _root(merged, i) for i in merged}


def _root(merged: dict[int, int], cluster_id: int) -> int:
    while cluster_id in merged:
        cluster_id = merged[cluster_id]
    return cluster_id


def _template(tokens: tuple[str, ...]) -> Template:
    text = " ".join(tokens)
    return Template(id=hashlib.sha256(text.encode()).hexdigest()[:12], text=text)


# --- The incident use: what changed in a service's logs at the onset -------------------

_FENCE_LIMIT = 300


def fence(text: str, limit: int = _FENCE_LIMIT) -> str:
    """Untrusted `text` as inert data: one line, no control or format characters,
    truncated, inside a backtick fence longer than any backtick run it contains."""
    kept = "".join(" " if unicodedata.category(ch) in _UNSAFE else ch for ch in text)
    flat = " ".join(kept.split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    run = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    ticks = "`" * (run + 1)
    return f"{ticks} {flat} {ticks}"


# Controls and newlines, format characters (bidi overrides, zero width), line and
# paragraph separators: any of them could start a new block or hide what text says.
_UNSAFE = frozenset({"Cc", "Cf", "Zl", "Zp"})
