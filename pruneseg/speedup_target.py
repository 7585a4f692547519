"""A plan pruned to a speed-up asked, measured: the closed loop of ``verify`` and the pruning loop.

``pruneseg.prune.speedup_search`` searches the plan's knob on measured speed-ups; this module
gives it the plan and the runtime: each probe prunes a copy of the base model to the plan's
widths at the knob (the dense model, or the pruning loop's last snapshot) and times it against
the dense model with ``deploy.latency.RuntimeLatency`` (the target runner's session and threads,
paired rounds, fp32, or int8 against dense fp32). The knob is the share of MACs removed for the
sensitivity and uniform plans, the latency table's speed-up for the latency plan; the first
guess comes from the predictor that predicted the analysis's curve points best
(``pruneseg.prune.predictors``). Only the speed-up is measured here: BatchNorm statistics do not
change the time, so a probe is not recalibrated; the caller recalibrates and scores the chosen one.
"""
import copy

from pruneseg.deploy.latency import RuntimeLatency
from pruneseg.errors import PruneSegError
from pruneseg.prune.groups import prune_to_widths
from pruneseg.choices import TARGET_KINDS
from pruneseg.prune.plans import make_plan, rounded_width
from pruneseg.prune.predictors import best_predictor, build_predictor, predictor_errors
from pruneseg.prune.speedup_search import check_speedup, search_speedup
from pruneseg.records.analysis import settings_of
from pruneseg.target.machine import machine_profile


class PlanKnob:
    """Plan ``kind`` of ``analysis`` as a function of its knob: widths, MACs removed, predicted speed-up."""

    def __init__(self, kind, analysis, macs_model, guards=None, precision="fp32"):
        self.kind, self.analysis, self.macs_model, self.guards = kind, analysis, macs_model, guards or {}
        self.predictor = best_predictor(predictor_errors(analysis, precision))
        self._predict, _ = build_predictor(analysis, self.predictor, precision)
        self._plans = {}
        if TARGET_KINDS[kind] == "macs":
            self.low = 0.0
            settings = settings_of(analysis)
            top = max(map(float, settings.ratios))
            self.high = macs_model.reduction({name: rounded_width(channels, top, settings.round_to)
                                              for name, channels in macs_model.channels.items()})
        else:  # the latency plan: its largest plan is the one the table predicts fastest
            self.low = 1.0
            table, _ = build_predictor(analysis, "latency_table")
            widest = make_plan(kind, analysis, macs_model, 1e6, self.guards)
            self.high = table(macs_model.reduction(widest), widest) if table else 1.0

    def widths(self, knob):
        key = round(knob, 6)
        if key not in self._plans:
            self._plans[key] = make_plan(self.kind, self.analysis, self.macs_model, knob, self.guards)
        return self._plans[key]

    def reduction(self, knob):
        return self.macs_model.reduction(self.widths(knob))

    def predict(self, knob):
        return self._predict(self.reduction(knob), self.widths(knob))

    def identify(self, knob):
        return tuple(sorted(self.widths(knob).items()))

    def largest(self):
        """The speed-up predicted for the plan's largest knob."""
        return self.predict(self.high)


def check_asked(asked, plan_knob, precision):
    """PruneSegError unless ``asked`` is a speed-up the plan can be searched for (``speedup_search.check_speedup``)."""
    try:
        check_speedup(asked, plan_knob.largest(), plan_knob.kind, precision)
    except ValueError as error:
        raise PruneSegError(str(error)) from None


def search_plan(asked, plan_knob, base, dense, height, width, precision="fp32", threads=1, importance="l2",
                timer=None):
    """Search ``plan_knob``'s knob for a model measured ``asked`` times faster than ``dense``.

    Args:
        base: the model each probe prunes a copy of (the dense model, or the last snapshot).
        timer: a ``RuntimeLatency`` against ``dense`` to reuse; else one is made for the search.
    Returns:
        the search (``speedup_search.search_speedup``) with ``plan``, ``precision``, ``predictor``,
        ``target`` (the chosen knob), ``widths``, ``runtime`` (the chosen model's runtime record) and
        ``machine`` (``target.machine.machine_profile`` at the timing's threads).
    """
    check_asked(asked, plan_knob, precision)
    round_to = settings_of(plan_knob.analysis).round_to
    records = {}

    def measure(knob):
        key = plan_knob.identify(knob)
        if key not in records:
            candidate = copy.deepcopy(base)
            prune_to_widths(candidate, plan_knob.widths(knob), round_to, importance)
            records[key] = active.measure(candidate, int8=precision == "int8")
        spread = records[key][precision]["speedup_spread"]
        return {"speedup": records[key][precision]["speedup"], "q25": spread["q25"], "q75": spread["q75"],
                "reduction": plan_knob.reduction(knob)}

    own = timer is None
    active = timer or RuntimeLatency(dense, height, width, threads=threads, int8=precision == "int8")
    try:
        search = search_speedup(asked, plan_knob.predict, measure, plan_knob.low, plan_knob.high,
                                identify=plan_knob.identify)
    finally:
        if own:
            active.close()
    chosen = search["probes"][search["chosen"]]["knob"]
    return {**search, "plan": plan_knob.kind, "precision": precision, "predictor": plan_knob.predictor,
            "target": chosen, "widths": plan_knob.widths(chosen), "runtime": records[plan_knob.identify(chosen)],
            "machine": machine_profile(active.threads)}
