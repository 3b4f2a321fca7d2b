"""Private attributes: removed, except those on the safe list when Retain Safe Private is selected.

A private element (gggg,xxee) belongs to the block reserved by its Private Creator (gggg,00xx); it is
identified by the creator's name, the group and the element's low byte ``ee``, never by ``xx``, which
differs from file to file.
"""

from __future__ import annotations

from typing import Final

from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

# (private creator, group, element low byte): attributes PS3.15 Table E.3.10-1 lists as safe; numeric
# scale factors and speeds that viewers use to show correct values and that cannot identify anyone. Checked
# against the table as public transcriptions give it (dicom-anonymizer's safe_private_attributes, Karnak's
# profile documentation citing E.3.10, and the QIBA SUV pseudo-code for the two Philips factors): each of
# the three is there with this creator, group and element byte. The table lists many more; we keep these.
SAFE_PRIVATE_ATTRIBUTES: Final = frozenset(
    {
        ("GEMS_ACQU_01", 0x0019, 0x23),  # Table Speed [mm/rotation]
        ("Philips PET Private Group", 0x7053, 0x00),  # SUV Factor
        ("Philips PET Private Group", 0x7053, 0x09),  # Activity Concentration Scale Factor
    }
)


def remove_private(dataset: Dataset, private_tags: list[BaseTag], *, retain_safe: bool) -> None:
    """Remove the private elements ``private_tags`` of ``dataset``, keeping safe ones if ``retain_safe``."""
    keep: set[int] = set()
    if retain_safe:
        for tag in private_tags:
            element = tag & 0xFFFF
            if element < 0x1000:
                continue  # a creator (or an illegal (gggg,0001-000F)): kept only for the safe elements it owns
            creator_tag = (tag & 0xFFFF0000) | (element >> 8)
            creator = dataset.get(creator_tag)
            if creator is None or not isinstance(creator.value, str):
                continue
            if (creator.value.strip(), tag >> 16, element & 0xFF) in SAFE_PRIVATE_ATTRIBUTES:
                keep.update((tag, creator_tag))
    for tag in private_tags:
        if tag not in keep:
            del dataset[tag]
