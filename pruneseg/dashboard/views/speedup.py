"""What the Prune and Report pages show about speed-ups asked and measured, the predictors behind
the search, distillation and the final fine-tune. Pure functions of records; no Streamlit, no torch."""
from pruneseg.prune.predictors import PREDICTORS, predictor_record
from pruneseg.prune.speedup_search import search_text

PREDICTOR_TEXT = {"latency_table": "the latency table's sum (each group's saving, pruned alone, added up)",
                  "macs_efficiency": "the MACs ratio times one efficiency fitted on the curve points",
                  "macs_power": "the MACs ratio to a power fitted on the curve points"}
DISTILL_TEXT = {"pixel": "pixel-wise logit KL", "channel": "channel-wise (Shu et al. 2021)"}


def predictors_of(analysis):
    """The analysis's record of its predictors (``predictors``), computed from its curve points when the
    file predates it."""
    return analysis.get("predictors") or predictor_record(analysis)


def predictor_rows(analysis):
    """One row per speed-up predictor: its median absolute error (x) against the measured curve points, in
    fp32 and int8, the points it was scored on, and which one the speed-up search starts from."""
    record = predictors_of(analysis)
    rows = []
    for name in PREDICTORS:
        fp32, int8 = record["fp32"].get(name), record["int8"].get(name)
        if not fp32 and not int8:
            continue
        fitted = {**(int8 or {}), **(fp32 or {})}
        rows.append({"predictor": name, "how": PREDICTOR_TEXT[name],
                     "error fp32 (x)": _error(fp32), "error int8 (x)": _error(int8),
                     "points": (fp32 or int8)["points"],
                     "fitted": ", ".join(f"{key} {fitted[key]:.2f}" for key in ("efficiency", "exponent")
                                         if key in fitted),
                     "used by the search": " & ".join(p for p in ("fp32", "int8") if record["best"][p] == name)})
    return rows


def _error(entry):
    return round(entry["median_abs_error"], 3) if entry and entry.get("median_abs_error") is not None else None


def predictor_caption(analysis):
    """How to read the predictor table."""
    return ("Median absolute error of each predictor's speed-up against the speed-ups the analysis measured on "
            "ONNX Runtime for its curve points (fitted predictors scored with each point left out of their fit). "
            "Asked for a speed-up, verify and the pruning loop start their search from the best one and then "
            "measure whole models.")


def asked_point(points, plan, asked, precision="fp32", guards=None):
    """The point ``verify --speedup`` measured for ``plan`` asked ``asked`` in ``precision`` with ``guards``, or None."""
    return next((p for p in points if p.get("speedup_search") and p["plan"] == plan
                 and abs(p["speedup_search"]["asked"] - asked) < 1e-9
                 and p["speedup_search"].get("precision", "fp32") == precision
                 and (p.get("guards") or {}) == (guards or {})), None)


def search_line(record):
    """``asked 2.00x, measured 2.03x [1.99, 2.06] (3 probes)`` of a verified point or an iteration; None without a search."""
    search = record.get("speedup_search")
    return search_text(search, search.get("precision", "fp32")) if search else None


def probe_rows(search):
    """One row per probe of a speed-up search: knob, MACs removed, predicted and measured speed-up, seconds."""
    return [{"probe": index + 1, "knob": round(probe["knob"], 4),
             "MACs removed": f"{probe['reduction']:.1%}" if "reduction" in probe else None,
             "predicted": round(probe["predicted"], 2), "measured": round(probe["measured"], 2),
             "IQR": f"{probe['spread'][0]:.2f} – {probe['spread'][1]:.2f}", "seconds": round(probe["seconds"], 1),
             "chosen": "✓" if index == search["chosen"] else ""}
            for index, probe in enumerate(search["probes"])]


def search_lines(state):
    """``(iteration label, line)`` of every iteration of a pruning run searched for a speed-up."""
    return [(f"iteration {record['iteration']}", search_line(record))
            for record in state.get("iterations", []) if record.get("speedup_search")]


def recipe_text(config):
    """A pruning run's fine-tuning in words: distillation and the final fine-tune, or the plain recipe."""
    parts = []
    if config.get("speedup"):
        parts.append(f"asked {config['speedup']:.2f}x measured ({config.get('speedup_precision', 'fp32')})")
    if config.get("distill"):
        kind = config.get("distill_kind", "channel")
        parts.append(f"distilled from {'the dense checkpoint' if not config.get('teacher') else config['teacher']} "
                     f"({DISTILL_TEXT.get(kind, kind)}, λ {config.get('distill_weight'):g}, "
                     f"τ {config.get('distill_tau'):g})")
    if config.get("final_epochs"):
        parts.append(f"final fine-tune of {config['final_epochs']} epochs (learning rate cosine to 0)")
    return "; ".join(parts) or "the dense run's recipe, no distillation, no final fine-tune"
