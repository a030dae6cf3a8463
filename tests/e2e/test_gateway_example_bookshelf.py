"""``examples/bookshelf`` end to end (a copy in a temporary folder): the REST books API (Python
handlers with boto3 on DynamoDB) does create, list, get, update and delete, a missing book is 404,
the HTTP API visitor counter counts, and the frontend named in ``Metadata.Stratus.Frontend`` is
served on the same port.
"""

from __future__ import annotations

import pytest

from gateway_support import FIRST_CALL_TIMEOUT_S, GatewayServer, copy_example


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = copy_example("bookshelf", tmp_path_factory.mktemp("bookshelf") / "bookshelf")
    srv = GatewayServer(app)
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        # The first calls may install boto3 into Stratus's cache (a fresh machine without it).
        assert srv.get("/books", timeout=FIRST_CALL_TIMEOUT_S).status == 200
        yield srv
    finally:
        srv.stop()


def test_prints_the_frontend_and_the_routes(server):
    output = server.output()
    assert f"Mounting ListBooksFunction at {server.api}/books [GET]" in output, output
    assert f"Mounting CreateBookFunction at {server.api}/books [POST]" in output
    assert f"Mounting BookFunction at {server.api}/books/{{id}} [GET, PUT, DELETE]" in output
    assert f"Mounting VisitsFunction at {server.api}/visits [POST]" in output
    assert "Frontend" in output


def test_books_crud(server):
    created = server.post_json("/books", {"title": "Dune", "author": "Frank Herbert", "year": "1965"})
    assert created.status == 201, created
    book = created.json()
    assert book["title"] == "Dune" and book["author"] == "Frank Herbert" and book["year"] == 1965
    book_id = book["id"]

    listed = server.get("/books")
    assert listed.status == 200, listed
    assert book_id in [b["id"] for b in listed.json()["books"]]

    got = server.get(f"/books/{book_id}")
    assert got.status == 200, got
    assert got.json() == book

    updated = server.request("PUT", f"/Prod/books/{book_id}", headers=[("Content-Type", "application/json")],
                             body='{"title": "Dune Messiah", "author": "Frank Herbert", "year": 1969}')
    assert updated.status == 200, updated
    assert updated.json()["title"] == "Dune Messiah" and updated.json()["year"] == 1969
    assert server.get(f"/books/{book_id}").json()["title"] == "Dune Messiah"

    deleted = server.request("DELETE", f"/books/{book_id}")
    assert deleted.status == 204, deleted
    assert deleted.body == b""
    gone = server.get(f"/books/{book_id}")
    assert gone.status == 404, gone
    assert book_id not in [b["id"] for b in server.get("/books").json()["books"]]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_missing_book_is_404(server, method):
    body = '{"title": "x"}' if method == "PUT" else None
    headers = [("Content-Type", "application/json")] if body else []
    reply = server.request(method, "/books/no-such-book", headers=headers, body=body)
    assert reply.status == 404, reply
    assert reply.json() == {"message": "no book no-such-book"}


def test_a_book_needs_a_title(server):
    reply = server.post_json("/books", {"author": "nobody"})
    assert reply.status == 400, reply
    assert reply.json() == {"message": "a book needs a title"}


def test_visits_increment(server):
    first = server.request("POST", "/visits")
    assert first.status == 200, first
    assert first.header("Content-Type") == "application/json"
    count = first.json()["visits"]
    second = server.request("POST", "/visits")
    assert second.json() == {"visits": count + 1}


@pytest.mark.parametrize(
    "path, content_type, marker",
    [
        ("/", "text/html", b"<title>Bookshelf</title>"),
        ("/index.html", "text/html", b"book-form"),
        ("/app.js", "text/javascript", b"/visits"),
        ("/style.css", "text/css", b""),
    ],
)
def test_the_frontend_is_served(server, path, content_type, marker):
    reply = server.get(path)
    assert reply.status == 200, reply
    assert (reply.header("Content-Type") or "").split(";")[0] == content_type
    assert marker in reply.body
