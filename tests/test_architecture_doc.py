"""docs/architecture.md is the map a newcomer reads first: it must match the tree.

Every path it names exists, and every package of the product (a folder with ``__init__.py``
outside tests, migrations and management commands) is named in it, so moving or adding a
package without updating the map fails here.
"""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text()
TOP = {entry.name for entry in ROOT.iterdir() if not entry.name.startswith(".")}


def named_paths() -> set[str]:
    """Paths from the repository root that the map names (relative mentions like ``api/`` aside)."""
    return {path.rstrip("/") for path in re.findall(r"`([\w./-]+/[\w./-]*)`", DOC) if path.split("/")[0] in TOP}


def product_packages() -> set[str]:
    listed = subprocess.run(["git", "ls-files", "*__init__.py"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.split()
    return {str(Path(path).parent) for path in listed
            if Path(path).parts[0] not in {"tests", "sdk", "examples", "bench"}
            and not {"migrations", "management"} & set(Path(path).parts)}


def test_every_path_in_the_map_exists():
    missing = sorted(path for path in named_paths() if not (ROOT / path).exists())
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_every_package_is_on_the_map():
    packages = product_packages()
    mentioned = named_paths()
    absent = sorted(package for package in packages
                    if not any(path == package or path.startswith(package + "/") for path in mentioned))
    assert not absent, f"packages missing from docs/architecture.md: {absent}"
