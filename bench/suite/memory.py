"""Page-cache preconditioning: every broker writes its log into the page cache, and how fast
that goes depends on where the kernel finds the pages.

On this project's machines (Firecracker VMs with free page reporting, kernel command line
page_reporting.page_reporting_order=11) memory the guest has freed goes back to the host in 8 MB
blocks, and a page the guest has not touched since costs a host fault on first write: about
2.5 ms per MB, so a page-cache write into such memory runs at ~400 MB/s against ~5 GB/s into
pages the kernel reclaims from the page cache. Without care the figures then depend on how much
never-touched memory a phase happens to get (a phase after one that deleted gigabytes is fast,
the first phase after boot slow), and a replicated figure, writing every byte three times, pays
it three times.

A long-running broker host has its memory full of page cache, and new log data lands in
reclaimed pages. The suite puts the machine in that state before each broker starts: it grows a
ballast file on the data file system until little memory is free (the ballast is written back,
so its pages are clean and the first the kernel reclaims), and deletes it at the end. The file
never grows past the machine's memory: once it is that large, a top-up overwrites its oldest part
(whose pages the kernel reclaimed first), so the disk holds one memory's worth of ballast at
most. It records the rates it saw: the first fill (into free memory), reclaimed memory for one extra
GiB written once memory is full. Both brokers under comparison run in the same state."""

import os
import time

from .procs import log

# Free memory left after a top-up. The kernel's high watermark is about 100 MB here, but with
# the ballast written back it keeps about 1 GB free anyway (reclaim runs ahead of the writes); a
# lower target only made every top-up write that gigabyte again.
FREE_TARGET = 1 << 30
# Below this much free memory above the target, no top-up.
MIN_TOP_UP = 512 << 20
CHUNK = 64 << 20


def _meminfo(field):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def mem_free():
    return _meminfo("MemFree")


class ballast:
    """The ballast file `path`; disabled (`enabled` False) it does nothing."""

    def __init__(self, path, enabled=True):
        self.path, self.enabled = path, enabled
        self.first_fill = None  # {"bytes", "seconds", "mb_per_s"} of the first top-up
        self.size = 0  # bytes in the file
        self.pos = 0   # where the next chunk goes: the file is a ring of at most `cap` bytes
        self.cap = max(_meminfo("MemTotal") // CHUNK, 1) * CHUNK
        self.top_up_bytes, self.top_up_s = 0, 0.0  # every top-up's writes, the first fill included
        self.reclaimed = None  # {"bytes", "seconds", "mb_per_s"} once measured
        self._zeros = b"\0" * CHUNK

    def _write(self, n, until_free=None):
        """Writes n bytes (rounded up to CHUNK) at the ring's position, stopping early once at
        most `until_free` bytes are free, then writes them back; returns (bytes, seconds of the
        writes alone)."""
        written, t0 = 0, time.monotonic()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            while written < n and not (until_free is not None and mem_free() <= until_free):
                os.pwrite(fd, self._zeros, self.pos)
                self.pos = (self.pos + CHUNK) % self.cap
                self.size = min(self.size + CHUNK, self.cap)
                written += CHUNK
            took = time.monotonic() - t0
            os.fsync(fd)  # clean pages: reclaimed without waiting for write-back
        finally:
            os.close(fd)
        return written, max(took, 1e-6)

    def top_up(self):
        """Writes ballast until at most FREE_TARGET is free; returns the seconds it took."""
        if not self.enabled:
            return 0.0
        need = mem_free() - FREE_TARGET
        if need < MIN_TOP_UP:
            return 0.0
        t0 = time.monotonic()
        n, took = self._write(need, until_free=FREE_TARGET)
        if n == 0:
            return 0.0
        self.top_up_bytes += n
        self.top_up_s += took
        if self.first_fill is None:
            self.first_fill = {"bytes": n, "seconds": took, "mb_per_s": n / took / 1e6}
        secs = time.monotonic() - t0
        log(f"page cache: {n / 1e9:.1f} GB of ballast written at {n / took / 1e6:,.0f} MB/s "
            f"(free memory now {mem_free() / 1e6:,.0f} MB, ballast {self.size / 1e9:.1f} GB) in {secs:.1f} s")
        return secs

    def measure_reclaimed(self, n=1 << 30):
        """Once memory is full: the rate of `n` more bytes, written into reclaimed pages."""
        if not self.enabled:
            return None
        self.top_up()
        written, took = self._write(n)
        self.reclaimed = {"bytes": written, "seconds": took, "mb_per_s": written / took / 1e6}
        log(f"page cache: {written / 1e9:.1f} GB written into reclaimed pages at {self.reclaimed['mb_per_s']:,.0f} MB/s")
        return self.reclaimed

    def summary(self):
        if not self.enabled:
            return None
        return {"ballast_bytes": self.size, "first_fill": self.first_fill,
                "top_ups": {"bytes": self.top_up_bytes, "seconds": self.top_up_s,
                            "mb_per_s": self.top_up_bytes / self.top_up_s / 1e6 if self.top_up_s else None},
                "reclaimed": self.reclaimed}

    def close(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
