"""Images and attachments end to end: uploaded once, reused while unchanged, replaced in place when changed."""

from __future__ import annotations

import re

from bookstack_sync.plan.remote import wiki_address
from tests import images
from tests.bookstack_target import BookStackTarget, also_before_system_api

from .conftest import MANAGED_TAG, Docs, Plugin, managed_objects


def png(colour: tuple[int, int, int]) -> bytes:
    return images.png(colour)


def with_assets(docs: Docs) -> None:
    folder = docs.path("eng/ops/runbooks")
    (folder / "img").mkdir(parents=True, exist_ok=True)
    (folder / "img" / "before.png").write_bytes(png((200, 30, 30)))
    (folder / "img" / "after.png").write_bytes(png((30, 200, 30)))
    (folder / "checklist.pdf").write_bytes(b"%PDF-1.4\n% a tiny checklist\n%%EOF\n")
    docs.page(
        "eng/ops/runbooks/01-restart.md",
        "Restart",
        "Before:\n\n![before](img/before.png)\n\nAfter:\n\n![after](img/after.png)\n\n"
        "Print the [checklist](checklist.pdf).\n",
    )


def restart_page(target: BookStackTarget, docs: Docs) -> dict[str, object]:
    key = docs.key("eng/ops/runbooks/01-restart.md")
    for hit in managed_objects(target, docs.prefix):
        if {"name": MANAGED_TAG, "value": key} in [{"name": t["name"], "value": t["value"]} for t in hit["tags"]]:
            return target.client().read("pages", int(hit["id"]))
    raise AssertionError("page not synced")


@also_before_system_api
def test_images_and_attachments_are_uploaded_and_linked(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    with_assets(docs)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    page = restart_page(bookstack, docs)
    markdown = str(page["markdown"])
    assert "img/before.png" not in markdown and "checklist.pdf)" not in markdown
    urls = re.findall(r"\]\(([^)\s]+)", markdown)
    assert len(urls) == 3
    # the attachment by its path on the wiki; the images by BookStack's own URLs (from its APP_URL), never
    # built from the address the plugin reached BookStack at (internal in a pipeline, dead for readers)
    assert re.fullmatch(r"/attachments/\d+", urls[2])
    client = bookstack.client()
    app_url = wiki_address(client, int(str(page["id"])))
    assert all(url.startswith(app_url + "/uploads/images/") for url in urls[:2])
    if bookstack.fake is not None:
        assert not any(url.startswith(bookstack.url) for url in urls)  # the fake's APP_URL is another address
    for url in urls:
        assert client.fetch_web(url, allow_redirects=True).status_code == 200
    images = list(client.list("image-gallery", filters={"uploaded_to": int(str(page["id"]))}))
    assert sorted(i["name"] for i in images) == ["img/after.png", "img/before.png"]


def test_unchanged_assets_are_not_uploaded_again(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    with_assets(docs)
    assert plugin.run().exit_code == 0
    fake = bookstack.fake
    if fake is None:
        return
    fake.requests.clear()
    assert plugin.run().exit_code == 0
    assert fake.content_writes() == []
    # the page's text changes, its files do not: one page write, no upload
    docs.page(
        "eng/ops/runbooks/01-restart.md",
        "Restart",
        "Before (edited):\n\n![before](img/before.png)\n\nAfter:\n\n![after](img/after.png)\n\n"
        "Print the [checklist](checklist.pdf).\n",
    )
    fake.requests.clear()
    assert plugin.run().exit_code == 0
    assert [f"{w.method} {w.path.rsplit('/', 1)[0]}" for w in fake.content_writes()] == ["PUT /api/pages"]


def test_changing_one_image_replaces_only_that_image(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    with_assets(docs)
    assert plugin.run().exit_code == 0
    before = restart_page(bookstack, docs)
    docs.path("eng/ops/runbooks/img/after.png").write_bytes(png((30, 30, 200)))
    fake = bookstack.fake
    if fake is not None:
        fake.requests.clear()
    assert plugin.run().exit_code == 0
    after = restart_page(bookstack, docs)
    assert after["id"] == before["id"]
    assert after["markdown"] == before["markdown"]  # replaced in place: the image URL stays the same
    if fake is not None:
        writes = [f"{w.method} {w.path}" for w in fake.content_writes()]
        assert len(writes) == 2, writes
        assert writes[0].startswith("PUT /api/image-gallery/")
        assert writes[1].startswith("PUT /api/pages/")
        image_id = int(writes[0].rsplit("/", 1)[1])
        assert fake.state.images[image_id].name == "img/after.png"


def test_an_asset_with_a_long_path_is_recorded_within_191_characters(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    # its record tag (sha and path) would be over 191 characters: written as the path's head and a hash
    name = "diagram-" + "d" * (185 - len(docs.key("eng/ops/runbooks/img/")) - len("diagram-.png")) + ".png"
    folder = docs.path("eng/ops/runbooks/img")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(png((10, 20, 30)))
    docs.page("eng/ops/runbooks/01-restart.md", "Restart", f"![diagram](img/{name})\n")
    assert plugin.run().exit_code == 0
    tags = [t for t in restart_page(bookstack, docs)["tags"] if t["name"] == "bookstack-sync-asset"]  # type: ignore[index]
    assert len(tags) == 1 and len(tags[0]["value"]) <= 191
    fake = bookstack.fake
    if fake is None:
        return
    # the page's text changes, the file does not: recognised from its record, so not uploaded again
    docs.page("eng/ops/runbooks/01-restart.md", "Restart", f"Edited.\n\n![diagram](img/{name})\n")
    fake.requests.clear()
    assert plugin.run().exit_code == 0
    assert [f"{w.method} {w.path.rsplit('/', 1)[0]}" for w in fake.content_writes()] == ["PUT /api/pages"]
