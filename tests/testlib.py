"""testlib.py -- what every test runner shares: how a suite that cannot
run ends.

A suite that cannot run here (not root, a tool or the shared corpus
missing) says so and why. Under CI=true that is a failure (exit 1): a CI
run must never pass because a suite did not run. Elsewhere -- a developer
without root, say -- it is reported as skipped (exit 0).
"""

import os


def under_ci():
    """Whether this is a CI run (the CI environment sets CI=true)."""
    return os.environ.get("CI", "") == "true"


def cannot_run(suite, why, n_tests=1):
    """Report that suite cannot run because of why; returns the exit code
    the runner should end with: 1 under CI=true, else 0 (skipped)."""
    if under_ci():
        print("%s: cannot run: %s" % (suite, why))
        print("0 passed, %d failed (CI=true: a suite that cannot run fails)" % n_tests)
        return 1
    print("%s: skipped: %s" % (suite, why))
    print("0 passed, 0 failed, %d skipped" % n_tests)
    return 0
