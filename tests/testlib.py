"""testlib.py -- what every test runner shares: how a suite that cannot
run ends, the checks a runner counts, a string for the configuration file.

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


# The checks of this runner (one suite per process): (name, passed).
results = []


def check(name, ok, detail=""):
    """Count one check and print it; detail (cut to 1500 characters) says
    why it failed. Returns ok."""
    results.append((name, bool(ok)))
    print("  %s %s%s" % ("ok  " if ok else "FAIL", name,
                          "" if ok else ": " + str(detail)[:1500]))
    return ok


def summary(suite, extra=""):
    """Print "SUITE: N passed, M failed EXTRA" and the last line every
    runner ends with; returns the exit code (1 when a check failed)."""
    failed = sum(1 for _, ok in results if not ok)
    print("%s: %d passed, %d failed%s" % (suite, len(results) - failed, failed, extra))
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


def cfg_str(s):
    """s as a string of the configuration file (libconfig), quoted."""
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')

