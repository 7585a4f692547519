"""What the Train page shows: a run's cards and epoch table. No Streamlit, no torch."""


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
