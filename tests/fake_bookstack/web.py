"""The few web (non-API) routes tests need so links, images and attachments resolve (no login: public)."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from .wire import Request, Response, html_response, web_not_found

if TYPE_CHECKING:
    from .api import Api
    from .state import Store

MIME_BY_EXTENSION = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}


def web_response(store: Store, api: Api, request: Request) -> Response:
    """The few web routes tests need so links and images resolve (no login: the fake is public)."""
    if request.method not in ("GET", "HEAD"):
        return html_response(405, "<h1>Method Not Allowed</h1>", [("Allow", "GET, HEAD")])
    path = request.path
    if match := re.fullmatch(r"/link/(\d+)(#.*)?", path):
        page = store.pages.get(int(match.group(1)))
        if page is None:
            return web_not_found()
        return Response(302, b"", [("Location", api.page_url(page))])
    if match := re.fullmatch(r"/books/([^/]+)(?:/(page|chapter)/([^/]+))?", path):
        book = next((b for b in store.books.values() if b.slug == match.group(1)), None)
        if book is None:
            return web_not_found()
        if match.group(2) == "page":
            page = next((p for p in store.pages.values() if p.book_id == book.id and p.slug == match.group(3)), None)
            return _html_page(page.name, page.html) if page else web_not_found()
        if match.group(2) == "chapter":
            chapter = next(
                (c for c in store.chapters.values() if c.book_id == book.id and c.slug == match.group(3)), None
            )
            return _html_page(chapter.name, chapter.description_html) if chapter else web_not_found()
        return _html_page(book.name, book.description_html)
    if match := re.fullmatch(r"/shelves/([^/]+)", path):
        shelf = next((s for s in store.shelves.values() if s.slug == match.group(1)), None)
        return _html_page(shelf.name, shelf.description_html) if shelf else web_not_found()
    if path.startswith("/uploads/images/"):
        original = re.sub(r"/(thumbs-150-150|scaled-1680-)/", "/", path)
        image = next((i for i in store.images.values() if i.path == original), None)
        if image is None:
            return web_not_found()
        mime = MIME_BY_EXTENSION.get(image.path.rsplit(".", 1)[-1].lower(), "application/octet-stream")
        return Response(200, image.data, [("Content-Type", mime)])
    if match := re.fullmatch(r"/attachments/(\d+)", path):
        att = store.attachments.get(int(match.group(1)))
        if att is None:
            return web_not_found()
        if att.external:
            return Response(302, b"", [("Location", att.link)])
        filename = att.name if "." in att.name or not att.extension else f"{att.name}.{att.extension}"
        return Response(
            200,
            att.data,
            [
                ("Content-Type", "application/octet-stream"),
                ("Content-Disposition", f'attachment; filename="{filename}"'),
            ],
        )
    if path in ("", "/"):
        return _html_page("BookStack", "<p>Fake BookStack</p>")
    return web_not_found()


def _html_page(title: str, body: str) -> Response:
    return html_response(
        200,
        f"<!DOCTYPE html>\n<html><head><title>{html.escape(title)} | BookStack</title></head>\n<body>{body}</body></html>\n",
    )
