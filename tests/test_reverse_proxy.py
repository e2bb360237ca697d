"""The reverse proxy the v25.02 end-to-end variant runs behind: it hides APP_URL in redirects, not in bodies."""

from __future__ import annotations

from bookstack_sync.bookstack import BookStackClient
from tests.fake_bookstack import FakeBookStack
from tests.reverse_proxy import ReverseProxy


def test_redirects_name_the_proxy_and_bodies_keep_app_url() -> None:
    with (
        FakeBookStack(version="v25.02.4") as fake,
        ReverseProxy(fake.base_url, fake.app_url) as proxy,
        BookStackClient(proxy.url, fake.token_id, fake.token_secret, rate_limit=0) as client,
    ):
        assert fake.app_url not in (fake.base_url, proxy.url)
        book = client.create("books", {"name": "Guide"})
        page = client.create("pages", {"book_id": book["id"], "name": "Intro", "markdown": "Hi."})
        redirect = client.fetch_web(f"/link/{page['id']}")
        assert redirect.status_code == 302
        assert redirect.headers["Location"] == f"{proxy.url}/books/guide/page/intro"  # nginx's proxy_redirect
        assert proxy.rewritten == 1
        contents = client.read("books", int(book["id"]))["contents"]
        assert contents[0]["url"] == f"{fake.app_url}/books/guide/page/intro"  # the body as BookStack wrote it
        assert client.system() is None
        assert [r.path for r in fake.requests][-2:] == ["/api/books/1", "/api/system"]
