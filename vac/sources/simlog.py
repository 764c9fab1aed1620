"""A simulated WinCC OA log: appends records in the real `PVSS_II.log` grammar (see
`vac.parse.winccoa`) at the current time, so the log screen is live in the demo. Background
chatter comes every few seconds; the simulator's events write their own lines (a pump trip
its SEVERE line, a valve its WARNING) when they strike, and the INFO line of their end when
the cause is over. Called by `vac stream scada --sim-log PATH` (`attach_log`), which owns the
simulator whose events it writes.

Records are CRLF-terminated, timestamps local time without a zone (as WinCC OA writes them;
`logs.timezone` reads them back), manager names left-justified to 13. At `max_bytes` the file
is renamed to `.bak` and a new one started, as WinCC OA's process monitor does.
"""

from __future__ import annotations

import heapq
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from vac.errors import UsageError
from vac.sources.simulator import SimEvent, Simulator

MAX_BYTES = 10 * 1024 * 1024
CATALOG = "vacEqp"
"""The message catalog of the simulated equipment messages (`<code>/<catalog>`)."""

_CHATTER: tuple[tuple[str, int, str, str, str, str, str], ...] = (
    # manager, number, category, severity, code, text, continuation line ("" for none)
    ("WCCOActrl", 2, "CTRL", "WARNING", "71", "DP does not exist, vcsVeloAlarm.ctl    Library: "
     "C:\\PVSS_projects\\vac_lhc_1\\installed_components\\scripts\\libs\\fwDIP/fwDIP.ctl",
     "    Line: 1243, dpGet, DIPConfig_12.serverConfig"),
    ("WCCOActrl", 5, "CTRL", "INFO", "0", ", DB Version Update, 3.15 DB version 12, nothing to do", ""),
    ("WCCILdata", 0, "SYS", "INFO", "0", ", Manager (SYS: 1 Ctrl -num 3 CONN: 1) initialised", ""),
    ("WCCOActrl", 6, "CTRL", "INFO", "10/fwInstallation", "Information message, FW Installation Tool DB-Agent "
     "v.8.3.1 in sync", ""),
    ("WCCOActrl", 2, "CTRL", "WARNING", "116", "Library:C:\\PVSS_projects\\vac_lhc_1\\vac_lhc_1\\scripts\\libs\\eqp/"
     "vclVPC_HCCC.ctl; Variable <COLOR_ON> already defined; ignoring it", ""),
)  # fmt: skip

# kind -> (severity at the start, text, INFO text when the cause is over)
_EVENT_LINES = {
    "pump_trip": ("SEVERE", "Pump tripped", "HV off by interlock", "Pump restarted"),
    "valve": ("WARNING", "Valve closed", "pressure interlock", "Valve opened"),
    "gauge_invalid": ("WARNING", "Gauge invalid", "no answer from the controller", "Gauge valid again"),
    "bump": ("WARNING", "Pressure rise", "above the interlock threshold", ""),
}
_EVENT_CODES = {"pump_trip": 12, "valve": 13, "gauge_invalid": 14, "bump": 15}


def record(manager: str, number: int, at_s: float, category: str, severity: str, code: str, text: str,
           zone: ZoneInfo) -> str:  # fmt: skip
    """One record's first line, laid out as WinCC OA does (`vac.parse.winccoa` reads it)."""
    moment = datetime.fromtimestamp(at_s, zone)
    stamp = moment.strftime("%Y.%m.%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    number_part, slash, catalog = code.partition("/")
    padded = f"{severity},{number_part:>{13 - len(severity)}}{slash}{catalog}"
    return f"{manager:<13}({number}), {stamp}, {category + ',':<6}{padded}, {text}"


class SimulatedLog:
    def __init__(
        self,
        path: Path,
        seed: int = 0,
        timezone: str = "Europe/Zurich",
        chatter_every_s: float = 4.0,
        max_bytes: int = MAX_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.zone = ZoneInfo(timezone)
        self.chatter_every_s = chatter_every_s
        self.max_bytes = max_bytes
        self.clock = clock
        self.written = 0
        self.lost = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._pending: list[tuple[float, int, str]] = []
        """(due epoch s, order, record): the end of a cause, written when its time comes."""
        self._order = 0

    def _append(self, lines: list[str]) -> None:
        data = "".join(f"{line}\r\n" for line in lines).encode()
        with self._lock:
            try:
                if self.path.stat().st_size + len(data) > self.max_bytes:
                    self.path.replace(self.path.with_name(self.path.name + ".bak"))
            except FileNotFoundError:
                pass
            try:
                with self.path.open("ab") as log:
                    log.write(data)
            except OSError:
                self.lost += 1  # a full disk or a removed directory costs the demo its log, not the stream
                return
            self.written += 1

    def event(self, event: SimEvent) -> None:
        """The lines of one simulator event: its start now, its end when the cause is over."""
        severity, text, reason, end_text = _EVENT_LINES[event.kind]
        code = f"{_EVENT_CODES[event.kind]}/{CATALOG}"
        at_s = event.at_us / 1e6
        detail = f"{reason} ({event.peak_decades:.1f} decades)" if event.kind == "bump" else reason
        self._append([record("WCCOActrl", 3, at_s, "CTRL", severity, code, f"{text}, {event.device}, {detail}",
                             self.zone)])  # fmt: skip
        if end_text:
            end_s = at_s + event.cause_s
            end = record("WCCOActrl", 3, end_s, "CTRL", "INFO", code, f"{end_text}, {event.device}", self.zone)
            with self._lock:
                self._order += 1
                heapq.heappush(self._pending, (end_s, self._order, end))

    def chatter(self, at_s: float) -> list[str]:
        manager, number, category, severity, code, text, continuation = self._random.choice(_CHATTER)
        # Code 0 has an empty text field: its `text` starts with ", " (`0, , Manager ...`).
        first = record(manager, number, at_s, category, severity, code, text, self.zone)
        return [first, continuation] if continuation else [first]

    def run(self, cancelled: threading.Event) -> None:
        """Write chatter every `chatter_every_s` on average and the due ends of causes, until
        cancelled."""
        next_chatter = self.clock()
        while not cancelled.is_set():
            now = self.clock()
            due: list[str] = []
            with self._lock:
                while self._pending and self._pending[0][0] <= now:
                    due.append(heapq.heappop(self._pending)[2])
            for line in due:
                self._append([line])
            if now >= next_chatter:
                self._append(self.chatter(now))
                next_chatter = now + self._random.expovariate(1.0 / self.chatter_every_s)
            cancelled.wait(0.2)


def attach_log(simulator: Simulator, path: Path, seed: int, timezone: str, cancelled: threading.Event) -> SimulatedLog:
    """Write `simulator`'s events and chatter to `path` on a daemon thread until `cancelled`."""
    try:
        path.open("ab").close()  # a path that cannot be written is said now, not lost on a thread
    except OSError as exc:
        raise UsageError(f"cannot write the simulated log {path}: {exc.strerror}") from None
    log = SimulatedLog(path, seed, timezone)
    simulator.listeners.append(log.event)
    threading.Thread(target=log.run, args=(cancelled,), name="sim-log", daemon=True).start()
    return log
