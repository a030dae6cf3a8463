"""The static frontend on the API port (``--static DIR``): files with their Content-Type, ``/`` is
``index.html``, unknown files 404, routes still answer, and no request path leaves the folder
(``..``, encoded dots and slashes, backslashes, symlinks pointing out). Requests go through raw
``http.client`` so the path reaches the server exactly as written. (``Metadata.Stratus.Frontend``
is exercised with the bookshelf example.)

App: ``apps/gateway_static`` — ``site/`` served with ``--static``, and ``GET /api/hello``.
"""

from __future__ import annotations

import os

import pytest

from gateway_support import GatewayServer, copy_app, run_start_failing

SECRET = "TOP-SECRET-outside-the-static-folder"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("gateway-static")
    app = copy_app("gateway_static", base / "app")
    (app / "secret.txt").write_text(SECRET)
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    os.symlink(app / "secret.txt", app / "site" / "link.txt")
    os.symlink(outside, app / "site" / "linkdir")
    return app


@pytest.fixture(scope="module")
def server(app):
    srv = GatewayServer(app, ["--static", str(app / "site")])
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.parametrize(
    "path, file, content_type",
    [
        ("/", "index.html", "text/html"),
        ("/index.html", "index.html", "text/html"),
        ("/app.js", "app.js", "text/javascript"),
        ("/style.css", "style.css", "text/css"),
        ("/data.json", "data.json", "application/json"),
        ("/logo.svg", "logo.svg", "image/svg+xml"),
        ("/notes.txt", "notes.txt", "text/plain"),
        ("/sub/", "sub/index.html", "text/html"),
        ("/sub/page.txt", "sub/page.txt", "text/plain"),
        ("/%61pp.js", "app.js", "text/javascript"),
    ],
)
def test_files_are_served_with_their_content_type(server, app, path, file, content_type):
    reply = server.get(path)
    assert reply.status == 200, reply
    assert reply.body == (app / "site" / file).read_bytes()
    media = (reply.header("Content-Type") or "").split(";")[0].strip()
    assert media == content_type, reply.header("Content-Type")


def test_head_gives_the_headers_without_the_body(server):
    reply = server.request("HEAD", "/app.js")
    assert reply.status == 200, reply
    assert reply.body == b""
    assert (reply.header("Content-Type") or "").startswith("text/javascript")


@pytest.mark.parametrize("path", ["/missing.html", "/sub/missing.txt", "/nope/", "/index.html/x"])
def test_unknown_files_are_404(server, path):
    reply = server.get(path)
    assert reply.status == 404, reply


def test_routes_still_answer_next_to_the_files(server):
    for path in ("/api/hello", "/Prod/api/hello"):
        reply = server.get(path)
        assert reply.status == 200, reply
        assert reply.header("X-Echo-Function") == "EchoFunction"


def test_only_get_and_head_read_files(server):
    reply = server.request("POST", "/index.html", headers=[("Content-Type", "text/plain")], body="x")
    assert reply.status == 403, reply
    assert reply.json() == {"message": "Missing Authentication Token"}


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/sub%2f..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/%2e%2e%5csecret.txt",
        "/.%2e/secret.txt",
        "/link.txt",
        "/linkdir/secret.txt",
        "/linkdir/",
        "//../secret.txt",
        "/%2Fetc%2Fpasswd",
        "/..",
        "/%00/../secret.txt",
    ],
)
def test_no_path_leaves_the_folder(server, path):
    reply = server.get(path)
    assert SECRET.encode() not in reply.body, f"{path} leaked the file outside the folder: {reply}"
    assert b"root:" not in reply.body, f"{path} read /etc/passwd"
    assert reply.status in (400, 403, 404), reply


def test_a_static_folder_that_does_not_exist_is_an_error(app, tmp_path):
    missing = tmp_path / "no-such-folder"
    result = run_start_failing(app, ["--static", str(missing)])
    assert result.returncode != 0
    assert str(missing) in result.stdout + result.stderr, result.stderr
