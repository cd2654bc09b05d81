"""The first-principles confirmations stored with screening results, as references.

A result's ``confirmation`` (plane-wave label of record, :mod:`hts_z2.flows.confirmation`)
becomes a :class:`Reference` of tool ``first-principles``, so ``hts-z2 validate
--confirmations`` reports the confirmed labels against the model's exactly as it does for
imported Wilson-loop files. Semimetals count in the ``metal`` class (no gap, no Z2).
"""

from __future__ import annotations

from hts_z2.topology.result import label_from_planes
from hts_z2.validate.reference import Reference

TOOL = "first-principles"


def confirmation_references(docs: list[dict]) -> list[Reference]:
    """References from the finished confirmations among result documents."""
    out = []
    for doc in docs:
        c = doc.get("confirmation") or {}
        if c.get("status") != "done":
            continue
        ref = Reference(key=doc["material_id"], tool=TOOL,
                        source=f"{c.get('method')} {c.get('settings_key')} (dft_results)")
        label = c.get("label") or "undefined"
        if label in ("semimetal", "metal"):
            ref.label = "metal"
        elif c.get("planes"):
            nu0, nu, ref.label = label_from_planes(tuple(c["planes"]))
            ref.planes, ref.nu0, ref.nu = tuple(c["planes"]), nu0, nu
            ref.converged = True
        else:
            ref.label = "undefined"
            ref.errors.append(f"first-principles label undefined: {c.get('reason')}")
        if c.get("pbe_sensitive"):
            ref.warnings.append("PBE-sensitive: the deciding inversion (or gap) is below 0.3 eV")
        out.append(ref)
    return out
