"""Door-plate normalisation and matching, on a hand-made gazetteer with known answers.

The gazetteer is built to break things: two roads with the same door numbers, a courtyard with
six buildings, a courtyard with one, a compound with several buildings and units, a building
letter, and a compound whose name is one character from a typo.
"""

from __future__ import annotations

import pytest

from geo.address import (
    AddressGazetteer,
    AddressMatch,
    normalize_address,
    parse_address,
)
from geo.errors import InputError

PREFIX = "郑州市金水区未来路街道"

ADDRESSES = {
    "WL123": "未来路123号",
    "WL125": "未来路125号",
    "WL23": "未来路23号",
    "WL88": "未来路88号",
    "HZ123": "红专路123号",
    "HZ125": "红专路125号",
    **{f"HZ45-{b}": f"红专路45号院{b}号楼" for b in range(1, 7)},
    "HZ60-1": "红专路60号院1号楼",
    "JX5-1": "锦绣小区5号楼1单元",
    "JX5-2": "锦绣小区5号楼2单元",
    "JX12-1": "锦绣小区12号楼1单元",
    "JX12-2": "锦绣小区12号楼2单元",
    "JX23-1": "锦绣小区23号楼1单元",
    "JXA-1": "锦绣小区A座1单元",
    "JHY3": "锦华苑3号楼",
}


@pytest.fixture(scope="module")
def gazetteer() -> AddressGazetteer:
    """The demo-style gazetteer, every address with the full administrative prefix."""
    return AddressGazetteer((key_id, PREFIX + address) for key_id, address in ADDRESSES.items())


def test_gazetteer_size(gazetteer: AddressGazetteer) -> None:
    assert len(gazetteer) == 20


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("郑州市金水区未来路街道未来路123号", "未来路123号"),
        ("河南省郑州市金水区未来路街道红专路45号院3号楼", "红专路45号院3号楼"),
        ("未来路１２３号", "未来路123号"),
        ("ｗｅｉ未来路 123 号。", "WEI未来路123号"),
        ("未来路二十三号", "未来路23号"),
        ("锦绣小区十二号楼三单元", "锦绣小区12号楼3单元"),
        ("锦绣小区第三栋一单元号", "锦绣小区3号楼1单元"),
        ("锦绣小区5幢2单元501室", "锦绣小区5号楼2单元"),
        ("锦绣小区5座2单元5楼501", "锦绣小区5号楼2单元"),
        ("锦绣小区5号2单元", "锦绣小区5号楼2单元"),
        ("锦绣小区3楼2单元", "锦绣小区3号楼2单元"),
        ("锦绣小区5-2-501", "锦绣小区5号楼2单元"),
        ("锦绣小区05#楼", "锦绣小区5号楼"),
        ("锦绣小区b栋", "锦绣小区B号楼"),
        ("红专路45院3栋", "红专路45号院3号楼"),
        ("未来路123号附近", "未来路123号"),
        ("未来路123号对面", "未来路123号"),
        ("未来路123-1号", "未来路123-1号"),
        ("郑州市金水区花园路12号", "花园路12号"),
        # names that only look like administrative prefixes or numerals stay whole
        ("经三路十五号", "经三路15号"),
        ("东区路5号", "东区路5号"),
        ("城市花园5号楼", "城市花园5号楼"),
        ("金水区锦绣社区5号楼", "锦绣社区5号楼"),
        ("未来路街道金城社区未来路123号", "未来路123号"),
    ],
)
def test_normalize_address(text: str, key: str) -> None:
    assert normalize_address(text) == key


def test_parse_address_components() -> None:
    parts = parse_address("郑州市金水区红专路４５院三栋二单元五层501室旁边")
    assert (parts.road, parts.number, parts.compound) == ("红专路", "45", "红专路45号院")
    assert (parts.building, parts.unit, parts.floor, parts.room) == ("3", "2", "5", "501")
    assert parts.near
    assert parts.place == "红专路45号院"
    assert parts.key == "红专路45号院3号楼2单元"

    compound = parse_address("锦绣小区A座1单元")
    assert (compound.road, compound.number, compound.compound) == (None, None, "锦绣小区")
    assert (compound.building, compound.unit, compound.near) == ("A", "1", False)


@pytest.mark.parametrize("text", ["", "？？？", "asdfgh", "随便写的", "3号楼2单元"])
def test_parse_address_unparsed(text: str) -> None:
    parts = parse_address(text)
    assert not parts.parsed
    assert parts.road is None
    assert parts.compound is None


def test_exact_match(gazetteer: AddressGazetteer) -> None:
    assert gazetteer.match(PREFIX + "红专路123号") == AddressMatch(
        key_id="HZ123", address=PREFIX + "红专路123号", score=100.0, method="exact"
    )


@pytest.mark.parametrize(
    ("text", "key_id"),
    [
        ("未来路123号", "WL123"),  # missing prefix
        ("未来路１２３号", "WL123"),  # full-width digits
        ("未来路 123 号", "WL123"),  # spaces
        ("金水区，未来路123号。", "WL123"),  # punctuation, partial prefix
        ("未来路123号附近", "WL123"),  # near
        ("未来路二十三号", "WL23"),  # Chinese numerals
        ("未来路125号", "WL125"),  # same number as 红专路125号
        ("红专路125号", "HZ125"),
        ("锦绣小区十二号楼二单元", "JX12-2"),
        ("锦绣小区二十三号楼一单元", "JX23-1"),
        ("锦绣小区5栋2单元", "JX5-2"),
        ("锦绣小区5幢2单元", "JX5-2"),
        ("锦绣小区5座2单元", "JX5-2"),
        ("锦绣小区5号楼2单元号", "JX5-2"),
        ("锦绣小区A栋1单元", "JXA-1"),
        ("锦绣小区5号楼2单元501室", "JX5-2"),  # room
        ("锦绣小区5-2-501", "JX5-2"),
        ("红专路45号院3号楼", "HZ45-3"),
        ("红专路45院3栋", "HZ45-3"),
        ("红专路四十五号院三号楼", "HZ45-3"),
        ("锦华苑3栋", "JHY3"),
    ],
)
def test_normalized_match(gazetteer: AddressGazetteer, text: str, key_id: str) -> None:
    match = gazetteer.match(text)
    assert match is not None
    assert (match.key_id, match.method, match.score) == (key_id, "normalized", 99.0)
    assert match.address == PREFIX + ADDRESSES[key_id]


@pytest.mark.parametrize(
    ("text", "key_id", "score"),
    [
        # one wrong character in the compound name: ratio of the 10-character keys
        ("锦秀小区5号楼2单元", "JX5-2", 90.0),
        # more precise than the gazetteer: the building, 5 off for the unit it does not list
        ("锦华苑3号楼2单元501室", "JHY3", 95.0),
        # a courtyard with a single building
        ("红专路60号院", "HZ60-1", 82.4),
        ("红专路45号3号楼", "HZ45-3", 94.7),
    ],
)
def test_fuzzy_match(gazetteer: AddressGazetteer, text: str, key_id: str, score: float) -> None:
    match = gazetteer.match(text)
    assert match is not None
    assert (match.key_id, match.method, match.score) == (key_id, "fuzzy", score)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # 未来路 has a 23, 红专路 does not: never cross roads
        ("红专路23号", "no building on 红专路 with number 23"),
        ("未来路999号", "no building on 未来路 with number 999"),
        ("未来路124号", "no building on 未来路 with number 124"),
        ("花园路123号", "no road 花园路 in the gazetteer"),
        ("红专路45号院9号楼", "no building 9 at 红专路45号院"),
        ("锦绣小区5号楼3单元", "no unit 3 at 锦绣小区5号楼"),
        ("锦秀小区7号楼1单元", "no building 7 at 锦秀小区"),
        ("幸福小区5号楼", "no compound like 幸福小区 in the gazetteer"),
        ("红专路45号院", "ambiguous: 6 buildings at 红专路45号院"),
        ("锦绣小区5号楼", "ambiguous: 2 units at 锦绣小区5号楼"),
        ("锦绣小区", "ambiguous: 4 buildings at 锦绣小区"),
        ("asdfgh", "address could not be parsed (normalised to ASDFGH)"),
        ("？？？", "address could not be parsed (nothing left once normalised)"),
        ("", "address could not be parsed (nothing left once normalised)"),
        ("3号楼2单元", "address could not be parsed (normalised to 3号楼2单元)"),
    ],
)
def test_no_match(gazetteer: AddressGazetteer, text: str, reason: str) -> None:
    assert gazetteer.match(text) is None
    assert gazetteer.explain_no_match(text) == reason


def test_min_score(gazetteer: AddressGazetteer) -> None:
    assert gazetteer.match("锦秀小区5号楼2单元", min_score=95.0) is None
    assert gazetteer.explain_no_match("锦秀小区5号楼2单元", min_score=95.0) == (
        f"best candidate {PREFIX}锦绣小区5号楼2单元 (JX5-2) scored 90.0, below min_score 95.0"
    )
    assert gazetteer.match("未来路123号", min_score=100.0) is None
    assert gazetteer.explain_no_match("未来路123号", min_score=100.0) == (
        "normalized match scored 99.0, below min_score 100.0"
    )
    with pytest.raises(InputError, match="got 101"):
        gazetteer.match("未来路123号", min_score=101)


def test_explain_a_match(gazetteer: AddressGazetteer) -> None:
    assert gazetteer.explain_no_match("未来路１２３号") == (
        f"matched WL123 ({PREFIX}未来路123号) by normalized with score 99.0"
    )


def test_similar_compounds_are_ambiguous() -> None:
    gazetteer = AddressGazetteer([("A", "锦绣小区5号楼"), ("B", "锦秀小苑5号楼")])
    assert gazetteer.match("锦秀小区5号楼") is None
    assert gazetteer.explain_no_match("锦秀小区5号楼") == (
        "ambiguous: 2 candidates (锦秀小苑5号楼, 锦绣小区5号楼)"
    )
    assert gazetteer.match("锦绣小区5号楼") == AddressMatch("A", "锦绣小区5号楼", 100.0, "exact")


def test_duplicate_addresses_and_aliases() -> None:
    gazetteer = AddressGazetteer(
        [
            ("B1", "未来路123号"),
            ("B2", "未来路 123号"),
            ("B3", "红专路9号"),
            ("B3", "红专路9号院1号楼"),
            ("B4", "红专路10号"),
            ("B5", "红专路10号"),
        ]
    )
    # the stored string itself wins, though another building normalises the same
    assert gazetteer.match("未来路123号") == AddressMatch("B1", "未来路123号", 100.0, "exact")
    assert gazetteer.match("未来路１２３号") is None
    assert gazetteer.explain_no_match("未来路１２３号") == "ambiguous: 2 entries share 未来路123号"
    assert gazetteer.match("红专路10号") is None
    assert gazetteer.explain_no_match("红专路10号") == (
        "ambiguous: 2 entries share the address 红专路10号"
    )
    # one building listed under two addresses is one candidate, not two
    match = gazetteer.match("红专路9号院")
    assert match is not None
    assert (match.key_id, match.method) == ("B3", "fuzzy")


def test_empty_gazetteer_address_is_rejected() -> None:
    with pytest.raises(InputError, match="'B9'"):
        AddressGazetteer([("B9", " 。")])


def _chinese(number: int) -> str:
    """Chinese numeral for 1-999, as people write it (十二, 二十三, 一百零五)."""
    digits = "零一二三四五六七八九"
    hundreds, rest = divmod(number, 100)
    tens, ones = divmod(rest, 10)
    text = f"{digits[hundreds]}百" if hundreds else ""
    if tens:
        text += ("" if tens == 1 and not hundreds else digits[tens]) + "十"
    elif hundreds and ones:
        text += "零"
    return text + (digits[ones] if ones else "")


@pytest.mark.parametrize(("number", "text"), [(12, "十二"), (23, "二十三"), (105, "一百零五")])
def test_chinese_helper(number: int, text: str) -> None:
    assert _chinese(number) == text
    assert normalize_address(f"未来路{text}号") == f"未来路{number}号"


def test_match_many_thousands() -> None:
    roads = ["未来路", "红专路", "农业路"]
    compounds = ["锦绣小区", "幸福家园", "金水花园", "建业森林半岛"]
    entries = [(f"{road}-{n}", f"{PREFIX}{road}{n}号") for road in roads for n in range(1, 401)]
    entries += [
        (f"{name}-{b}-{u}", f"{PREFIX}{name}{b}号楼{u}单元")
        for name in compounds
        for b in range(1, 31)
        for u in range(1, 4)
    ]
    gazetteer = AddressGazetteer(entries)
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")

    texts: list[str] = []
    expected: list[str | None] = []
    for i in range(5000):
        style = i % 5
        if style < 3:
            road, n = roads[i % 3], i % 400 + 1
            texts.append(
                [
                    f"{road}{n}号",
                    f"{road} {n} 号".translate(full_width),
                    f"{road}{_chinese(n)}号附近",
                ][style]
            )
            expected.append(f"{road}-{n}")
        elif style == 3:
            name, b, u = compounds[i % 4], i % 30 + 1, i % 3 + 1
            texts.append(f"金水区{name}{_chinese(b)}栋{u}单元{u}0{b % 9 + 1}室")
            expected.append(f"{name}-{b}-{u}")
        else:
            # a road number the gazetteer lacks
            texts.append(f"{roads[i % 3]}{400 + i}号")
            expected.append(None)

    results = gazetteer.match_many(texts)
    assert [r.key_id if r is not None else None for r in results] == expected
    assert {r.method for r in results if r is not None} == {"normalized"}
