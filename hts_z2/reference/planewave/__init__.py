"""The plane-wave label of record: GPAW PW, PBE, spin–orbit coupling by second variation;
gap, Fu–Kane parity and Wilson-loop Z2, and how far PBE can be trusted with the label.

``planewave_topology(structure, material_id)`` returns a
:class:`~hts_z2.schemas.dft.DftResult`; see docs/label_of_record.md.
"""

from hts_z2.reference.planewave.settings import METHOD, TOPOLOGY_METHODS, PlaneWaveSettings

__all__ = ["METHOD", "TOPOLOGY_METHODS", "PlaneWaveSettings", "planewave_topology"]


def __getattr__(name: str):
    if name == "planewave_topology":  # keeps GPAW-free imports of the settings light
        from hts_z2.reference.planewave.backend import planewave_topology

        return planewave_topology
    raise AttributeError(name)
