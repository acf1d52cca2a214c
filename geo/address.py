"""Door-plate addresses: normalise, parse and match them against a gazetteer of buildings.

This is the database-free core of address geocoding. Buildings carry door-plate addresses such as
``郑州市金水区未来路街道未来路123号`` or ``郑州市金水区未来路街道锦绣小区5号楼2单元``; incident
records carry what people typed: full-width digits, Chinese numerals, ``栋``/``幢``/``座`` for
``号楼``, no city or district, spaces, a room number, ``附近`` ("near"). :func:`parse_address`
reduces both to the same components and a normalised key; :class:`AddressGazetteer` matches typed
text against the buildings, exactly, by key, or fuzzily within the same road number or compound.

The rule that shapes the matcher: a point placed in the wrong micro-grid is the worst silent failure
gridsafe can have (docs/decisions/0001-border-rule.md). So a road name or a door, building or unit
number is never guessed: ``未来路125号`` never matches ``红专路125号`` or ``未来路123号``.
Fuzziness is allowed only in a compound's name (``锦秀小区`` for ``锦绣小区``), and an input
that fits several buildings equally well matches none of them;
:meth:`AddressGazetteer.explain_no_match` says why.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from rapidfuzz import fuzz, process

from geo.errors import InputError

__all__ = [
    "AddressGazetteer",
    "AddressMatch",
    "AddressParts",
    "MatchMethod",
    "normalize_address",
    "parse_address",
]

MatchMethod = Literal["exact", "normalized", "fuzzy"]

EXACT_SCORE = 100.0
"""Score of a match on the address string exactly as stored."""
NORMALIZED_SCORE = 99.0
"""Score of a match on the normalised key (same place, building and unit)."""

# A compound name at least this similar (rapidfuzz ratio) to the typed one is searched: one wrong
# character in a three- or four-character name (锦秀苑/锦绣苑 67, 锦秀小区/锦绣小区 75) passes,
# a different name (幸福小区/锦绣小区 50) does not.
_COMPOUND_CUTOFF = 60.0
# Points taken off per component (building, unit) the input names but the candidate lacks: the
# candidate is coarser than the input (the building, when the input names a unit in it).
_COARSER_PENALTY = 5.0
# Candidates at other places scoring within this of the best make the match ambiguous.
_TIE_MARGIN = 1.0

_CN_DIGITS = dict(
    zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True)
)
_CN_MULTIPLIERS = {"十": 10, "百": 100, "千": 1000}
# Chinese numerals are converted only right before one of these, so names such as 经三路, 五一路
# or 二七区 keep their characters.
_MARKERS = "号|栋|幢|座|楼|单元|层|室|院|弄|巷|组"
_CN_NUMBER_RE = re.compile(f"[{''.join(_CN_DIGITS)}{''.join(_CN_MULTIPLIERS)}]+(?={_MARKERS})")
_ORDINAL_RE = re.compile(f"第(?=\\d+(?:{_MARKERS}))")
_LEADING_ZERO_RE = re.compile(r"(?<!\d)0+(?=\d)")
_STRAY_HYPHEN_RE = re.compile(r"(?<!\d)-+|-+(?!\d)")
_NEAR_RE = re.compile(
    r"(?:附近|旁边|旁|对面|对过|周边|周围|一带|门口|边上|[东西南北]侧|[东西南北]边|[东西南北大]门)+$"
)

# Administrative levels, outermost first; each is stripped at most once, in this order. The
# character classes stop at digits so a prefix never reaches into a door number.
_ADMIN_LEVELS = tuple(
    re.compile(pattern)
    for pattern in (
        r"[^\d号\-]{2,7}?(?:省|自治区|特别行政区)",
        r"[^\d号\-]{1,7}?(?:自治州|市)",
        # 小区, 社区, 园区, 校区, 景区, 厂区, 营区 name places, not districts.
        r"[^\d号\-]{1,8}?(?<![小社园校景厂营])(?:区|县|市|旗)",
        r"[^\d号\-]{2,8}?(?:街道|镇|乡)",
        r"[^\d号\-]{2,8}?社区",
    )
)
# If what follows a would-be prefix starts like this, the prefix was part of a name: 农贸市场,
# 东区路5号, 新区大道, 梦里水乡小区5号楼, 锦绣社区5号楼.
_NAME_TAIL_RE = re.compile(
    r"场|[\dA-Z]|(?:大道|大街|路|街|巷|胡同|小区|花园|家园|公寓|广场|大厦|苑|园|院|村|城)\d"
)

_REWRITES = (
    (re.compile(r"单元号"), "单元"),
    # 3栋, 3号栋, 3幢, A座 -> 3号楼, A号楼
    (re.compile(r"([0-9A-Z]+)号?[栋幢座]"), r"\1号楼"),
    # 3楼2单元: a 楼 followed by a unit is a building, not a floor
    (re.compile(r"(?<![\d\-])(\d+)楼(?=\d+单元)"), r"\1号楼"),
    # 45院 -> 45号院
    (re.compile(r"(\d+)院"), r"\1号院"),
    # 锦绣小区3-2-501: building-unit-room shorthand after a compound (not after a road, where
    # 123-1 is a door number)
    (re.compile(r"(?<![\d\-路街巷道弄同])(\d+)-(\d+)-(\d+)[室号]?$"), r"\1号楼\2单元\3室"),
    # 锦绣小区5号, 45号院3号: a bare number after a compound is a building; after a road, a unit,
    # a floor or a building it stays a door or room number.
    (re.compile(r"(?<![\d\-A-Z路街巷道弄同元层楼室])(\d+)号(?![楼院])"), r"\1号楼"),
)

_PARSE_RE = re.compile(
    r"(?:(?P<road>.+?(?:大道|大街|路|街|巷|胡同|弄))(?P<number>\d+(?:-\d+)*)号(?P<yard>院)?)?"
    r"(?P<compound>(?!楼)\D+?)?"
    r"(?:(?P<building>[0-9A-Z]+(?:-\d+)?)号楼)?"
    r"(?:(?P<unit>\d+)单元)?"
    r"(?:(?P<floor>\d+)[层楼])?"
    r"(?:(?P<room>\d+(?:-\d+)?)[室号户]?)?"
)
# A compound named without a road, building or unit must look like one.
_COMPOUND_NAME_RE = re.compile(
    r"(?:小区|花园|家园|公寓|大厦|广场|中心|公馆|社区|宿舍|[苑园院村庄城府邸居阁湾里坊])$"
)


@dataclass(frozen=True, slots=True)
class AddressParts:
    """The components of one door-plate address.

    Attributes
    ----------
    road
        Road name (``未来路``), when the address has a door number on a road.
    number
        Door number on ``road`` (``123``, ``123-1``).
    compound
        The residential compound or courtyard: its name (``锦绣小区``) or, for a numbered
        courtyard, its door plate (``红专路45号院``).
    building
        Building number or letter (``3``, ``A``), from ``3号楼``, ``3栋``, ``3幢``, ``A座``.
    unit
        Stairwell unit (``2`` from ``2单元``).
    floor
        Floor (``5`` from ``5层`` or ``5楼`` after the unit); not part of ``key``.
    room
        Room (``501`` from ``501室``); not part of ``key``.
    near
        The text ended in 附近, 旁, 对面 or similar: the place is near, not at, the address.
    place
        The addressed place without building and unit (``未来路123号``, ``红专路45号院``,
        ``锦绣小区``); ``None`` when the address could not be parsed.
    key
        The normalised key: place, building and unit in canonical form (``锦绣小区5号楼2单元``).
        For an address that could not be parsed, the cleaned text.
    """

    road: str | None
    number: str | None
    compound: str | None
    building: str | None
    unit: str | None
    floor: str | None
    room: str | None
    near: bool
    place: str | None
    key: str

    @property
    def parsed(self) -> bool:
        """Whether a road with a door number or a compound was recognised."""
        return self.place is not None


@dataclass(frozen=True, slots=True)
class AddressMatch:
    """The gazetteer entry an address matched.

    Attributes
    ----------
    key_id
        The entry's id (a building id).
    address
        The entry's address as given to the gazetteer.
    score
        0-100: 100 for the stored string, 99 for the same normalised key, less for a fuzzy match.
    method
        ``"exact"``, ``"normalized"`` or ``"fuzzy"``.
    """

    key_id: str
    address: str
    score: float
    method: MatchMethod


def _cn_to_int(numeral: str) -> int:
    """Value of a Chinese numeral: positional (五零一 = 501) or with 十/百/千 (二十三 = 23)."""
    if not any(ch in _CN_MULTIPLIERS for ch in numeral):
        return int("".join(str(_CN_DIGITS[ch]) for ch in numeral))
    total = digit = 0
    for ch in numeral:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            # A bare 十 is ten (十二 = 12).
            total += (digit or 1) * _CN_MULTIPLIERS[ch]
            digit = 0
    return total + digit


def _strip_admin(text: str) -> str:
    """Drop leading province, city, district, sub-district and community names."""
    for level in _ADMIN_LEVELS:
        found = level.match(text)
        if found is None:
            continue
        rest = text[found.end() :]
        if rest and not _NAME_TAIL_RE.match(rest):
            text = rest
    return text


def _clean(text: str) -> tuple[str, bool]:
    """Canonical text of an address and whether it said "near"; see :func:`parse_address`."""
    # NFKC turns full-width digits, letters and punctuation into ASCII (１２３ -> 123, ＃ -> #).
    folded = unicodedata.normalize("NFKC", text).upper().replace("#", "号")
    chars = []
    for ch in folded:
        category = unicodedata.category(ch)
        if category == "Pd":
            chars.append("-")
        elif category[0] not in "PSZC":
            chars.append(ch)
    cleaned = _STRAY_HYPHEN_RE.sub("", "".join(chars))
    cleaned = _CN_NUMBER_RE.sub(lambda found: str(_cn_to_int(found.group())), cleaned)
    cleaned = _ORDINAL_RE.sub("", cleaned)
    cleaned = _LEADING_ZERO_RE.sub("", cleaned)
    near_suffix = _NEAR_RE.search(cleaned)
    near = near_suffix is not None and near_suffix.start() > 0
    if near_suffix is not None and near:
        cleaned = cleaned[: near_suffix.start()]
    cleaned = _strip_admin(cleaned)
    for pattern, replacement in _REWRITES:
        cleaned = pattern.sub(replacement, cleaned)
    return cleaned, near


def _compose(place: str, building: str | None, unit: str | None) -> str:
    """Key of a place with an optional building and unit."""
    return place + (f"{building}号楼" if building else "") + (f"{unit}单元" if unit else "")


def parse_address(text: str) -> AddressParts:
    """Split a door-plate address into its components.

    The text is cleaned first: NFKC (full-width to half-width), upper case, whitespace and
    punctuation removed, Chinese numerals before 号/栋/幢/座/楼/单元/层/室/院/弄/巷/组 turned into
    Arabic ones (十二号楼 -> 12号楼), leading province/city/district/街道/镇/乡/社区 names dropped,
    附近/旁/对面-style suffixes dropped, 栋/幢/座 -> 号楼, 单元号 -> 单元, 45院 -> 45号院, a bare
    number after a compound read as a building (锦绣小区5号 -> 5号楼) and ``3-2-501`` after a
    compound read as building-unit-room.

    Parameters
    ----------
    text
        An address as stored or typed.

    Returns
    -------
    AddressParts
        The components; ``place`` is ``None`` (and ``key`` the cleaned text) when neither a road
        with a door number nor a compound could be recognised.

    Examples
    --------
    >>> parse_address("郑州市金水区未来路街道红专路45院3栋2单元501室").key
    '红专路45号院3号楼2单元'
    """
    cleaned, near = _clean(text)
    found = _PARSE_RE.fullmatch(cleaned)
    unparsed = AddressParts(None, None, None, None, None, None, None, near, None, cleaned)
    if found is None:
        return unparsed
    road, number, yard, named = found.group("road", "number", "yard", "compound")
    building, unit = found.group("building", "unit")
    if road is not None:
        place = f"{road}{number}号{'院' if yard else ''}{named or ''}"
        compound = named or (f"{road}{number}号院" if yard else None)
    elif named is not None and (building or unit or _COMPOUND_NAME_RE.search(named)):
        place = compound = named
    else:
        return unparsed
    return AddressParts(
        road=road,
        number=number,
        compound=compound,
        building=building,
        unit=unit,
        floor=found.group("floor"),
        room=found.group("room"),
        near=near,
        place=place,
        key=_compose(place, building, unit),
    )


def normalize_address(text: str) -> str:
    """Normalised key of an address: place, building and unit, without prefixes or room.

    Parameters
    ----------
    text
        An address as stored or typed.

    Returns
    -------
    str
        ``parse_address(text).key``; equal keys name the same building and unit.

    Examples
    --------
    >>> normalize_address("郑州市金水区 未来路１２３号 附近")
    '未来路123号'
    >>> normalize_address("锦绣小区十二栋三单元号501室")
    '锦绣小区12号楼3单元'
    """
    return parse_address(text).key


@dataclass(frozen=True, slots=True)
class _Entry:
    position: int
    key_id: str
    address: str
    parts: AddressParts


@dataclass(frozen=True, slots=True)
class _Outcome:
    match: AddressMatch | None
    reason: str


def _check_min_score(min_score: float) -> None:
    if not 0.0 <= min_score <= 100.0:
        msg = f"min_score must be between 0 and 100, got {min_score!r}"
        raise InputError(msg)


class AddressGazetteer:
    """Addresses of known buildings, matched against typed text.

    Matching tries, in order:

    1. ``exact``: the text equals a stored address (score 100);
    2. ``normalized``: the text's key (:func:`normalize_address`) equals a stored key (score 99);
    3. ``fuzzy``: candidates are the entries with the same road and door number, or in the same
       compound (found by name similarity when the text names a compound and no road). Candidates
       whose number, building or unit differ from one the text names are dropped, never scored.
       The rest are scored with ``rapidfuzz.fuzz.ratio`` between the keys, the text's building
       and unit left out where the candidate has none, and 5 points off for each such omission.

    A match needs ``score >= min_score`` and must be unique: when several entries fit the text
    equally (it names a courtyard but not which of its buildings, or two compounds score within one
    point), there is no match. Several entries may share a ``key_id`` (a building with two
    addresses); they count as one.

    Parameters
    ----------
    entries
        ``(key_id, address)`` pairs, e.g. building ids and their door-plate addresses.

    Raises
    ------
    InputError
        If an address is empty after normalisation.
    """

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        self._entries: list[_Entry] = []
        self._by_address: dict[str, list[_Entry]] = {}
        self._by_key: dict[str, list[_Entry]] = {}
        self._by_road_number: dict[tuple[str, str | None], list[int]] = {}
        self._by_compound: dict[str, list[int]] = {}
        self._roads: set[str] = set()
        for key_id, address in entries:
            parts = parse_address(address)
            if not parts.key:
                msg = f"address {address!r} of {key_id!r} is empty after normalisation"
                raise InputError(msg)
            entry = _Entry(len(self._entries), key_id, address, parts)
            self._entries.append(entry)
            self._by_address.setdefault(address, []).append(entry)
            self._by_key.setdefault(parts.key, []).append(entry)
            if parts.road is not None:
                self._roads.add(parts.road)
                self._by_road_number.setdefault((parts.road, parts.number), []).append(
                    entry.position
                )
            if parts.compound is not None:
                self._by_compound.setdefault(parts.compound, []).append(entry.position)
        self._compound_names = list(self._by_compound)

    def __len__(self) -> int:
        """Number of entries."""
        return len(self._entries)

    def match(self, text: str, *, min_score: float = 80.0) -> AddressMatch | None:
        """Best unique entry for ``text``, or ``None``.

        Parameters
        ----------
        text
            An address as typed.
        min_score
            Lowest acceptable score, 0-100.

        Returns
        -------
        AddressMatch or None
            ``None`` when nothing scores ``min_score`` or more, or several entries fit equally;
            :meth:`explain_no_match` says which.
        """
        _check_min_score(min_score)
        return self._resolve(text, min_score, {}).match

    def match_many(
        self, texts: Iterable[str], *, min_score: float = 80.0
    ) -> list[AddressMatch | None]:
        """:meth:`match` for many texts, each distinct normalised address resolved once.

        Parameters
        ----------
        texts
            Addresses as typed.
        min_score
            Lowest acceptable score, 0-100.

        Returns
        -------
        list of AddressMatch or None
            One result per text, in order.
        """
        _check_min_score(min_score)
        cache: dict[AddressParts, _Outcome] = {}
        return [self._resolve(text, min_score, cache).match for text in texts]

    def explain_no_match(self, text: str, *, min_score: float = 80.0) -> str:
        """Why ``text`` has no match (or what it matched), for people.

        Parameters
        ----------
        text
            An address as typed.
        min_score
            Lowest acceptable score, 0-100, as given to :meth:`match`.

        Returns
        -------
        str
            E.g. ``"no building on 未来路 with number 999"``, ``"ambiguous: 6 buildings at
            红专路45号院"``, ``"address could not be parsed (...)"``, or for a match
            ``"matched B1 (...) by normalized with score 99.0"``.
        """
        _check_min_score(min_score)
        return self._resolve(text, min_score, {}).reason

    def _resolve(
        self, text: str, min_score: float, cache: dict[AddressParts, _Outcome]
    ) -> _Outcome:
        stored = self._by_address.get(text)
        if stored is not None:
            return self._unique(stored, EXACT_SCORE, "exact", min_score, f"the address {text}")
        parts = parse_address(text)
        # Floor, room and "near" never change the outcome: resolve each remaining form once.
        signature = replace(parts, floor=None, room=None, near=False)
        outcome = cache.get(signature)
        if outcome is None:
            outcome = self._resolve_parts(parts, min_score)
            cache[signature] = outcome
        return outcome

    def _resolve_parts(self, parts: AddressParts, min_score: float) -> _Outcome:
        same_key = self._by_key.get(parts.key)
        if same_key is not None:
            return self._unique(same_key, NORMALIZED_SCORE, "normalized", min_score, parts.key)
        if parts.place is None:
            shown = f"normalised to {parts.key}" if parts.key else "nothing left once normalised"
            return _Outcome(None, f"address could not be parsed ({shown})")
        candidates, reason = self._candidates(parts)
        if not candidates:
            return _Outcome(None, reason)
        scored = sorted(
            ((self._score(parts, entry.parts), entry) for entry in candidates),
            key=lambda pair: (-pair[0], pair[1].position),
        )
        best_score, best = scored[0]
        rivals = [
            entry
            for score, entry in scored
            if score >= best_score - _TIE_MARGIN or _indistinguishable(entry.parts, best.parts)
        ]
        # Ambiguity is the more useful reason: "锦绣小区" fits each of its buildings, badly.
        if len({entry.key_id for entry in rivals}) > 1:
            return _Outcome(None, _ambiguity(parts, best, rivals))
        if best_score < min_score:
            return _Outcome(
                None,
                f"best candidate {best.address} ({best.key_id}) scored {best_score:.1f}, "
                f"below min_score {min_score:.1f}",
            )
        return _matched(best, round(best_score, 1), "fuzzy")

    def _unique(
        self,
        entries: Sequence[_Entry],
        score: float,
        method: MatchMethod,
        min_score: float,
        shown: str,
    ) -> _Outcome:
        key_ids = dict.fromkeys(entry.key_id for entry in entries)
        if len(key_ids) > 1:
            return _Outcome(None, f"ambiguous: {len(key_ids)} entries share {shown}")
        if score < min_score:
            return _Outcome(
                None, f"{method} match scored {score:.1f}, below min_score {min_score:.1f}"
            )
        return _matched(entries[0], score, method)

    def _candidates(self, parts: AddressParts) -> tuple[list[_Entry], str]:
        """Entries that may be the place ``parts`` names and agree with its numbers."""
        positions: set[int] = set()
        if parts.road is not None:
            positions.update(self._by_road_number.get((parts.road, parts.number), ()))
            if parts.compound is not None:
                positions.update(self._by_compound.get(parts.compound, ()))
            if parts.road in self._roads:
                reason = f"no building on {parts.road} with number {parts.number}"
            else:
                reason = f"no road {parts.road} in the gazetteer"
        else:
            # Only a compound named without a road is looked up fuzzily: road names are never
            # guessed (花园路 and 公园路 are different roads one character apart).
            names = [
                name
                for name, _score, _index in process.extract(
                    parts.compound or "",
                    self._compound_names,
                    scorer=fuzz.ratio,
                    score_cutoff=_COMPOUND_CUTOFF,
                    limit=None,
                )
            ]
            for name in names:
                positions.update(self._by_compound[name])
            reason = f"no compound like {parts.compound} in the gazetteer"
        candidates = [self._entries[position] for position in sorted(positions)]
        if not candidates:
            return [], reason
        for component in ("number", "building", "unit"):
            wanted = getattr(parts, component)
            if wanted is None:
                continue
            kept = [
                entry for entry in candidates if getattr(entry.parts, component) in (None, wanted)
            ]
            if not kept:
                return [], _missing(parts, component)
            candidates = kept
        return candidates, ""

    @staticmethod
    def _score(parts: AddressParts, candidate: AddressParts) -> float:
        """Fuzzy score of a candidate that agrees with every number ``parts`` names."""
        building = parts.building if candidate.building is not None else None
        unit = parts.unit if candidate.unit is not None else None
        coarser = (building != parts.building) + (unit != parts.unit)
        query = _compose(parts.place or "", building, unit)
        return max(fuzz.ratio(query, candidate.key) - coarser * _COARSER_PENALTY, 0.0)


def _matched(entry: _Entry, score: float, method: MatchMethod) -> _Outcome:
    match = AddressMatch(key_id=entry.key_id, address=entry.address, score=score, method=method)
    return _Outcome(
        match, f"matched {entry.key_id} ({entry.address}) by {method} with score {score:.1f}"
    )


def _indistinguishable(entry: AddressParts, best: AddressParts) -> bool:
    """Whether ``entry`` is at the best candidate's place with the same components named.

    Such entries differ from the best only where the input said nothing (which building, which
    unit), whatever their scores: ``红专路45号院`` fits its building 1 and building 12 alike.
    """
    return (
        entry.place == best.place
        and (entry.building is None) == (best.building is None)
        and (entry.unit is None) == (best.unit is None)
    )


def _ambiguity(parts: AddressParts, best: _Entry, rivals: Sequence[_Entry]) -> str:
    """Reason for a tie: what the input left open (``6 buildings at 红专路45号院``) or the keys."""
    if all(entry.parts.place == best.parts.place for entry in rivals):
        where = _compose(best.parts.place or "", parts.building, None)
        buildings = {entry.parts.building for entry in rivals}
        units = {(entry.parts.building, entry.parts.unit) for entry in rivals}
        if len(buildings) > 1:
            return f"ambiguous: {len(buildings)} buildings at {where}"
        if len(units) > 1:
            return f"ambiguous: {len(units)} units at {where}"
        return f"ambiguous: {len({entry.key_id for entry in rivals})} entries at {where}"
    keys = sorted({entry.parts.key for entry in rivals})
    return f"ambiguous: {len(rivals)} candidates ({', '.join(keys)})"


def _missing(parts: AddressParts, component: str) -> str:
    if component == "number":
        return f"no building on {parts.road} with number {parts.number}"
    if component == "building":
        return f"no building {parts.building} at {parts.place}"
    return f"no unit {parts.unit} at {_compose(parts.place or '', parts.building, None)}"
