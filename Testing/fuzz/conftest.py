"""Hypothesis settings of the fuzz suite: a quick, derandomised profile for `make test` (the same
cases every run, seconds in all) and a long one for `make fuzz SEED=N` (Testing/fuzz/run.py)."""
import os

from hypothesis import HealthCheck, settings

_SHARED = dict(deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                      HealthCheck.data_too_large, HealthCheck.filter_too_much])
settings.register_profile("quick", max_examples=12, derandomize=True, **_SHARED)
settings.register_profile("fuzz", max_examples=int(os.environ.get("MEDRESTORE_FUZZ_EXAMPLES", "200")), **_SHARED)
settings.load_profile("fuzz" if "MEDRESTORE_FUZZ_SEED" in os.environ else "quick")
