"""A training run and its job, written by hand in milliseconds as ``pruneseg train`` and ``pruneseg.jobs``
leave them."""
import json

from conftest import write_job


def write_fake_run(workspace, name="fpn-demo", epochs_done=3, epochs=3):
    """A finished-looking run folder, written by hand as ``pruneseg.train`` would."""
    run = workspace / "runs" / name
    run.mkdir(parents=True)
    config = {"model": "fpn", "data": str(workspace / "datasets" / "synthcity"), "out": str(run),
              "height": 64, "width": 128, "epochs": epochs, "batch_size": 2, "lr": 1e-4}
    (run / "config.json").write_text(json.dumps(config))
    steps = [{"epoch": e, "step": s, "iteration": 2 * e + s, "loss": 2.0 / (1 + 2 * e + s), "lr": 1e-4}
             for e in range(epochs_done) for s in range(2)]
    (run / "steps.jsonl").write_text("".join(json.dumps(r) + "\n" for r in steps))
    records = [{"epoch": e, "train_loss": 1.0 / (e + 1), "seconds": 1.5, "miou": 0.2 + 0.1 * e,
                "pixel_accuracy": 0.6 + 0.05 * e, "iou": [0.5, 0.4, 0.9, None, 0.1 * e, 0.05]}
               for e in range(epochs_done)]
    (run / "epochs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (run / "model_best.pt").write_bytes(b"not a real checkpoint")
    return run


def write_fake_job(workspace, run, status="done", error="", pid=None):
    """A train job folder for ``run`` as ``pruneseg.jobs`` leaves it, for process ``pid`` (none by default)."""
    argv = ["train", "--model", "fpn", "--data", "x", "--out", str(run), "--epochs", "3"]
    return write_job(workspace, "train", argv, status, outputs={"out": str(run)}, pid=pid, error=error,
                     progress={"desc": "train fpn", "done": 6, "total": 6},
                     log="epoch 1/3: loss 1.0\nTraceback: boom\n")
