"""The plan registry's torch-free maths on hand-made analyses: the latency plan's knapsack."""
import pytest

from pruneseg.choices import TARGET_KINDS
from pruneseg.prune.plans import PLANS, latency_plan, make_plan


class Channels:
    """A stand-in for ``MacsModel``: the latency plan only reads the groups' channels."""

    def __init__(self, channels):
        self.channels = channels


def analysis_with(latency, drops, dense_ms=100.0):
    """An analysis with a latency table ``{group: {ratio: ms saved}}`` and drops ``{group: {ratio: drop}}``."""
    return {"settings": {"round_to": 8}, "baseline": {"miou": 0.8, "runtime": {"fp32": {"dense_ms": dense_ms}}},
            "latency": {g: {str(r): {"saved_ms": ms} for r, ms in table.items()} for g, table in latency.items()},
            "cells": {g: {str(r): {"miou": 0.8 - d} for r, d in table.items()} for g, table in drops.items()}}


LATENCY = {"cheap": {0.25: 10.0, 0.5: 20.0, 0.75: 30.0}, "costly": {0.25: 10.0, 0.5: 20.0, 0.75: 30.0}}
DROPS = {"cheap": {0.25: 0.001, 0.5: 0.002, 0.75: 0.004}, "costly": {0.25: 0.05, 0.5: 0.2, 0.75: 0.4}}
CHANNELS = Channels({"cheap": 64, "costly": 64})


def test_every_plan_says_what_its_target_is():
    assert set(TARGET_KINDS) == set(PLANS) and set(TARGET_KINDS.values()) == {"macs", "speedup"}
    with pytest.raises(ValueError, match="choose one of: sensitivity, uniform, latency"):
        make_plan("greedy", {}, CHANNELS, 0.5)


def test_the_latency_plan_prunes_where_time_is_cheapest_in_mIoU():
    plan = latency_plan(analysis_with(LATENCY, DROPS), CHANNELS, 1.25)  # 20 ms of 100 to save
    assert plan == {"cheap": 32, "costly": 64}
    plan = latency_plan(analysis_with(LATENCY, DROPS), CHANNELS, 1.5)  # 33 ms: cheap is not enough alone
    assert plan["cheap"] == 16 and plan["costly"] < 64


def test_an_unreachable_latency_target_prunes_as_far_as_the_table_goes():
    plan = latency_plan(analysis_with(LATENCY, DROPS), CHANNELS, 10.0)
    assert plan == {"cheap": 16, "costly": 16}
    assert all(width % 8 == 0 for width in plan.values())


def test_a_group_whose_pruning_saves_nothing_is_left_alone():
    latency = dict(LATENCY, costly={0.25: -1.0, 0.5: 0.0, 0.75: 0.0})  # noise, no real saving
    plan = latency_plan(analysis_with(latency, DROPS), CHANNELS, 10.0)
    assert plan["costly"] == 64
