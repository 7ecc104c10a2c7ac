"""The Contextual Anomaly Detector (CAD OSE): a streaming detector that learns contexts.

Algorithm by Mikhail Smirnov, "Contextual Anomaly Detector - Open Source Edition"
(https://github.com/smirmik/CAD), as run by the Numenta Anomaly Benchmark
(numenta/NAB, `nab/detectors/context_ose/`), where it scores 69.9 / 67.0 / 73.2. The
original is published under the GNU AGPL v3; this module is an independent
re-implementation of the published algorithm in our own structure and names, not a
copy of that code. It follows the original step for step, quirks included (noted
where they happen), so that its NAB figures compare with the scoreboard's. One thing
cannot be carried over: ties between equally active contexts are broken by tuple
hashes, which differ between the original's Python 2 and Python 3, and so does the
order of dict iteration. That moves the NAB figures by a few tenths; medic scores
it 68.74 / 66.25 / 71.78 (emulating Python 2's tuple hash gave 68.55 to 68.73).

How it works. Each value is cut into `2**value_bits` equal bins of the range it is
told about, and the bin number's bits become a few integer *facts*. A *context* pairs
a set of facts seen at one step (its left side: the previous value's facts plus the
contexts that were active then, as "neuron" facts) with facts seen at the next step
(its right side). Every step:

1. the pair (previous left facts, current facts) is looked up as a *zero-level*
   context and stored if it is new;
2. every context whose whole left side was present at the previous step was
   *selected*; it is *active* when its whole right side is present now. Contexts
   count how often and how well they predicted;
3. when step 1 stored something new, the partial overlaps of selected zero-level
   contexts with the present become candidate contexts and are stored too;
4. the most often active contexts (at most `max_active_neurons`) become neuron facts
   of the next left side, and the contexts whose left side is wholly present with
   the best prediction record predict the next value's facts.

The anomaly score is 0 when every fact of the value was predicted; otherwise it is
`(1 - active/selected + new/candidates) / 2`: high when few expected contexts came
true and much of what was seen had to be learned. After a score of `base_threshold`
or more, scores are silenced for `rest_period` steps.

Memory, and the time a step takes, grow with the number of distinct contexts, which
is capped at `max_contexts`: past it nothing more is learned, but a new pair still
counts as new, so novelty is still reported. The default lies above what any NAB
file needs (its noisiest needs about 63,000).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

__all__ = ["CadConfig", "CadDetector", "cad_scores"]

FloatArray = npt.NDArray[np.float64]
Facts = tuple[int, ...]
Pair = tuple[Facts, Facts]  # a context's (left facts, right facts)

_SENSOR_BASE = 1 << 16  # facts of the value's bits
_NEURON_BASE = 1 << 31  # facts of active contexts (neurons), above every sensor fact


@dataclass(frozen=True)
class CadConfig:
    """CAD OSE's parameters; the defaults are the original's (NAB's settings)."""

    base_threshold: float = 0.75
    rest_period: int = 30
    max_left_length: int = 7  # longest partial left side a candidate context may have
    max_active_neurons: int = 15
    value_bits: int = 3
    max_contexts: int = 100_000  # NAB's noisiest file (art_noisy) needs 63,482


class _Side:
    """A semi-context: a fact set shared by the contexts that have it as one side."""

    __slots__ = ("facts_count", "hits", "index", "seen")

    def __init__(self, index: int, facts_count: int) -> None:
        self.index = index  # creation order, which the crossing preserves
        self.facts_count = facts_count
        self.seen: list[int] = []  # its facts present in the latest crossing
        self.hits = 0


class _LeftSide(_Side):
    __slots__ = ("contexts",)

    def __init__(self, index: int, facts_count: int) -> None:
        super().__init__(index, facts_count)
        self.contexts: dict[int, _Context] = {}  # by the index of their right side


class _Context:
    __slots__ = (
        "activations",
        "correct",
        "expected",
        "index",
        "left_key",
        "right",
        "right_facts",
        "right_key",
        "zero_level",
    )

    def __init__(
        self,
        index: int,
        right: _Side,
        right_facts: Facts,
        zero_level: bool,
        left_key: int,
        right_key: int,
    ) -> None:
        self.index = index
        self.right = right
        self.expected = 0  # facts it predicted, summed over the times it was selected
        self.correct = 0  # of those, the facts that came
        self.activations = 0  # times its whole right side came
        self.right_facts = right_facts
        self.zero_level = zero_level
        # Ties between equally active contexts are broken by the hashes of their sides,
        # as in the original (deterministic in CPython for tuples of ints).
        self.left_key = left_key
        self.right_key = right_key


class _Memory:
    """The contexts, stored as pairs of shared semi-contexts indexed by fact."""

    def __init__(self, config: CadConfig) -> None:
        self._config = config
        self._lefts: dict[Facts, _LeftSide] = {}
        self._rights: dict[Facts, _Side] = {}
        self._left_list: list[_LeftSide] = []
        self._right_list: list[_Side] = []
        self._left_by_fact: dict[int, list[_LeftSide]] = {}
        self._right_by_fact: dict[int, list[_Side]] = {}
        self.contexts: list[_Context] = []
        self._crossed_left: list[_LeftSide] = []
        self._crossed_right: list[_Side] = []
        # The context stored by this step's zero-level lookup is left out of the update.
        # The original marks "none" with False, which equals context 0: context 0 is
        # therefore skipped on every step that stores no new zero-level context.
        self._fresh = 0

    def learn(self, left_facts: Facts, right_facts: Facts, zero_level: bool) -> bool:
        """Store a context unless known; True if it was new (stored, or not for want of
        room). A known one seen at zero level becomes a zero-level context."""
        left = self._lefts.get(left_facts)
        right = self._rights.get(right_facts)
        if left is not None and right is not None:
            known = left.contexts.get(right.index)
            if known is not None:
                known.zero_level = known.zero_level or zero_level
                return False
        if len(self.contexts) >= self._config.max_contexts:
            return True
        if left is None:
            left = _LeftSide(len(self._left_list), len(left_facts))
            self._lefts[left_facts] = left
            self._left_list.append(left)
            for fact in left_facts:
                self._left_by_fact.setdefault(fact, []).append(left)
        if right is None:
            right = _Side(len(self._right_list), len(right_facts))
            self._rights[right_facts] = right
            self._right_list.append(right)
            for fact in right_facts:
                self._right_by_fact.setdefault(fact, []).append(right)
        index = len(self.contexts)
        context = _Context(
            index, right, right_facts, zero_level, hash(left_facts), hash(right_facts)
        )
        left.contexts[right.index] = context
        self.contexts.append(context)
        if zero_level:
            self._fresh = index
        return True

    def observe(self, facts: Facts, new_zero_level: bool) -> tuple[list[_Context], int, list[Pair]]:
        """Cross the present facts with the right sides and update the contexts selected
        at the previous step: (active ones, number selected, candidate contexts)."""
        self._crossed_right = _cross(
            self._crossed_right, self._right_list, self._right_by_fact, facts
        )
        max_left = self._config.max_left_length
        active: list[_Context] = []
        candidates: list[Pair] = []
        selected = 0
        fresh = self._fresh
        for left in self._crossed_left:
            whole_left = left.facts_count == left.hits
            for context in left.contexts.values():
                if context.index == fresh:
                    continue
                right = context.right
                if whole_left:
                    selected += 1
                    context.expected += right.facts_count
                    if right.hits == 0:
                        continue
                    context.correct += right.hits
                    if right.hits == right.facts_count:
                        context.activations += 1
                        active.append(context)
                        continue
                elif right.hits == 0:
                    continue
                if context.zero_level and new_zero_level and left.hits <= max_left:
                    candidates.append((tuple(left.seen), tuple(right.seen)))
        self._fresh = 0
        return active, selected, candidates

    def predict(self, facts: Facts, candidates: list[Pair]) -> tuple[int, set[int]]:
        """Store the candidates, cross `facts` with the left sides, and predict the next
        facts from the best-scoring contexts whose left side is wholly present:
        (number of candidates that were new, predicted facts)."""
        added = sum(self.learn(left, right, zero_level=False) for left, right in candidates)
        self._crossed_left = _cross(self._crossed_left, self._left_list, self._left_by_fact, facts)
        best = 0.0
        predicting: list[_Context] = []
        for left in self._crossed_left:
            if left.hits != left.facts_count:
                continue
            for context in left.contexts.values():
                weight = context.correct / context.expected if context.expected > 0 else 0.0
                if weight > best:
                    best = weight
                    predicting = [context]
                elif weight == best:
                    predicting.append(context)
        predicted: set[int] = set()
        for context in predicting:
            predicted.update(context.right_facts)
        return added, predicted


_S = TypeVar("_S", bound=_Side)


def _cross(
    previous: list[_S], every: list[_S], by_fact: dict[int, list[_S]], facts: Facts
) -> list[_S]:
    """Mark on every semi-context which of `facts` it holds; return those holding any,
    in creation order (the order decides the numbering of contexts learned later)."""
    for side in previous:
        side.seen = []
        side.hits = 0
    for fact in facts:
        for side in by_fact.get(fact, ()):
            side.seen.append(fact)
    # Most semi-contexts share a fact with any input: a pass over all of them, in
    # order, is cheaper than sorting the ones touched.
    crossed = [side for side in every if side.seen]
    for side in crossed:
        side.hits = len(side.seen)
    return crossed


def _by_activity(context: _Context) -> tuple[int, int, int]:
    return (context.activations, context.left_key, context.right_key)


class CadDetector:
    """Feed `update(value)` in order; each call returns the value's anomaly score.

    `minimum` and `maximum` bound the values to expect (NAB passes each file's range);
    values outside are treated as the nearest bound, and NaN as the minimum.
    """

    def __init__(self, minimum: float, maximum: float, config: CadConfig | None = None) -> None:
        self.config = c = config or CadConfig()
        self._minimum = float(minimum)
        self._top_bin = 2**c.value_bits - 1
        span = float(maximum) - self._minimum
        self._bin_width = (span if span != 0.0 else float(self._top_bin)) / self._top_bin
        self._memory = _Memory(c)
        self._left: Facts = ()
        self._predicted: set[int] = set()
        # The original's score history starts with 1.0: the first steps are silent.
        self._recent: deque[float] = deque([1.0], maxlen=max(c.rest_period, 1))

    @property
    def contexts(self) -> int:
        """How many contexts it has learned (its memory grows with them)."""
        return len(self._memory.contexts)

    def update(self, value: float) -> float:
        facts = self._encode(value)
        surprised = any(f not in self._predicted for f in facts)
        active_share, new_share = self._step(facts)
        score = (1.0 - active_share + new_share) / 2.0 if surprised else 0.0
        quiet = max(self._recent) < self.config.base_threshold
        self._recent.append(score)
        return score if quiet else 0.0

    def _encode(self, value: float) -> Facts:
        """The bits of the value's bin, one fact per bit (its position and value)."""
        position = (value - self._minimum) / self._bin_width
        level = int(min(position, self._top_bin)) if position >= 0.0 else 0  # NaN: 0
        return tuple(
            _SENSOR_BASE + 2 * bit + ((level >> bit) & 1) for bit in range(self.config.value_bits)
        )

    def _step(self, facts: Facts) -> tuple[float, float]:
        """Learn from the value's facts and predict the next ones:
        (share of selected contexts that came true, share of candidates that were new)."""
        memory = self._memory
        unique: set[Pair] = set()
        new_zero_level = False
        if self._left and facts:
            pair = (self._left, facts)
            unique.add(pair)
            new_zero_level = memory.learn(self._left, facts, zero_level=True)
        active, selected, candidates = memory.observe(facts, new_zero_level)
        unique.update(candidates)
        active_share = len(active) / selected if selected else 0.0
        ranked = sorted(active, key=_by_activity)
        neurons = {_NEURON_BASE + c.index for c in ranked[-self.config.max_active_neurons :]}
        self._left = tuple(sorted({*facts, *neurons}))
        added, self._predicted = memory.predict(self._left, candidates)
        added += new_zero_level
        new_share = added / len(unique) if new_zero_level and unique else 0.0
        return active_share, new_share


def cad_scores(values: Sequence[float] | FloatArray, config: CadConfig | None = None) -> FloatArray:
    """Stream a whole series through a fresh detector told the series' range (as NAB
    tells its detectors each file's minimum and maximum); one score per value."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return np.zeros(0, dtype=np.float64)
    finite = v[np.isfinite(v)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    detector = CadDetector(low, high, config)
    return np.asarray([detector.update(x) for x in v.tolist()], dtype=np.float64)
