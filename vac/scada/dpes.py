"""The datapoint elements to stream, from the JSON config the WinCC OA streaming script reads
(`LHC_KafkaStream.config`: kafkaId, topic, type, sourceDPE, validityDPE, validityBit, sector,
mainpart, DCUM), or generated as a realistic installation for the simulator."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import orjson

from vac.errors import ConfigError

# Device families by DPE prefix, and where their readings sit.
FAMILIES = {
    "VGP": "penning gauge",
    "VGR": "pirani gauge",
    "VGI": "ionisation gauge",
    "VGM": "membrane gauge",
    "VGF": "full-range gauge",
    "VGA": "gauge",
    "VGD": "gauge",
    "VPI": "ion pump",
    "VPG": "pumping group",
    "VV": "valve",
}


@dataclass(frozen=True, slots=True)
class Dpe:
    name: str
    """The source DPE, e.g. VGI_1025_5L4_B.PR: the Kafka key and the record's `id`."""
    kafka_id: str
    topic: str
    """The Kafka topic: the last part of the config's `vac.<accelerator>.<topic>`."""
    type: str
    """float (pressures, currents) or unsigned (status words such as .RR1)."""
    sector: str
    mainpart: str
    dcum: str
    validity_bit: int | None = None

    @property
    def family(self) -> str:
        for prefix in sorted(FAMILIES, key=len, reverse=True):
            if self.name.startswith(prefix):
                return prefix
        return "other"

    @property
    def is_pressure(self) -> bool:
        return self.type == "float" and self.name.endswith(".PR")


def load_dpes(path: Path) -> list[Dpe]:
    """Read a DPE config; a ConfigError names the entry and field that is wrong."""
    try:
        entries = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read the DPE list {path}: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"the DPE list {path} is not JSON: {exc}") from None
    if not isinstance(entries, list):
        raise ConfigError(f"the DPE list {path} must be a JSON array of DPE entries")
    dpes = []
    for index, entry in enumerate(entries):
        try:
            dpes.append(
                Dpe(
                    name=entry["sourceDPE"],
                    kafka_id=entry.get("kafkaId", entry["sourceDPE"]),
                    topic=str(entry["topic"]).rsplit(".", 1)[-1],
                    type=entry.get("type", "float"),
                    sector=str(entry.get("sector", "")),
                    mainpart=str(entry.get("mainpart", "")),
                    dcum=str(entry.get("DCUM", "")),
                    validity_bit=int(entry["validityBit"]) if "validityBit" in entry else None,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: entry {index} is missing or has a bad field: {exc}") from None
    names = [dpe.name for dpe in dpes]
    if len(set(names)) != len(names):
        duplicate = next(name for name in names if names.count(name) > 1)
        raise ConfigError(f"{path}: DPE {duplicate} is listed twice")
    return dpes


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
