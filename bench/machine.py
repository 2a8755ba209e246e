"""The machine the numbers come from, and whether it is quiet enough to measure on."""

import os
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass

#: Above either, other work competes with the servers and wrk for the CPU.
BUSY_CPU_SHARE = 0.25
BUSY_LOAD_PER_CORE = 0.5


@dataclass(frozen=True)
class Idleness:
    """Load average and the share of CPU time others used during a short probe."""

    cores: int
    load1: float
    busy_share: float

    @property
    def idle(self) -> bool:
        """Whether both the load average and the probe say the machine is quiet."""
        return self.busy_share <= BUSY_CPU_SHARE and self.load1 <= BUSY_LOAD_PER_CORE * self.cores

    def describe(self) -> str:
        """One line for the report."""
        figures = (
            f"load average {self.load1:.2f} on {self.cores} cores, "
            f"{self.busy_share:.0%} CPU busy during a 1 s probe"
        )
        if self.idle:
            return f"machine idle enough: {figures}"
        return (
            f"machine NOT idle: {figures}. Absolute figures will be low and noisy; the "
            "ratios to hello, measured in the same rounds, are the figures to read"
        )


def cores() -> int:
    """CPUs this process may run on (what `nproc` prints)."""
    return len(os.sched_getaffinity(0))


def _cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies over all CPUs, from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    return values[3] + values[4], sum(values)  # idle + iowait


def idleness(probe_seconds: float = 1.0) -> Idleness:
    """Sample the load average and the CPU use of the whole machine for `probe_seconds`."""
    idle_before, total_before = _cpu_times()
    time.sleep(probe_seconds)
    idle_after, total_after = _cpu_times()
    total = max(1, total_after - total_before)
    busy = 1 - (idle_after - idle_before) / total
    return Idleness(cores(), os.getloadavg()[0], busy)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def wrk_version() -> str:
    """`wrk 4.1.0`, from the first line of `wrk -v`."""
    if not shutil.which("wrk"):
        return "wrk missing"
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    words = (done.stdout or done.stderr).split()
    version = words[1].split("/")[-1].split("-")[0] if len(words) > 1 else "?"
    return f"wrk {version}"


def describe() -> str:
    """nproc, CPU model, Python and wrk versions, for the report."""
    return (
        f"{cores()} × {cpu_model()}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, {wrk_version()}"
    )
