"""Request parsing and response building the way Laravel/BookStack does it on the wire."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Request:
    method: str  # what Laravel routes on (POST + ``_method=PUT`` -> PUT)
    http_method: str  # what was on the request line
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    input: dict[str, Any]  # query + body, strings trimmed (TrimStrings)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    client_ip: str = "127.0.0.1"  # Laravel's request()->ip(): the address the connection came from


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class ApiError(Exception):
    """Raised by handlers to answer with a ready response (404, 422, 500 ...)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def encode_json(data: Any) -> bytes:
    # PHP's json_encode escapes "/" and non-ASCII by default; clients must not care, but stay faithful.
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


def json_response(status: int, data: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(
        status,
        encode_json(data),
        [("Content-Type", "application/json"), ("Cache-Control", "no-cache, private"), *(headers or [])],
    )


def error_response(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> Response:
    """``Handler::renderApiException``: ``{"error": {"message", "code"}}``."""
    return json_response(status, {"error": {"message": message, "code": status}}, headers)


PERMISSION_MESSAGE = "You do not have permission to perform the requested action."


def plain_permission_error() -> ApiError:
    """The 403 of the import and export APIs (their ``can:`` middleware): a plain-string ``error``, unlike
    every other 403's ``{"message", "code"}`` (transcript 25)."""
    return ApiError(json_response(403, {"error": PERMISSION_MESSAGE}))


def api_error(status: int, message: str) -> ApiError:
    return ApiError(error_response(status, message))


def validation_error(errors: dict[str, list[str]]) -> ApiError:
    body = {"error": {"message": "The given data was invalid.", "validation": errors, "code": 422}}
    return ApiError(json_response(422, body))


def json_error(message: str, status: int = 500) -> ApiError:
    """``Controller::jsonError``: the odd ``{"message", "status": "error"}`` shape (§6)."""
    return ApiError(json_response(status, {"message": message, "status": "error"}))


def model_not_found(model: str, ident: Any) -> ApiError:
    """Laravel ``findOrFail``: ``No query results for model [BookStack\\...] <id>``."""
    return api_error(404, f"No query results for model [{model}] {ident}")


NOT_FOUND_HTML = """<!DOCTYPE html>
<html lang="en-GB" dir="ltr" class="">
<head>
    <title>BookStack</title>
    <meta charset="utf-8">
</head>
<body class="">
    <div id="content" components="" class="block">
        <div class="container mt-l">
            <div class="card mb-xl px-l pb-l pt-l">
                <h1 class="list-heading">Page Not Found</h1>
                <h5>Sorry, The page you were looking for could not be found.</h5>
                <p>If you expected this page to exist, you might not have permission to view it.</p>
            </div>
        </div>
    </div>
</body>
</html>
"""


def html_response(status: int, body: str, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, body.encode(), [("Content-Type", "text/html; charset=UTF-8"), *(headers or [])])


def web_not_found() -> Response:
    """The web fallback route's 404 page (``MetaController::notFound``), also used for unknown GET /api paths."""
    return html_response(404, NOT_FOUND_HTML)


# ------------------------------------------------------------------------------------------- parsing


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {key: _listify(item) for key, item in value.items()}
        if converted and all(key.isdigit() for key in converted):
            return [converted[key] for key in sorted(converted, key=int)]
        return converted
    return value


def php_nest(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """PHP's form decoding: ``tags[0][name]=x`` -> ``{"tags": [{"name": "x"}]}``, ``books[]=1`` appends."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
        if not match:
            root[key] = value
            continue
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for index, part in enumerate(parts):
            if part == "":
                part = str(len(node))
            if index == len(parts) - 1:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    return {key: _listify(value) for key, value in root.items()}


def trim_strings(value: Any) -> Any:
    """Laravel TrimStrings middleware: every input string loses leading and trailing whitespace."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return [trim_strings(item) for item in value]
    if isinstance(value, dict):
        return {key: trim_strings(item) for key, item in value.items()}
    return value


def parse_multipart(content_type: str, body: bytes) -> tuple[list[tuple[str, Any]], dict[str, UploadedFile]]:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        return [], {}
    boundary = b"--" + match.group(1).encode()
    fields: list[tuple[str, Any]] = []
    files: dict[str, UploadedFile] = {}
    for chunk in body.split(boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n")
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        data = data.removesuffix(b"\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, val = line.partition(":")
            headers[name.strip().lower()] = val.strip()
        disposition = headers.get("content-disposition", "")
        name_match = re.search(r'\bname="([^"]*)"', disposition)
        if not name_match:
            continue
        file_match = re.search(r'filename="([^"]*)"', disposition)
        if file_match is not None:
            files[name_match.group(1)] = UploadedFile(
                file_match.group(1), headers.get("content-type", "application/octet-stream"), data
            )
        else:
            fields.append((name_match.group(1), data.decode("utf-8", "replace")))
    return fields, files


def parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Body -> (input, files). Invalid JSON is silently an empty input (transcript 06)."""
    lowered = content_type.lower()
    if "json" in lowered:
        try:
            data = json.loads(body.decode("utf-8")) if body else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            return {}, {}
        return (data if isinstance(data, dict) else {}), {}
    if lowered.startswith("multipart/form-data"):
        fields, files = parse_multipart(content_type, body)
        return php_nest(fields), files
    if lowered.startswith("application/x-www-form-urlencoded"):
        return php_nest(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)), {}
    return {}, {}
