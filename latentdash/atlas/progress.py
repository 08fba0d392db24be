"""Progress reporting for atlas builds: a tqdm bar per stage (with ETA), or a callback.

`progress` may be True (tqdm bars on stderr), False (silent) or a callable
`fn(stage: str, done: int, total: int)` (e.g. a server's background-job manager).
"""

from __future__ import annotations

import contextlib
import time


class Progress:
    def __init__(self, progress=True):
        self.enabled = bool(progress)
        self.fn = progress if callable(progress) else None
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str, total: int, unit: str = "it"):
        """Yields tick(n) for a stage; records its wall time in self.timings."""
        bar = None
        done = [0]
        if self.enabled and self.fn is None:
            from tqdm.auto import tqdm

            bar = tqdm(
                total=total,
                desc=f"{name:<18}",
                unit=unit,
                leave=True,
                dynamic_ncols=True,
                bar_format="{desc} {percentage:3.0f}%|{bar:24}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]",
            )

        def tick(n: int = 1):
            done[0] += n
            if bar is not None:
                bar.update(n)
            elif self.fn is not None:
                self.fn(name, min(done[0], total), total)

        t0 = time.perf_counter()
        if self.fn is not None:
            self.fn(name, 0, total)
        try:
            yield tick
        finally:
            if bar is not None:
                if bar.n < total:
                    bar.update(total - bar.n)
                bar.close()
            self.timings[name] = round(time.perf_counter() - t0, 3)
