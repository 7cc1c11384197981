"""How many threads decode inputs."""

from __future__ import annotations

from joblib import cpu_count

__all__ = ["n_workers"]

_DEFAULT_MAX = 8


def n_workers(n_jobs: int | None) -> int:
    """Decoding threads for an estimator's ``n_jobs``.

    None: as many as there are CPUs, at most 8; -1: every CPU; otherwise ``n_jobs`` (at
    least 1). CPUs are counted by ``joblib.cpu_count()``, which honours a container's CPU
    quota and the process's affinity, where ``os.cpu_count()`` sees every core of the host.
    """
    cpus = cpu_count()
    if n_jobs is None:
        return min(_DEFAULT_MAX, cpus)
    return cpus if n_jobs == -1 else max(1, n_jobs)
