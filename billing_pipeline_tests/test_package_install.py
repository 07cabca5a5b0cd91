"""The package works installed as a user's pip installs it (a wheel, not this checkout): its migrations, templates
and instance files are package data, read with importlib.resources."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_an_installed_wheel_migrates_the_store(tmp_path: Path):
    # Built from a copy: setuptools builds in the source tree, and the checkout stays as it was.
    source = tmp_path / "source"
    shutil.copytree(PROJECT_ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "data", ".dagster", "build", "*.egg-info", "__pycache__", "billing_pipeline_tests"))
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(source), "-w", str(wheels)],
                   check=True, capture_output=True, timeout=300)
    [wheel] = wheels.glob("smart_billing-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packages = {name.split("/")[0] for name in archive.namelist() if not name.startswith("smart_billing")}
    assert packages == {"billing_pipeline"}  # the tests are not shipped

    # A fresh environment that holds the wheel's files and sees this one's dependencies, but not its editable
    # install of the checkout (a .pth line adds a folder to sys.path without running the .pth files inside it).
    environment = tmp_path / "env"
    venv.create(environment, with_pip=False)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(environment), "platbase": str(environment)}))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(purelib)
    (purelib / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    python = environment / "bin" / "python"
    data = tmp_path / "data"
    run = dict(cwd=tmp_path, capture_output=True, text=True, timeout=120,
               env={"BILLING_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"})

    where = subprocess.run([str(python), "-c", "import billing_pipeline; print(billing_pipeline.__file__)"], **run)
    assert where.stdout.strip().startswith(str(purelib)), where.stdout + where.stderr

    upgraded = subprocess.run([str(python), "-m", "billing_pipeline.cli", "db", "upgrade"], **run)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert "applied 0001_initial" in upgraded.stdout
    assert (data / "billing.db").exists()

    rendered = subprocess.run([str(python), "-c", (
        "from importlib.resources import files\n"
        "for folder in ('mail/templates', 'pdf/templates'):\n"
        "    print(folder, sorted(p.name for p in (files('billing_pipeline') / folder).iterdir()))\n"
        "print(files('billing_pipeline').joinpath('workspace.yaml').is_file())")], **run)
    assert rendered.returncode == 0, rendered.stderr
    assert "notice.txt.j2" in rendered.stdout and "boleto.html.j2" in rendered.stdout
    assert rendered.stdout.strip().endswith("True")
