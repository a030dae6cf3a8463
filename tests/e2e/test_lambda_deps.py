"""Dependency installation for functions: requirements.txt and package.json installed into a
cached per-function environment keyed by the file's hash, with progress shown and a clear error
when the install fails. Uses its own cache (STRATUS_CACHE_DIR in a temporary folder) and packages
built here (a wheel, an npm tarball), so nothing is fetched from a registry."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from lambda_support import LambdaServer, copy_app, invoke, lambda_client, wait_until

pytestmark = pytest.mark.stratus_only

INSTALL_TIMEOUT_S = 120.0


def build_wheel(directory: Path, version: str) -> Path:
    """A pure-Python wheel of module ``e2e_dep`` whose VERSION is ``version``."""
    name = f"e2e_dep-{version}-py3-none-any.whl"
    dist_info = f"e2e_dep-{version}.dist-info"
    files = {
        "e2e_dep/__init__.py": f'VERSION = "{version}"\n',
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: e2e-dep\nVersion: {version}\n",
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / name
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def build_npm_tarball(directory: Path, version: str) -> Path:
    """An npm package tarball of ``e2e-node-dep`` exporting ``version``."""
    tarball = directory / f"e2e-node-dep-{version}.tgz"
    files = {
        "package/package.json": json.dumps({"name": "e2e-node-dep", "version": version, "main": "index.js"}),
        "package/index.js": f"module.exports = {{ version: {json.dumps(version)} }};\n",
    }
    with tarfile.open(tarball, "w:gz") as archive:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return tarball


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict:
    directory = tmp_path_factory.mktemp("packages")
    return {
        "wheel1": build_wheel(directory, "1.0.0"),
        "wheel2": build_wheel(directory, "2.0.0"),
        "npm": build_npm_tarball(directory, "3.1.4"),
    }


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("stratus-cache")


def make_app(destination: Path, packages: dict) -> Path:
    app = copy_app("deps", destination)
    (app / "pydeps" / "requirements.txt").write_text(f"# built by the test\n{packages['wheel1']}\n")
    (app / "pybad" / "requirements.txt").write_text(f"{destination}/no_such_package-9.9.9-py3-none-any.whl\n")
    (app / "nodedeps" / "package.json").write_text(json.dumps(
        {"name": "nodedeps", "version": "1.0.0", "private": True,
         "dependencies": {"e2e-node-dep": f"file:{packages['npm']}"}}))
    return app


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory, packages) -> Path:
    return make_app(tmp_path_factory.mktemp("deps-app") / "deps", packages)


@pytest.fixture(scope="module")
def server(app_dir, cache_dir):
    srv = LambdaServer(app_dir, env={"STRATUS_CACHE_DIR": str(cache_dir)})
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def lam(server):
    return lambda_client(server.endpoint, read_timeout=INSTALL_TIMEOUT_S)


def _installing(server, function: str, what: str) -> list[str]:
    return [line for line in server.lines() if line.startswith(f"[{function}] Installing {what}")]


def test_requirements_are_installed_into_the_cache_with_progress(lam, server, cache_dir):
    r = invoke(lam, "PyDeps", {})
    assert "FunctionError" not in r, r["payload"]
    assert r["payload"]["version"] == "1.0.0"
    installed_in = Path(r["payload"]["file"]).resolve()
    assert str(installed_in).startswith(str(cache_dir.resolve())), installed_in
    assert len(_installing(server, "PyDeps", "requirements.txt")) == 1, server.output()[-2000:]
    assert any(line.startswith("[PyDeps] Installed requirements.txt") for line in server.lines())
    # A second invocation installs nothing again.
    assert invoke(lam, "PyDeps", {})["payload"]["file"] == r["payload"]["file"]
    assert len(_installing(server, "PyDeps", "requirements.txt")) == 1


def test_a_changed_requirements_file_gets_its_own_environment(lam, server, app_dir, packages):
    first = invoke(lam, "PyDeps", {})["payload"]
    (app_dir / "pydeps" / "requirements.txt").write_text(f"{packages['wheel2']}\n")

    def updated():
        p = invoke(lam, "PyDeps", {})["payload"]
        return p if p.get("version") == "2.0.0" else None

    second = wait_until(updated, INSTALL_TIMEOUT_S, interval=0.3, message="the new requirements")
    old_env = Path(first["file"]).parent.parent
    new_env = Path(second["file"]).parent.parent
    assert new_env != old_env, "the environment is keyed by the requirements file's hash"
    assert old_env.is_dir() and new_env.is_dir()


def test_failed_install_is_a_clear_function_error(lam):
    r = invoke(lam, "PyBadDeps", {})
    assert r["FunctionError"] == "Unhandled"
    message = r["payload"]["errorMessage"]
    assert "requirements.txt" in message and "PyBadDeps" in message, message
    assert "no_such_package" in message, message  # what pip said about it
    again = invoke(lam, "PyBadDeps", {})
    assert again["FunctionError"] == "Unhandled"


def test_a_fixed_requirements_file_is_installed_without_a_restart(lam, server, app_dir, packages):
    """The failure stands only until the file changes: fixing it makes the function run."""
    bad = app_dir / "pybad" / "requirements.txt"
    original = bad.read_text()
    assert invoke(lam, "PyBadDeps", {})["FunctionError"] == "Unhandled"
    bad.write_text(f"{packages['wheel1']}\n")
    try:
        def fixed():
            r = invoke(lam, "PyBadDeps", {})
            return r if "FunctionError" not in r else None

        r = wait_until(fixed, INSTALL_TIMEOUT_S, interval=0.3, message="the fixed requirements")
        assert r["payload"]["version"] == "1.0.0", r["payload"]
    finally:
        bad.write_text(original)


def test_package_json_dependencies_are_installed(lam, server, cache_dir):
    r = invoke(lam, "NodeDeps", {})
    assert "FunctionError" not in r, r["payload"]
    assert r["payload"]["version"] == "3.1.4"
    assert Path(r["payload"]["file"]).resolve().is_relative_to(cache_dir.resolve())
    assert len(_installing(server, "NodeDeps", "package.json")) == 1


def test_installs_are_reused_by_the_next_server(tmp_path, packages, cache_dir, server, lam):
    invoke(lam, "PyDeps", {})  # make sure the first server installed the 1.0.0 environment once
    app = make_app(tmp_path / "deps", packages)
    (app / "pydeps" / "requirements.txt").write_text(f"# built by the test\n{packages['wheel1']}\n")
    second = LambdaServer(app, env={"STRATUS_CACHE_DIR": str(cache_dir)})
    try:
        second.start()
        client = lambda_client(second.endpoint, read_timeout=INSTALL_TIMEOUT_S)
        r = invoke(client, "PyDeps", {})
        assert r["payload"]["version"] == "1.0.0"
        assert _installing(second, "PyDeps", "requirements.txt") == [], "the cached install is reused"
    finally:
        second.stop()
