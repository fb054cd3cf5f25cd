"""Write the generated reference of docs/API.md from the API's OpenAPI document.

    python scripts/api_doc.py          # rewrite docs/API.md's generated part
    python scripts/api_doc.py --check  # exit 1 when docs/API.md is behind the code

tests/test_api_doc.py runs the check.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from credential_track import create_app  # noqa: E402
from credential_track.api import reference  # noqa: E402
from credential_track.api.openapi import document  # noqa: E402

DOC = ROOT / "docs" / "API.md"


def generated() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp}/unused.db"})
        with app.app_context():
            text = reference.markdown(document(app))
        app.extensions["credtrack_engine"].dispose()
    return text


def main(argv: list[str]) -> int:
    text = DOC.read_text(encoding="utf-8")
    new = reference.replace(text, generated())
    if "--check" in argv:
        if new != text:
            print("docs/API.md is behind the API: run python scripts/api_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
