"""The multipart requests: images and attachments onto a page, and ZIP imports (v25.07+). Mixed into
:class:`~bookstack_sync.bookstack.client.BookStackClient`, whose single request path sends them."""

from __future__ import annotations

import mimetypes
from typing import Any


class UploadRequests:
    def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError  # BookStackClient's single request path

    @staticmethod
    def _file(filename: str, data: bytes) -> tuple[str, bytes, str]:
        mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return (filename, data, mime)

    def upload_image(self, page_id: int, filename: str, data: bytes, *, name: str | None = None) -> dict[str, Any]:
        """POST /api/image-gallery (multipart, type=gallery) onto a page; the page must exist (``ImageGalleryApiController``)."""
        form = {"type": "gallery", "uploaded_to": str(int(page_id))}
        if name is not None:
            form["name"] = name
        return self._object("POST", "/api/image-gallery", form=form, files={"image": self._file(filename, data)})

    def replace_image(self, image_id: int, filename: str, data: bytes, *, name: str | None = None) -> dict[str, Any]:
        """Replace an image's file: PHP can't parse multipart PUT bodies, so POST with ``_method=PUT``
        (Laravel reads no files from a PUT body). The new file must be of the same type as the old one."""
        form = {"_method": "PUT"}
        if name is not None:
            form["name"] = name
        return self._object(
            "POST",
            f"/api/image-gallery/{int(image_id)}",
            form=form,
            files={"image": self._file(filename, data)},
            retry_as="PUT",
        )

    def create_attachment(
        self,
        page_id: int,
        name: str,
        *,
        filename: str | None = None,
        data: bytes | None = None,
        link: str | None = None,
    ) -> dict[str, Any]:
        """A file (multipart) or a link (JSON) attachment on a page; exactly one of ``data``/``link``."""
        if (data is None) == (link is None):
            raise ValueError("give exactly one of data (a file) or link")
        if link is not None:
            payload = {"name": name, "uploaded_to": int(page_id), "link": link}
            return self._object("POST", "/api/attachments", json_body=payload)
        assert data is not None
        form = {"name": name, "uploaded_to": str(int(page_id))}
        return self._object("POST", "/api/attachments", form=form, files={"file": self._file(filename or name, data)})

    def update_attachment(
        self,
        attachment_id: int,
        *,
        name: str | None = None,
        filename: str | None = None,
        data: bytes | None = None,
        link: str | None = None,
    ) -> dict[str, Any]:
        """Rename, re-point or replace an attachment. A new file goes as multipart POST + ``_method=PUT``."""
        if data is not None and link is not None:
            raise ValueError("give at most one of data (a file) or link")
        path = f"/api/attachments/{int(attachment_id)}"
        if data is not None:
            form = {"_method": "PUT"}
            if name is not None:
                form["name"] = name
            return self._object(
                "POST",
                path,
                form=form,
                files={"file": self._file(filename or name or "file", data)},
                retry_as="PUT",
            )
        payload: dict[str, Any] = {}
        if name is not None:
            payload["name"] = name
        if link is not None:
            payload["link"] = link
        return self._object("PUT", path, json_body=payload)

    def upload_import(self, filename: str, data: bytes) -> dict[str, Any]:
        """POST /api/imports, multipart field ``file`` (v25.07+, ``ImportApiController``). Creates nothing yet."""
        return self._object("POST", "/api/imports", files={"file": (filename, data, "application/zip")})

    def run_import(
        self, import_id: int, *, parent_type: str | None = None, parent_id: int | None = None
    ) -> dict[str, Any]:
        """POST /api/imports/{id}: run a pending import. Chapter/page imports need a parent (book for a
        chapter; book or chapter for a page). Returns the created top-level item (``ImportApiController``)."""
        payload: dict[str, Any] = {}
        if parent_type is not None:
            payload["parent_type"] = parent_type
        if parent_id is not None:
            payload["parent_id"] = int(parent_id)
        return self._object("POST", f"/api/imports/{int(import_id)}", json_body=payload)
