"""Printed documents as pure functions: plain data in (printing.data), bytes out.

One module per document kind; draw.py has the shared helpers (Code 128, QR,
the text block that wraps and shrinks), fonts.py the font chain
(fonts.missing_chars: can this be printed).
"""
from .bags import render_bag_label, render_bag_manifest
from .data import BagLabelData, BagManifestData, HandoverData, LabelData, ManifestItem, TripBag, TripSheetData
from .handover import render_handover_receipt
from .labels import checked, describe_unprintable, label_unprintable, render_label, unprintable_header, write_labels
from .trips import render_trip_sheet
from .zpl import bag_label_zpl, label_zpl

__all__ = [
    "BagLabelData", "BagManifestData", "HandoverData", "LabelData", "ManifestItem", "TripBag",
    "TripSheetData", "bag_label_zpl", "checked", "describe_unprintable", "label_unprintable", "label_zpl",
    "render_bag_label", "render_bag_manifest", "unprintable_header",
    "render_handover_receipt", "render_label", "render_trip_sheet", "write_labels",
]
