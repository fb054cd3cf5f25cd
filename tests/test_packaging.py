"""The built wheel is the whole application: templates, seed data,
migrations, translations, static files and fonts are inside it, and the
installed package (not this checkout) builds the demo and serves it from
another directory."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # from a copy of the tracked files only: what a fresh clone builds
    src = tmp_path_factory.mktemp("clone") / "credential-track"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(src)], check=True)
    with open(src / "wip.diff", "wb") as diff:
        subprocess.run(["git", "-C", str(ROOT), "diff", "--binary", "HEAD"], check=True, stdout=diff)
    if (src / "wip.diff").stat().st_size:
        subprocess.run(["git", "-C", str(src), "apply", "--whitespace=nowarn", "wip.diff"], check=True)
    for path in subprocess.run(["git", "-C", str(ROOT), "ls-files", "--others", "--exclude-standard"],
                               check=True, capture_output=True, text=True).stdout.split():
        (src / path).parent.mkdir(parents=True, exist_ok=True)
        (src / path).write_bytes((ROOT / path).read_bytes())
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(out), str(src)], check=True)
    [built] = out.glob("credential_track-*.whl")
    return built


def test_the_wheel_holds_templates_seed_migrations_translations_static_and_fonts(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "src/credential_track"], check=True,
                             capture_output=True, text=True).stdout.split()
    wanted = {p.removeprefix("src/") for p in tracked}
    missing = sorted(wanted - names)
    assert missing == [], missing
    for needed in ("credential_track/templates/base.html", "credential_track/seed/stations.csv",
                   "credential_track/migrations/versions/0001_initial_schema.py",
                   "credential_track/translations/zh_Hans_CN/LC_MESSAGES/messages.po"):
        assert needed in names


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_installed_package_builds_the_demo_and_serves_it_from_another_directory(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDTRACK_") and k != "DATABASE_URL"}
    env.update(PYTHONPATH=str(site), CREDTRACK_INSTANCE_PATH=str(tmp_path / "instance"), LANG="C.UTF-8")
    cli = [sys.executable, "-c", "import sys; from credential_track.cli import main; sys.argv[0] = 'credtrack'; main()"]

    where = subprocess.run([sys.executable, "-c", "import credential_track; print(credential_track.__file__)"],
                           cwd=elsewhere, env=env, check=True, capture_output=True, text=True).stdout
    assert where.startswith(str(site)), where  # the installed copy, not this checkout

    demo = subprocess.run(cli + ["demo", "--credentials", "2000"], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "operator-demo-2026" in demo.stdout

    port = _free_port()
    server = subprocess.Popen(cli + ["serve", "--port", str(port), "--workers", "1", "--threads", "2"],
                              cwd=elsewhere, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        body = ""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as resp:
                    body = resp.read().decode()
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(server.stderr.read().decode())
                time.sleep(0.2)
        assert 'name="password"' in body and "登录" in body  # a template, in Chinese
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/track", timeout=5) as resp:
            assert resp.status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stderr.close()
