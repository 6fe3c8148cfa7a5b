"""Packaging: what an installed Fundtracker holds, and which Fundtracker the suite is testing.

An editable install reads data files straight from the source tree, so a file missing from
the wheel goes unseen until a user runs ``pipx install .``. Here the wheel and the sdist are
opened and listed against the package folders on disk: every file of ``fundtracker/``,
``ui/`` and ``resources/`` (code, demo data, plan templates, migrations, icons) must be in
both. ``.ci/run`` builds them once and names them in FUNDTRACKER_WHEEL / FUNDTRACKER_SDIST;
run alone, this test builds its own from a copy of the source.

When ``.ci/run`` runs the suite against the installed wheel it sets FUNDTRACKER_TEST_INSTALLED
and FUNDTRACKER_SOURCE_ROOT; ``test_the_installed_package_is_tested`` then proves that
``import fundtracker`` reached site-packages, not the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

import fundtracker
import resources
import ui
from fundtracker.cli import main as cli_main

PACKAGES = ("fundtracker", "ui", "resources")
# What the sdist is built from: the packages, the files MANIFEST.in grafts, and these.
SOURCE_FOLDERS = (*PACKAGES, "tests", "docs", ".ci", "benchmarks")
SOURCE_FILES = ("pyproject.toml", "README.md", "MANIFEST.in")
SOURCE_ROOT = Path(os.environ.get("FUNDTRACKER_SOURCE_ROOT") or Path(__file__).parents[1])


def package_files(root: Path) -> set[str]:
    """Every file the packages hold on disk, as 'fundtracker/demo_data/x.toml' (no caches)."""
    found = set()
    for package in PACKAGES:
        for path in (root / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                found.add(path.relative_to(root).as_posix())
    return found


def wheel_files(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {
            name for name in archive.namelist() if not name.split("/")[0].endswith(".dist-info")
        }


def sdist_files(sdist: Path) -> set[str]:
    with tarfile.open(sdist) as archive:
        # Members are 'fundtracker-0.1.0/fundtracker/...': drop the top folder.
        return {
            m.name.split("/", 1)[1] for m in archive.getmembers() if m.isfile() and "/" in m.name
        }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(wheel, sdist): the ones .ci/run built, or built here from a copy of the source."""
    wheel, sdist = os.environ.get("FUNDTRACKER_WHEEL"), os.environ.get("FUNDTRACKER_SDIST")
    if wheel and sdist:
        return Path(wheel), Path(sdist)
    if not (SOURCE_ROOT / "pyproject.toml").is_file():
        pytest.fail(f"no source tree at {SOURCE_ROOT}: set FUNDTRACKER_SOURCE_ROOT")
    # A copy, so building never leaves build/ or egg-info in a checkout others are using.
    source = tmp_path_factory.mktemp("source")
    for name in SOURCE_FOLDERS:
        shutil.copytree(
            SOURCE_ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    for name in SOURCE_FILES:
        shutil.copy(SOURCE_ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return next(out.glob("*.whl")), next(out.glob("*.tar.gz"))


def test_the_wheel_holds_every_file_of_the_packages(built: tuple[Path, Path]) -> None:
    on_disk = package_files(SOURCE_ROOT)
    # The data files this issue is about must be among them, or the listing itself is wrong.
    assert "fundtracker/demo_data/kent-pcc-2025.toml" in on_disk
    assert "fundtracker/migrations/versions/0001_initial_schema.py" in on_disk
    assert "resources/examples/ledger-example.csv" in on_disk
    missing = sorted(on_disk - wheel_files(built[0]))
    assert missing == [], f"files on disk but not in {built[0].name}: {missing}"


def test_the_sdist_holds_every_file_and_the_tests(built: tuple[Path, Path]) -> None:
    in_sdist = sdist_files(built[1])
    missing = sorted(package_files(SOURCE_ROOT) - in_sdist)
    assert missing == [], f"files on disk but not in {built[1].name}: {missing}"
    # The sdist can be tested on its own: the suite and its data files travel with it.
    assert {"pyproject.toml", "tests/conftest.py", "tests/data/plan.toml"} <= in_sdist


def test_the_wheel_carries_no_caches_or_tests(built: tuple[Path, Path]) -> None:
    names = wheel_files(built[0])
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert {n.split("/")[0] for n in names} == set(PACKAGES)


def test_the_installed_package_is_tested() -> None:
    """Under .ci/run's installed run, every package comes from site-packages."""
    locations = {m.__name__: Path(m.__file__ or "").resolve() for m in (fundtracker, ui, resources)}
    print("testing", locations)  # shown by -rA / on failure: where the code under test lives
    if not os.environ.get("FUNDTRACKER_TEST_INSTALLED"):
        pytest.skip("run by .ci/run against the installed wheel (FUNDTRACKER_TEST_INSTALLED)")
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    for name, location in locations.items():
        assert location.is_relative_to(site), f"{name} imported from {location}, not {site}"
        # (.ci/run's venv is build/ci/venv, inside the checkout: compare with the package.)
        source = (SOURCE_ROOT / name).resolve()
        assert not location.is_relative_to(source), f"{name} imported from the checkout"


def test_the_version_is_the_one_in_pyproject(capsys: pytest.CaptureFixture[str]) -> None:
    project = tomllib.loads((SOURCE_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert fundtracker.__version__ == project["project"]["version"]
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"fundtracker-cli {project['project']['version']}\n"
