"""Settings every package's tests share: the hypothesis profiles of the property tests.

`ci` (the default, what `./scripts/test` runs): a fixed seed and a bounded number of examples,
so that CI is repeatable and quick. `fuzz` (`scripts/fuzz`): many examples, new ones each run.
HYPOTHESIS_PROFILE picks one.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "fuzz",
    max_examples=20_000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
