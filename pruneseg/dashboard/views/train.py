"""What the Train page shows: a run's cards and epoch table, a training time estimate. No Streamlit, no torch."""
from pruneseg.model_catalog import model_spec


def training_minutes(model, height, width, epochs, images):
    """Rough minutes to train ``epochs`` over ``images`` (train + val) at ``height`` x ``width`` on a
    2-core CPU like this project's (the catalog's ``pixels_per_second``); None for a model without a
    measurement."""
    rate = model_spec(model).pixels_per_second
    return epochs * images * height * width / rate / 60 if rate else None


def estimate_text(minutes, epochs, budget_minutes):
    """How long a run takes, from ``training_minutes`` and its budget (0: none): ``about 7 minutes``, or
    ``at most 10 minutes (the budget): ... about 24 of the 30 epochs``."""
    if not budget_minutes:
        return f"about {minutes:.0f} minutes"
    if minutes <= budget_minutes:
        return f"about {minutes:.0f} minutes: all {epochs} epochs fit in the {budget_minutes:g}-minute budget"
    return (f"at most {budget_minutes:g} minutes (the budget): the {epochs} epochs would take about {minutes:.0f}, so "
            f"the run plans the epochs that fit by its measured epoch time, about {int(epochs * budget_minutes / minutes)}")


def run_cards(config, epochs, steps, best):
    """A run's four cards: epochs done, best mIoU, its pixel accuracy, the last loss."""
    return [
        {"label": "Epochs done", "value": f"{len(epochs)} / {config.get('planned_epochs', config.get('epochs', '?'))}",
         "help": (f"Planned by the {config['budget']['minutes']:g}-minute budget (at most {config.get('epochs')}); "
                  f"{config.get('train_precision', '?')} arithmetic." if config.get("budget") else
                  f"{config.get('train_precision', 'fp32')} arithmetic." if config.get("train_precision") else None)},
        {"label": "Best val mIoU", "value": f"{best['miou']:.3f}" if best else "—",
         "help": f"On the whole validation split, at epoch {best['epoch'] + 1}; model_best.pt holds it. The "
                 "sensitivity analysis scores a subset of these images, so its dense mIoU differs."
         if best else "On the whole validation split."},
        {"label": "Pixel accuracy", "value": f"{best['pixel_accuracy']:.3f}" if best and "pixel_accuracy" in best else "—",
         "help": "Of the best epoch, on the validation split."},
        {"label": "Last loss", "value": f"{steps[-1]['loss']:.3f}" if steps else "—",
         "help": "Training cross-entropy of the latest step."},
    ]


def epoch_rows(epochs):
    """The epoch table, newest first."""
    return [{"epoch": r["epoch"] + 1, "mIoU": round(r["miou"], 3), "loss": round(r.get("train_loss", float("nan")), 4),
             "seconds": round(r.get("seconds", 0.0), 1)} for r in reversed(epochs)]
