"""Translation upkeep.

    python scripts/i18n.py missing       # msgids in code/templates without a Chinese translation, as .po stubs
    python scripts/i18n.py untranslated  # messages in Python written as English literals, not through gettext
    python scripts/i18n.py compile       # messages.po → messages.mo (the app also does this on start when stale)

New strings: append the stubs printed by `missing` to
src/credential_track/translations/zh_Hans_CN/LC_MESSAGES/messages.po and fill in
each msgstr. Do not run `pybabel update` (it reorders the whole file).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from babel.messages.pofile import read_po  # noqa: E402

from credential_track.i18n import PO_PATH, compile_catalogs, extract_messages, untranslated_calls  # noqa: E402


def missing() -> list[str]:
    with open(PO_PATH, "rb") as f:
        catalog = read_po(f)
    out = []
    for msgid in extract_messages(ROOT):
        entry = catalog.get(msgid)
        if entry is None or not entry.string:
            out.append(msgid)
    return out


def main() -> int:
    cmd = sys.argv[1] if len(sys.argv) > 1 else "missing"
    if cmd == "compile":
        compile_catalogs(force=True)
        return 0
    if cmd == "untranslated":
        found = untranslated_calls(ROOT)
        for line in found:
            print(line)
        print(f"# {len(found)} messages not through gettext", file=sys.stderr)
        return 1 if found else 0
    gaps = missing()
    for msgid in gaps:
        esc = msgid.replace("\\", "\\\\").replace('"', '\\"')
        print(f'msgid "{esc}"\nmsgstr ""\n')
    print(f"# {len(gaps)} missing", file=sys.stderr)
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main())
