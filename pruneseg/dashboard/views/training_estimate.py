"""How long a training run will take, as the Train form estimates it before the run starts: from the model
catalog's measured training pixels per second, and the run's time budget. No Streamlit, no torch."""
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
