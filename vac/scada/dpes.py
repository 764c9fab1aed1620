"""The datapoint elements to stream, from the JSON config the WinCC OA streaming script reads
(`LHC_KafkaStream.config`: kafkaId, topic, type, sourceDPE, validityDPE, validityBit, sector,
mainpart, DCUM), or generated as a realistic installation for the simulator. Placeholder places
are replaced by the position an LHC name carries (`vac.records.positions`)."""

from __future__ import annotations

import logging
import random
import re
from pathlib import Path

import orjson

from vac.errors import ConfigError
from vac.records.badinput import BadInput
from vac.records.dpe import Dpe
from vac.records.positions import resolve_place
from vac.topicnames import topic_name_problem

log = logging.getLogger("vac.scada")

MAX_NAME = 256
"""The longest DPE name, kafkaId or place field accepted (the real ones are under 40)."""
TYPE_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
NOT_IN_NAMES = frozenset("[]{}<>\"'\\")
"""Markup and quoting characters: no WinCC OA DPE has them, and a name is shown in terminals."""


class BadEntry(ValueError):
    """Why one entry of a DPE list cannot be used; the entry is skipped."""


def load_dpes(path: Path, bad: BadInput | None = None) -> list[Dpe]:
    """Read a DPE config. A file that is not a JSON array, or leaves no usable DPE, is a
    ConfigError; an entry that cannot be used (a missing or ill-typed field, a name with
    control or markup characters, a duplicate) is counted in `bad`, logged with its index,
    and skipped: one broken entry of ten thousand must not stop the other DPEs."""
    bad = bad if bad is not None else BadInput()
    try:
        entries = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read the DPE list {path}: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"the DPE list {path} is not JSON: {exc}") from None
    if not isinstance(entries, list):
        raise ConfigError(f"the DPE list {path} must be a JSON array of DPE entries")
    dpes: dict[str, Dpe] = {}
    for index, entry in enumerate(entries):
        try:
            dpe = _dpe_of(entry)
            if dpe.name in dpes:
                raise BadEntry(f"duplicate sourceDPE {dpe.name} (the first is kept)")
        except BadEntry as problem:
            bad.add(f"DPE entry: {problem}", f"{path} entry {index}: {_excerpt(entry)}")
            continue
        dpes[dpe.name] = dpe
    if not dpes:
        reason = "is empty" if not entries else f"has no usable entry (all {len(entries):,} skipped)"
        raise ConfigError(
            f"the DPE list {path} {reason}",
            hint="each entry needs at least sourceDPE and topic, e.g. "
            '[{"sourceDPE": "VGI_1.PR", "topic": "vac.lhc.pressures"}]',
        )
    if bad.total:
        log.warning("%s: skipped %d of %d DPE entries", path, bad.total, len(entries))
    return list(dpes.values())


def _dpe_of(entry: object) -> Dpe:
    if not isinstance(entry, dict):
        raise BadEntry("not a JSON object")
    if "sourceDPE" not in entry or "topic" not in entry:
        raise BadEntry("sourceDPE or topic missing")
    name = _name(entry, "sourceDPE")
    topic = entry["topic"]
    if not isinstance(topic, str) or topic_name_problem(topic.rsplit(".", 1)[-1]) is not None:
        raise BadEntry("topic is not a Kafka topic name (letters, digits, . _ -)")
    kind = entry.get("type", "float")
    if not isinstance(kind, str) or not TYPE_NAME.fullmatch(kind):
        raise BadEntry("type is not a type name such as float or unsigned")
    # Placeholders (the shared LHC config has VACSECPR123 / LSS1 / 125 everywhere) give way to
    # the position the name carries; real config values win.
    sector, mainpart, dcum = resolve_place(
        name, _place(entry, "sector"), _place(entry, "mainpart"), _place(entry, "DCUM")
    )
    return Dpe(
        name=name,
        kafka_id=_name(entry, "kafkaId") if "kafkaId" in entry else name,
        topic=topic.rsplit(".", 1)[-1],
        type=kind,
        sector=sector,
        mainpart=mainpart,
        dcum=dcum,
        validity_bit=_bit(entry["validityBit"]) if "validityBit" in entry else None,
    )


def _name(entry: dict[str, object], field: str) -> str:
    value = entry[field]
    if not isinstance(value, str) or not value:
        raise BadEntry(f"{field} is not a non-empty string")
    if len(value) > MAX_NAME:
        raise BadEntry(f"{field} is longer than {MAX_NAME} characters")
    if not value.isprintable() or any(char.isspace() or char in NOT_IN_NAMES for char in value):
        raise BadEntry(f"{field} has spaces, control, quote or markup characters")
    return value


def _place(entry: dict[str, object], field: str) -> str:
    """sector, mainpart, DCUM: text, or a number written as text (DCUM is metres)."""
    value = entry.get(field, "")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadEntry(f"{field} is not a string or number")
    text = str(value)
    if len(text) > MAX_NAME or not text.isprintable():
        raise BadEntry(f"{field} is too long or has control characters")
    return text


def _bit(value: object) -> int:
    """validityBit: the bit number 0-63 of the status word, as a number or digits."""
    if isinstance(value, str) and value.isdecimal() and len(value) <= 2:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 64:
        raise BadEntry("validityBit is not a bit number 0-63")
    return value


def _excerpt(entry: object) -> str:
    try:
        return orjson.dumps(entry).decode()[:120]
    except (orjson.JSONEncodeError, TypeError):
        return repr(entry)[:120]


def generate_installation(devices: int, seed: int = 0) -> list[Dpe]:
    """A plausible installation of `devices` DPEs: mostly gauges (.PR pressures), some ion
    pumps, valves and status words (.RR1), spread over sectors along a 27 km ring."""
    rng = random.Random(seed)
    kinds = [
        ("VGPB", ".PR", "float"),
        ("VGI", ".PR", "float"),
        ("VGR", ".PR", "float"),
        ("VPI", ".PR", "float"),
        ("VVS", ".RR1", "unsigned"),
        ("VGPB", ".RR1", "unsigned"),
    ]
    weights = [30, 25, 15, 15, 7, 8]
    dpes = []
    for index in range(devices):
        prefix, suffix, kind = rng.choices(kinds, weights)[0]
        dcum = rng.randrange(0, 26_659)
        sector = f"VACSEC{dcum // 3333 + 1}{rng.choice('LR')}"
        dpes.append(
            Dpe(
                f"{prefix}_{index}_{dcum}{suffix}",
                f"{prefix}_{index}_{dcum}",
                "pressures" if suffix == ".PR" else "statuses",
                kind,
                sector,
                f"ARC{dcum // 3333 + 1}{dcum // 1666 % 2 + 1}",
                str(dcum),
            )
        )
    return dpes
