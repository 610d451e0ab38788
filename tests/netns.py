"""What the live tests and the live benchmark share: a veth pair with one
end in a network namespace, and the sensor running in the background.

Both scripts import it (tests/live_test.py, tests/bench_live.py). Traffic
only ever goes through the pair a Veth creates; the pair and the namespace
are removed on leaving the `with` block, whatever happens. Python standard
library only.
"""

import os
import subprocess
import time


class Failure(Exception):
    """A helper command failed, or the sensor did not do what was awaited."""


def run(cmd, timeout=20):
    """Run a helper command; its standard output, Failure when it fails."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           check=False)
    except subprocess.TimeoutExpired:
        raise Failure("%s: timed out after %d s" % (" ".join(cmd), timeout))
    if p.returncode != 0:
        raise Failure("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                           p.stderr.decode(errors="replace").strip()))
    return p.stdout.decode(errors="replace")


def wait_for(what, fn, timeout, step=0.05):
    """Poll fn() until it returns a true value; Failure after timeout s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    raise Failure("timed out after %.1f s waiting for %s" % (timeout, what))


class Veth:
    """A namespace and a veth pair: host end `host`, `inner` inside `ns`.

    Names carry this process's id and `tag` (short: interface names have at
    most 15 bytes). IPv6 is off on both ends: the kernel's own neighbour
    discovery and MLD packets would be flows, and packets, of their own.
    mtu: for both ends (None: the default 1500).
    """

    def __init__(self, kind, tag, mtu=None):
        pid = os.getpid()
        self.ns = "egress-%s-%d-%s" % (kind, pid, tag)
        self.host = "e%sh%d%s" % (kind[0], pid % 1000000, tag)
        self.inner = "e%sn%d%s" % (kind[0], pid % 1000000, tag)
        self.mtu = mtu
        self.inside = ["ip", "netns", "exec", self.ns]

    def __enter__(self):
        try:
            run(["ip", "netns", "add", self.ns])
            run(["ip", "link", "add", self.host, "type", "veth", "peer", "name", self.inner])
            run(["ip", "link", "set", self.inner, "netns", self.ns])
            mtu = ["mtu", str(self.mtu)] if self.mtu else []
            for pre, dev in (([], self.host), (self.inside, self.inner)):
                knob = "/proc/sys/net/ipv6/conf/%s/disable_ipv6" % dev
                run(pre + ["sh", "-c", "[ ! -e %s ] || echo 1 > %s" % (knob, knob)])
                run(pre + ["ip", "link", "set", dev] + mtu + ["up"])
            run(self.inside + ["ip", "link", "set", "lo", "up"])
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def remove(self):
        for cmd in (["ip", "link", "del", self.host], ["ip", "netns", "del", self.ns]):
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=10, check=False)

    def tcpreplay(self, pcap, options, timeout):
        """tcpreplay pcap into the inner end, from inside the namespace;
        its report."""
        return run(self.inside + ["tcpreplay", "-q", "--intf1=" + self.inner] + options + [pcap],
                   timeout=timeout)


class Sensor:
    """The sensor in the background, standard error in tmp/name.stderr."""

    def __init__(self, cmd, tmp, name, cwd=None):
        self.err_path = os.path.join(tmp, name + ".stderr")
        self.err_fp = open(self.err_path, "wb")
        self.p = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=self.err_fp)

    def stderr(self):
        with open(self.err_path, "rb") as fp:
            return fp.read().decode(errors="replace")

    def wait_capturing(self, timeout=15):
        def ready():
            if self.p.poll() is not None:
                raise Failure("sensor exited %d before capturing: %s"
                              % (self.p.returncode, self.stderr().strip()[-800:]))
            return "capturing on" in self.stderr()
        wait_for("the 'capturing on' line", ready, timeout)

    def wait_exit(self, timeout):
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure("sensor still running after %d s: %s"
                          % (timeout, self.stderr().strip()[-500:]))

    def stop(self, timeout=20):
        """SIGTERM (unless it has ended), then its exit code."""
        if self.p.poll() is None:
            self.p.terminate()
        return self.wait_exit(timeout)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(timeout=10)
        self.err_fp.close()
