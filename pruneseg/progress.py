"""Progress for long work: a tqdm bar on the terminal, mirrored into the job state on disk.

Under torchrun only rank 0 shows and records progress: the others' bars are disabled."""
import sys
import time

from tqdm import tqdm

from pruneseg.jobs import is_main_process, update_state


class Progress:
    """Count finished units of work; the job's ``state.json`` gets done, total, rate and ETA twice a second."""

    def __init__(self, total, desc, unit="it"):
        self.desc = desc
        self.bar = tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True,
                        mininterval=0.5 if sys.stderr.isatty() else 10.0, disable=not is_main_process())
        self._last_write = 0.0
        self._publish()

    def update(self, count=1, **postfix):
        """Add ``count`` finished units; ``postfix`` values (loss=..., say) show beside the bar."""
        self.bar.update(count)
        if postfix:
            self.bar.set_postfix(postfix, refresh=False)
        if time.monotonic() - self._last_write > 0.5 or self.bar.n >= (self.bar.total or 0):
            self._publish(**postfix)

    def update_to(self, done):
        """Set the number of finished units to ``done``."""
        self.update(done - self.bar.n)

    def set_total(self, total):
        """Change the number of units the work has (a plan that changed on the way)."""
        self.bar.total = total
        self.bar.refresh()
        self._publish()

    def write(self, line):
        """Print ``line`` on a line of its own above the bar (in a job's log too, where the bar has no newline);
        silent on ranks other than 0, as their bars are."""
        if not self.bar.disable:
            self.bar.write(line, file=sys.stderr)

    def close(self):
        self._publish()
        self.bar.close()

    def _publish(self, **postfix):
        if self.bar.disable:  # a rank other than 0
            return
        info = self.bar.format_dict
        done, total, elapsed = info["n"], info["total"], info["elapsed"]
        rate = done / elapsed if elapsed > 0 and done else None
        eta = (total - done) / rate if rate and total else None
        update_state(progress={"desc": self.desc, "done": done, "total": total, "rate": rate,
                               "eta_seconds": eta, **{k: float(v) for k, v in postfix.items()}})
        self._last_write = time.monotonic()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
