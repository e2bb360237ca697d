"""The plan where reviewers look: one pull-request comment, kept up to date on every push.

On a pull-request pipeline with a ``forge_token``, the Markdown summary (the same text as the summary
file) is posted as a comment on the pull request: Gitea and Forgejo (one API), GitHub and GitHub
Enterprise, GitLab merge-request notes. The forge, the repository and the pull request come from
Woodpecker's variables (``pipeline/frontend/metadata/environment.go``): ``CI_FORGE_TYPE`` (``github``,
``gitea``, ``forgejo``, ``gitlab``, ``bitbucket``, ``bitbucket-dc``), ``CI_FORGE_URL``, ``CI_REPO``
(owner/name), ``CI_REPO_REMOTE_ID`` (GitLab's project id), ``CI_COMMIT_PULL_REQUEST`` (the number).

There is one comment per pull request: the plugin's earlier comment is found by the hidden marker its
summary ends with and edited in place, so a pull request never collects a stream of comments. A
comment that cannot be posted (a token without the right, a wrong address, the network) is a warning:
the comment is a convenience, the pipeline's result does not depend on it. The token travels only in
a request header to the forge's own host (no redirects are followed, pagination links to another
host are refused) and is redacted from the log like the BookStack token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from .. import __version__
from ..settings import CommentMode, Settings

__all__ = [
    "COMMENT_EVENTS",
    "CommentOutcome",
    "ForgeKind",
    "PullRequest",
    "comment_on_pull_request",
    "wants_comment",
]

COMMENT_EVENTS = frozenset({"pull_request", "pull_request_metadata"})
"""The events whose pipelines plan a pull request (``pull_request_closed`` only validates)."""

_MAX_PAGES = 50  # 5,000 comments at 100 a page: far beyond any pull request a person reads


class ForgeKind(StrEnum):
    """The values of ``CI_FORGE_TYPE`` this module can comment on (``server/model/forge.go``)."""

    GITHUB = "github"
    GITEA = "gitea"
    FORGEJO = "forgejo"
    GITLAB = "gitlab"


class _ForgeRefused(Exception):
    """An answer from the forge that ends the attempt to comment; the message says what to do."""


@dataclass(frozen=True)
class PullRequest:
    """Where the comment goes: the forge's API, the repository and the pull request number."""

    forge: ForgeKind
    web_url: str  # CI_FORGE_URL without a trailing slash
    repo: str  # owner/name (GitLab: the full namespace path)
    number: int
    project: str = ""  # GitLab: the project id, or the URL-encoded path

    @property
    def api(self) -> str:
        if self.forge is ForgeKind.GITHUB:
            # github.com has its own API host; Enterprise serves it under /api/v3 (server/forge/github/github.go)
            host = urlsplit(self.web_url).hostname or ""
            return "https://api.github.com" if host in ("github.com", "www.github.com") else f"{self.web_url}/api/v3"
        if self.forge is ForgeKind.GITLAB:
            return f"{self.web_url}/api/v4"
        return f"{self.web_url}/api/v1"

    @property
    def comments_url(self) -> str:
        if self.forge is ForgeKind.GITLAB:
            return f"{self.api}/projects/{self.project}/merge_requests/{self.number}/notes"
        return f"{self.api}/repos/{self.repo}/issues/{self.number}/comments"

    def comment_url(self, comment_id: int) -> str:
        if self.forge is ForgeKind.GITLAB:
            return f"{self.comments_url}/{comment_id}"
        return f"{self.api}/repos/{self.repo}/issues/comments/{comment_id}"

    @property
    def edit_method(self) -> str:
        return "PUT" if self.forge is ForgeKind.GITLAB else "PATCH"

    @property
    def list_params(self) -> dict[str, str]:
        # Gitea and Forgejo return every comment of an issue at once; GitHub and GitLab page them
        if self.forge is ForgeKind.GITLAB:
            return {"per_page": "100", "sort": "asc", "order_by": "created_at"}
        if self.forge is ForgeKind.GITHUB:
            return {"per_page": "100"}
        return {}

    def headers(self, token: str) -> dict[str, str]:
        common = {"User-Agent": f"bookstack-sync/{__version__}", "Accept": "application/json"}
        if self.forge is ForgeKind.GITLAB:
            return {**common, "PRIVATE-TOKEN": token}
        if self.forge is ForgeKind.GITHUB:
            return {
                **common,
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "Authorization": f"Bearer {token}",
            }
        return {**common, "Authorization": f"token {token}"}

    def link_to(self, comment: Mapping[str, Any]) -> str:
        url = comment.get("html_url")
        if isinstance(url, str) and url:
            return url
        if self.forge is ForgeKind.GITLAB:
            return f"{self.web_url}/{self.repo}/-/merge_requests/{self.number}#note_{comment.get('id')}"
        return f"{self.web_url}/{self.repo}/pulls/{self.number}"

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> PullRequest:
        """The pull request of this pipeline, from Woodpecker's ``CI_*`` variables; raises with what is missing."""
        kind = env.get("CI_FORGE_TYPE", "").strip().lower()
        if not kind:
            raise _ForgeRefused("CI_FORGE_TYPE is not set: not a Woodpecker pipeline, or a Woodpecker older than 2.0")
        try:
            forge = ForgeKind(kind)
        except ValueError:
            known = ", ".join(k.value for k in ForgeKind)
            raise _ForgeRefused(f"commenting on {kind} is not supported (supported: {known})") from None
        web_url = env.get("CI_FORGE_URL", "").strip().rstrip("/")
        repo = env.get("CI_REPO", "").strip().strip("/")
        number = env.get("CI_COMMIT_PULL_REQUEST", "").strip()
        missing = [
            name
            for name, value in (("CI_FORGE_URL", web_url), ("CI_REPO", repo), ("CI_COMMIT_PULL_REQUEST", number))
            if not value
        ]
        if missing:
            raise _ForgeRefused(f"{', '.join(missing)} not set: cannot tell which pull request to comment on")
        if not number.isdigit():
            raise _ForgeRefused(f"CI_COMMIT_PULL_REQUEST={number!r} is not a pull request number")
        if urlsplit(web_url).scheme not in ("http", "https"):
            raise _ForgeRefused(f"CI_FORGE_URL={web_url!r} is not an http(s) address")
        remote_id = env.get("CI_REPO_REMOTE_ID", "").strip()
        project = remote_id if remote_id.isdigit() else quote(repo, safe="")
        return cls(forge, web_url, repo, int(number), project)


@dataclass(frozen=True)
class CommentOutcome:
    """What happened to the comment, for one log line: ``ok`` false is a warning, never a failure."""

    ok: bool
    message: str


def wants_comment(settings: Settings, env: Mapping[str, str]) -> bool:
    """``comment: auto`` comments when a forge token is given and the pipeline is a pull request's."""
    return (
        settings.comment is CommentMode.AUTO
        and bool(settings.forge_token)
        and env.get("CI_PIPELINE_EVENT", "") in COMMENT_EVENTS
    )


def comment_on_pull_request(
    body: str, marker: str, settings: Settings, env: Mapping[str, str], *, earlier: Sequence[str] = ()
) -> CommentOutcome:
    """Create the pull request's comment, or edit the one holding ``marker`` (else one holding a marker an
    earlier version wrote, ``earlier``); never raises for the forge's sake."""
    assert settings.forge_token
    try:
        pull = PullRequest.from_environ(env)
    except _ForgeRefused as exc:
        return CommentOutcome(False, f"no pull-request comment: {exc}")
    with requests.Session() as session:
        session.headers.update(pull.headers(settings.forge_token))
        forge = _Forge(session, pull, settings.timeout, settings.verify)
        try:
            return forge.publish(body, marker, earlier)
        except _ForgeRefused as exc:
            return CommentOutcome(False, f"no pull-request comment: {exc} (the pipeline's result is unchanged)")
        except requests.RequestException as exc:
            host = urlsplit(pull.api).netloc
            return CommentOutcome(
                False,
                f"no pull-request comment: could not reach {pull.forge.value} at {host}: {_why(exc)} "
                "(the pipeline's result is unchanged)",
            )


def _why(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS verification failed (set `ca_cert` to the forge's CA bundle)"
    return type(exc).__name__


class _Forge:
    def __init__(
        self, session: requests.Session, pull: PullRequest, timeout: tuple[float, float], verify: bool | str
    ) -> None:
        self._session = session
        self._pull = pull
        self._timeout = timeout
        self._verify = verify

    def publish(self, body: str, marker: str, earlier: Sequence[str] = ()) -> CommentOutcome:
        where = f"{self._pull.repo}#{self._pull.number}"
        existing: Mapping[str, Any] | None = None
        for comment in self._comments():
            if _holds(comment, marker):
                existing = comment
                break
            if existing is None and any(_holds(comment, old) for old in earlier if old != marker):
                existing = comment  # taken over unless a comment with the marker itself comes later
        if existing is None:
            created = self._call("POST", self._pull.comments_url, json={"body": body})
            return CommentOutcome(True, f"commented on pull request {where}: {self._pull.link_to(created)}")
        if str(existing.get("body", "")).replace("\r\n", "\n") == body:
            return CommentOutcome(True, f"pull request {where}: the comment is up to date")
        edited = self._call(self._pull.edit_method, self._pull.comment_url(int(existing["id"])), json={"body": body})
        return CommentOutcome(True, f"updated the comment on pull request {where}: {self._pull.link_to(edited)}")

    def _comments(self) -> Iterator[Mapping[str, Any]]:
        url: str | None = self._pull.comments_url
        params: dict[str, str] | None = self._pull.list_params
        api_host = urlsplit(self._pull.api).netloc
        for _page in range(_MAX_PAGES):
            if url is None:
                return
            response = self._send("GET", url, params=params)
            items = _json(response)
            if not isinstance(items, list):
                raise _ForgeRefused(f"the comment list of {self._pull.repo}#{self._pull.number} is not a list")
            for item in items:
                if isinstance(item, dict) and not item.get("system"):  # GitLab's "added 1 commit" notes
                    yield item
            url, params = response.links.get("next", {}).get("url"), None  # the next link carries the query
            if url is not None and urlsplit(url).netloc != api_host:
                raise _ForgeRefused(f"the forge's next page points at another host ({urlsplit(url).netloc})")

    def _call(self, method: str, url: str, *, json: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = _json(self._send(method, url, json=json))
        return answer if isinstance(answer, dict) else {}

    def _send(
        self, method: str, url: str, *, params: Mapping[str, str] | None = None, json: Any = None
    ) -> requests.Response:
        # verify on each request: a session's verify loses to REQUESTS_CA_BUNDLE from the environment
        response = self._session.request(
            method, url, params=params, json=json, timeout=self._timeout, verify=self._verify, allow_redirects=False
        )
        if response.status_code >= 300:
            raise _ForgeRefused(self._refusal(response))
        return response

    def _refusal(self, response: requests.Response) -> str:
        status = response.status_code
        where = f"{self._pull.repo}#{self._pull.number}"
        forge = self._pull.forge
        if status == 401:
            return f"{forge.value} refused the forge_token (401): check that the secret holds a valid token"
        if status == 403:
            return f"{forge.value} does not let the forge_token comment on {where} (403): it needs {_RIGHTS[forge]}"
        if status == 404:
            return (
                f"{forge.value} found no pull request {where} (404): check CI_FORGE_URL ({self._pull.web_url}) and "
                "that the forge_token can see the repository"
            )
        if 300 <= status < 400:
            return f"{forge.value} redirected ({status}) to {response.headers.get('Location', '?')}; not followed"
        return f"{forge.value} answered {status} {response.reason or ''}: {_message(response)}".rstrip(": ")


_RIGHTS: dict[ForgeKind, str] = {
    ForgeKind.GITHUB: "write access to pull requests (fine-grained: 'Pull requests: read and write')",
    ForgeKind.GITEA: "the write:issue scope and read access to the repository",
    ForgeKind.FORGEJO: "the write:issue scope and read access to the repository",
    ForgeKind.GITLAB: "the api scope and at least the Reporter role in the project",
}


def _holds(comment: Mapping[str, Any], marker: str) -> bool:
    """Our comment carries the marker on a line of its own (a quote of it in a reply starts with ``>``)."""
    body = str(comment.get("body") or "")
    return any(line.strip() == marker for line in body.splitlines())


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise _ForgeRefused(f"the forge answered {response.status_code} with something that is not JSON") from None


def _message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return re.sub(r"\s+", " ", response.text)[:200]
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error") or "")[:200]
    return ""
