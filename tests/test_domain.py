"""The domain without a database: transitions, codes, routing, masking."""
import pytest

from credential_track.domain.codes import (
    CodeKind,
    RangeExhausted,
    S10Range,
    classify,
    is_domestic_waybill,
    is_valid_s10,
    make_s10,
    s10_check_digit,
)
from credential_track.domain.masking import mask_name, mask_phone
from credential_track.domain.regions import PROVINCES, normalize_province, route_for
from credential_track.domain.status import (
    CHAIN,
    TRANSITIONS,
    Reason,
    Status,
    TransitionRefused,
    check_flags,
    next_status,
)

S = Status
# The allowed (action, from) → to pairs, written out as the specification.
ALLOWED = {
    ("handover", S.registered): S.received,
    ("capture", S.received): S.captured,
    ("accept", S.captured): S.accepted,
    ("bag", S.accepted): S.bagged,
    ("unbag", S.bagged): S.accepted,
    ("seal", S.bagged): S.dispatched,
    ("depart", S.dispatched): S.in_transit,
    ("arrive", S.in_transit): S.arrived,
    ("pull", S.registered): S.withdrawn,
    ("pull", S.received): S.withdrawn,
    ("pull", S.captured): S.withdrawn,
    ("pull", S.accepted): S.withdrawn,
    ("pull", S.bagged): S.withdrawn,
    ("out_for_delivery", S.arrived): S.out_for_delivery,
    ("out_for_delivery", S.in_transit): S.out_for_delivery,
    ("out_for_delivery", S.delivery_failed): S.out_for_delivery,
    ("out_for_delivery", S.out_for_delivery): S.out_for_delivery,
    ("delivered", S.arrived): S.delivered,
    ("delivered", S.in_transit): S.delivered,
    ("delivered", S.out_for_delivery): S.delivered,
    ("delivered", S.delivery_failed): S.delivered,
    ("delivery_failed", S.arrived): S.delivery_failed,
    ("delivery_failed", S.in_transit): S.delivery_failed,
    ("delivery_failed", S.out_for_delivery): S.delivery_failed,
    ("returned", S.arrived): S.returned,
    ("returned", S.in_transit): S.returned,
    ("returned", S.out_for_delivery): S.returned,
    ("returned", S.delivery_failed): S.returned,
}
PAIRS = [(a, s) for a in TRANSITIONS for s in Status]


def test_table_covers_exactly_the_specified_pairs():
    table = {(a, s): t.target for a, t in TRANSITIONS.items() for s in t.sources}
    assert table == ALLOWED


@pytest.mark.parametrize(("action", "status"), PAIRS, ids=[f"{a}-{s}" for a, s in PAIRS])
def test_every_pair_is_allowed_or_refused_with_a_reason(action, status):
    if (action, status) in ALLOWED:
        assert next_status(action, status) == ALLOWED[(action, status)]
        return
    with pytest.raises(TransitionRefused) as refused:
        next_status(action, status)
    assert refused.value.reason in (Reason.already_done, Reason.wrong_stage)


@pytest.mark.parametrize(("action", "status", "reason"), [
    ("handover", S.received, Reason.already_done),
    ("handover", S.delivered, Reason.already_done),
    ("capture", S.registered, Reason.wrong_stage),
    ("capture", S.accepted, Reason.already_done),
    ("accept", S.received, Reason.wrong_stage),
    ("accept", S.accepted, Reason.already_done),
    ("bag", S.bagged, Reason.already_done),
    ("bag", S.captured, Reason.wrong_stage),
    ("unbag", S.accepted, Reason.already_done),
    ("unbag", S.dispatched, Reason.wrong_stage),
    ("arrive", S.arrived, Reason.already_done),
    ("arrive", S.dispatched, Reason.wrong_stage),
    ("pull", S.withdrawn, Reason.already_done),
    ("pull", S.dispatched, Reason.wrong_stage),
    ("handover", S.withdrawn, Reason.wrong_stage),
])
def test_repeat_is_already_done_and_out_of_order_is_wrong_stage(action, status, reason):
    with pytest.raises(TransitionRefused) as refused:
        next_status(action, status)
    assert refused.value.reason == reason


def test_chain_order_matches_design():
    assert [s.value for s in CHAIN[:8]] == [
        "registered", "received", "captured", "accepted", "bagged", "dispatched", "in_transit", "arrived"]


def test_revoked_and_held_items_are_refused_but_pull_takes_revoked():
    with pytest.raises(TransitionRefused) as r:
        check_flags("accept", revoked=True, hold=False)
    assert r.value.reason == Reason.revoked
    with pytest.raises(TransitionRefused) as r:
        check_flags("accept", revoked=False, hold=True)
    assert r.value.reason == Reason.on_hold
    check_flags("pull", revoked=True, hold=True)
    with pytest.raises(TransitionRefused):
        check_flags("pull", revoked=False, hold=False)


def test_s10_published_examples():
    assert is_valid_s10("EE471108151FR")
    assert not is_valid_s10("RB123456786US")
    assert is_valid_s10("RB123456785US")
    assert s10_check_digit("47110815") == 1


@pytest.mark.parametrize(("serial", "digit"), [
    ("00000000", 5),  # sum 0 → 11 → 5
    ("12345678", 5),
    ("47110815", 1),
])
def test_s10_check_digit_rules(serial, digit):
    assert s10_check_digit(serial) == digit


def test_s10_check_digit_ten_becomes_zero():
    # find a serial whose raw check value is 10 and confirm it maps to 0
    for n in range(1000):
        serial = f"{n:08d}"
        total = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7)))
        if 11 - total % 11 == 10:
            assert s10_check_digit(serial) == 0
            return
    pytest.fail("no serial with check value 10 in range")


def test_make_s10_round_trips():
    code = make_s10("EE", 12345678)
    assert code.startswith("EE12345678") and code.endswith("CN")
    assert is_valid_s10(code)


def test_range_allocation_is_sequential_and_ends():
    rng = S10Range(prefix="EE", first=10, last=11, next=10)
    assert rng.allocate() == make_s10("EE", 10)
    assert rng.allocate() == make_s10("EE", 11)
    with pytest.raises(RangeExhausted):
        rng.allocate()


@pytest.mark.parametrize(("raw", "kind"), [
    ("EE471108151FR", CodeKind.waybill),
    (" ee471108151fr ", CodeKind.waybill),
    ("EE471108152FR", CodeKind.invalid_waybill),
    ("1100000000015", CodeKind.waybill),
    ("BAG-000012", CodeKind.bag),
    ("TRIP-000003", CodeKind.trip),
    ("SEAL-00001234", CodeKind.seal),
    ("CIIE2600000001", CodeKind.credential),
    ("110000000001", CodeKind.credential),
])
def test_classify(raw, kind):
    assert classify(raw).kind == kind


def test_domestic_waybill_is_13_digits():
    assert is_domestic_waybill("1100000000015")
    assert not is_domestic_waybill("110000000001")


def test_all_34_provinces_route():
    assert len(PROVINCES) == 34
    for p in PROVINCES:
        district = "黄浦区" if p.route == "SH" else None  # Shanghai routes by district
        assert route_for(p.name, district), p.name
        assert route_for(p.short, district) == route_for(p.name, district)


@pytest.mark.parametrize(("text", "full"), [("上海", "上海市"), ("广西", "广西壮族自治区"),
                                            ("内蒙古", "内蒙古自治区"), ("Beijing", "北京市"), ("火星", None)])
def test_province_short_forms(text, full):
    assert normalize_province(text) == full


def test_shanghai_is_split_by_district():
    assert route_for("上海市", "浦东新区") == "SH-E"
    assert route_for("上海", "青浦") == "SH-W"
    assert route_for("上海市", "黄浦区") == "SH-C"
    # no default route: a Shanghai item without a known district has none
    assert route_for("上海市", "") is None
    assert route_for("上海市", "张江镇") is None
    assert route_for("江苏省", "浦东新区") == "JS"


def test_masking():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张伟") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
