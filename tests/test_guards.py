"""Per-class guardrails: parsing and checking ``--guard``, the guarded sensitivity plan on a hand-made
analysis, and the loop's recovery rule. Torch-free and fast."""
import argparse

import pytest

from pruneseg.cli import build_parser
from pruneseg.cli_args import from_args, parse_guard, to_argv
from pruneseg.config import PruneConfig, VerifyConfig
from pruneseg.data.classes import CLASS_NAMES
from pruneseg.prune.guards import GUARD_SCALE, check_guards, guard_misses, guarded_costs
from pruneseg.prune.plans import make_plan, sensitivity_plan
from pruneseg.workspace import layout

RATIOS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
BIKE = CLASS_NAMES.index("bike")


class FlatMacs:
    """A MACs model where every group holds an equal share of the MACs, in proportion to its width."""

    def __init__(self, groups, channels=64):
        self.channels = {name: channels for name in groups}

    def reduction(self, widths):
        return 1 - sum(widths.get(n, c) / c for n, c in self.channels.items()) / len(self.channels)


def hand_made_analysis(groups=("a", "b", "c", "bikey"), bike_fragile="bikey", per_class=True):
    """Every group costs the same mIoU when pruned alone (0.02 per unit of ratio); ``bike_fragile``
    alone also costs bike IoU (0.3 per unit of ratio), the mIoU cost staying the same."""
    base_iou = [0.9, 0.8, 0.9, 0.5, 0.8, 0.6]
    cells = {}
    for name in groups:
        cells[name] = {}
        for ratio in RATIOS:
            iou = list(base_iou)
            if name == bike_fragile:
                iou[BIKE] -= 0.3 * ratio
            cell = {"miou": 0.75 - 0.02 * ratio, "collapsed": False}
            if per_class:
                cell["iou"] = iou
            cells[name][str(ratio)] = cell
    return {"settings": {"round_to": 8, "ratios": RATIOS}, "baseline": {"miou": 0.75, "iou": base_iou},
            "groups": [{"name": n, "channels": 64, "modules": [n], "macs_share": 0.25} for n in groups],
            "cells": cells, "curves": {}}


def test_a_guard_parses_and_bad_ones_are_named():
    assert parse_guard("person=0.02") == ("person", 0.02)
    assert parse_guard(" bike = 0.1") == ("bike", 0.1)
    for text, message in (("person", "CLASS=LIMIT"), ("=0.1", "CLASS=LIMIT"), ("bike=x", "CLASS=LIMIT"),
                          ("bike=1.5", "must lie in 0..1"), ("bike=-0.1", "must lie in 0..1")):
        with pytest.raises(ValueError, match=message):
            parse_guard(text)
    with pytest.raises(ValueError, match="unknown class 'bikes'; classes: other, static"):
        check_guards({"bikes": 0.1}, hand_made_analysis())
    with pytest.raises(ValueError, match="the limit is an IoU drop and must lie in 0..1"):
        check_guards({"bike": 1.5}, hand_made_analysis())
    check_guards({"bike": 0.0, "person": 1.0}, hand_made_analysis())


@pytest.mark.parametrize("config_class", [PruneConfig, VerifyConfig])
def test_guards_round_trip_through_the_command_line(config_class):
    config = config_class(analysis="a.json", data="d", guards={"person": 0.02, "bike": 0.03})
    argv = to_argv(config)
    assert argv[argv.index("--guard") + 1] == "person=0.02" and argv.count("--guard") == 2
    assert from_args(config_class, build_parser().parse_args(argv)) == config
    assert from_args(config_class, build_parser().parse_args(to_argv(config_class(analysis="a")))).guards == {}


def test_a_bad_guard_on_the_command_line_is_one_message(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["verify", "--analysis", "a", "--data", "d", "--target", "0.3", "--guard", "bike=2"])
    assert "argument --guard: guard 'bike=2': the limit is an IoU drop and must lie in 0..1" in capsys.readouterr().err


def test_without_guards_the_costs_are_the_mIoU_drops():
    analysis = hand_made_analysis()
    costs = guarded_costs(analysis, {})
    assert costs["bikey"][0.5] == pytest.approx(0.01)
    guarded = guarded_costs(analysis, {"bike": 0.03})
    # bikey loses 0.15 bike IoU at ratio 0.5: five times its limit, so it costs as much as 5 x 0.02 mIoU
    assert guarded["bikey"][0.5] == pytest.approx(0.15 * GUARD_SCALE / 0.03)
    assert guarded["a"][0.5] == pytest.approx(0.01)  # a group that spares bike costs what it did


def test_a_group_fragile_only_for_bike_is_pruned_less_with_a_bike_guard():
    analysis = hand_made_analysis()
    macs = FlatMacs(["a", "b", "c", "bikey"])
    free = sensitivity_plan(analysis, macs, 0.4)
    guarded = sensitivity_plan(analysis, macs, 0.4, {"bike": 0.03})
    assert free == make_plan("sensitivity", analysis, macs, 0.4, {})
    assert len(set(free.values())) == 1  # alike without the guard: every group costs the same mIoU
    assert guarded["bikey"] > free["bikey"]  # spared ...
    assert all(guarded[n] <= free[n] for n in "abc") and any(guarded[n] < free[n] for n in "abc")  # ... others pay
    assert macs.reduction(guarded) >= 0.4 and macs.reduction(free) >= 0.4  # the MACs target holds either way
    # a guard on a class no group hurts changes nothing
    assert sensitivity_plan(analysis, macs, 0.4, {"person": 0.02}) == free
    # the uniform plan has no per-group choice
    assert make_plan("uniform", analysis, macs, 0.4, {"bike": 0.03}) == make_plan("uniform", analysis, macs, 0.4)


def test_a_tighter_guard_spares_the_fragile_group_more():
    analysis = hand_made_analysis()
    macs = FlatMacs(["a", "b", "c", "bikey"])
    kept = [sensitivity_plan(analysis, macs, 0.3, {"bike": limit})["bikey"] for limit in (0.2, 0.05, 0.01)]
    assert kept == sorted(kept) and kept[0] < kept[-1]


def test_guards_need_an_analysis_with_per_class_iou_and_known_classes():
    macs = FlatMacs(["a", "b", "c", "bikey"])
    with pytest.raises(ValueError, match="no per-class IoU"):
        sensitivity_plan(hand_made_analysis(per_class=False), macs, 0.3, {"bike": 0.03})
    assert sensitivity_plan(hand_made_analysis(per_class=False), macs, 0.3)  # fine without guards
    check_guards({"bike": 0.03}, hand_made_analysis(per_class=False), "uniform")  # a plan that ignores guards
    with pytest.raises(ValueError, match="unknown class 'cyclist'"):
        sensitivity_plan(hand_made_analysis(), macs, 0.3, {"cyclist": 0.03})


def test_an_iteration_recovers_only_within_every_guard():
    dense = [0.9, 0.8, 0.9, 0.5, 0.8, 0.6]
    now = [0.9, 0.8, 0.9, 0.47, 0.8, 0.55]
    assert guard_misses(now, dense, {}, CLASS_NAMES) == []
    assert guard_misses(now, dense, {"person": 0.03, "bike": 0.05}, CLASS_NAMES) == []  # exactly at the limits
    assert guard_misses(now, dense, {"person": 0.02, "bike": 0.03}, CLASS_NAMES) == ["person", "bike"]
    assert guard_misses([None] * 6, dense, {"person": 0.0}, CLASS_NAMES) == []  # unknown: not measurable, not a miss


def test_verified_points_are_named_by_their_guards():
    plain = layout.verify_path("/ws/analyses/a.json", "sensitivity", 0.3)
    guarded = layout.verify_path("/ws/analyses/a.json", "sensitivity", 0.3, {"person": 0.02, "bike": 0.03})
    assert plain.name == "a.verify-sensitivity-0.30.json"
    assert guarded.name == "a.verify-sensitivity-0.30-guard-bike0.03-person0.02.json"
    assert layout.is_verify_file(guarded)


def test_the_argparse_type_reports_the_message():
    from pruneseg.cli_args import _guard_argument

    with pytest.raises(argparse.ArgumentTypeError, match="CLASS=LIMIT"):
        _guard_argument("bike")
