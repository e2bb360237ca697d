"""One run of the plugin: decide the mode, validate, read BookStack, plan, apply, report.

Data flows one way: settings → structure/tree/validation → remote state → plan → apply → report.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from ..apply.context import ApplyContext
from ..apply.record import ReadMark, Synced, apply_riding, can_ride, record_sync
from ..apply.sequence import apply_plan
from ..apply.settle import settle
from ..apply.steps import unreached_outcomes
from ..apply.zipimport import ZipImporter
from ..bookstack import BookStackClient
from ..check.validate import Validation, validate_docs
from ..docs.tree import DocsTree
from ..errors import BookstackSyncError, ExitCode, UsageError
from ..model import ActionKind, EntityKind, Outcome, OutcomeStatus, Plan, RunMode, RunResult
from ..plan.audit import newest_activity
from ..plan.desired import DesiredState, build_desired, desired_keys
from ..plan.edit import Edit, drifted_pages, edited_pages
from ..plan.history import pipeline_files, read_history
from ..plan.make import make_edit_plan, make_plan
from ..plan.planner import check_tree_takeover
from ..plan.probe import Probe, find_record, run_probe
from ..plan.record import docs_digest, file_shares, settings_digest
from ..plan.remote import fetch_remote, wiki_address
from ..plan.treeid import tree_id_for
from ..report.files import ci_context, record_validation, write_reports
from ..report.forge import comment_on_pull_request, wants_comment
from ..report.log import RunLog
from ..report.summary import MarkdownSummary, docs_dir_marker, summary_marker
from ..settings import ImportMode, Mode, OnDrift, Settings
from .session import bookstack_session

# Woodpecker's CI_PIPELINE_EVENT values (pipeline/frontend/metadata/const.go) and what each one does
_EVENT_MODES = {
    "pull_request": RunMode.PLAN,
    "pull_request_metadata": RunMode.PLAN,
    "pull_request_closed": RunMode.VALIDATE,
    "push": RunMode.SYNC,
    "tag": RunMode.SYNC,
    "release": RunMode.SYNC,
    "deployment": RunMode.SYNC,
    "cron": RunMode.SYNC,
    "manual": RunMode.FULL,
}
_PR_EVENTS = {"pull_request", "pull_request_metadata", "pull_request_closed"}


def decide_mode(settings: Settings, env: Mapping[str, str], requested: RunMode | None = None) -> tuple[RunMode, str]:
    """The mode and why: a subcommand, then ``dry_run``, then ``mode``, then the pipeline event."""
    event = env.get("CI_PIPELINE_EVENT", "")
    if requested is not None:
        mode, reason = requested, f"`{requested.value}` command"
    elif settings.mode is not Mode.AUTO:
        mode, reason = RunMode(settings.mode.value), f"mode setting ({settings.mode.value})"
    elif event in _EVENT_MODES:
        mode, reason = _EVENT_MODES[event], f"CI_PIPELINE_EVENT={event}"
    elif event:
        mode, reason = RunMode.VALIDATE, f"CI_PIPELINE_EVENT={event} is not one bookstack-sync knows"
    else:
        mode, reason = RunMode.VALIDATE, "no CI_PIPELINE_EVENT (not in a pipeline): validate only"
    if settings.dry_run and mode in (RunMode.SYNC, RunMode.FULL):
        mode, reason = RunMode.PLAN, reason + ", dry_run"
    return mode, reason


def run_stages(result: RunResult, settings: Settings, env: Mapping[str, str], *, log: RunLog | None = None) -> None:
    """Run the stages for ``result.mode``, filling ``result`` as they go. Invalid docs and failed
    actions set its exit code; anything that stops the run raises (a settings problem, BookStack
    failing, a refusal, a bug) and leaves in ``result`` what was done up to then."""
    mode = result.mode
    started = time.monotonic()
    validation = validate_docs(
        settings.docs_dir, settings.structure_path, ignore=settings.ignore, max_upload_mb=settings.max_upload_mb
    )
    record_validation(result, validation, time.monotonic() - started)
    if validation.failed(settings.strict):
        result.exit_code = ExitCode.INVALID_DOCS
        result.error = "the docs are invalid: nothing was sent to BookStack"
        return
    if mode is RunMode.VALIDATE:
        return
    if not settings.url or not settings.has_token:
        missing = [
            name
            for name, value in (
                ("url", settings.url),
                ("token_id", settings.token_id),
                ("token_secret", settings.token_secret),
            )
            if not value
        ]
        if mode is RunMode.PLAN and env.get("CI_PIPELINE_EVENT") in _PR_EVENTS:
            # Woodpecker hides secrets from pull requests by default: validating is all we can do
            result.messages.append(
                f"plan skipped: no {', '.join(missing)} (secrets are hidden from pull requests by default)"
            )
            return
        raise UsageError(
            f"cannot {mode.value} without {', '.join(missing)}",
            hint="add them to the step's settings (token_id/token_secret with from_secret), "
            "or set BOOKSTACK_URL / BOOKSTACK_TOKEN_ID / BOOKSTACK_TOKEN_SECRET",
        )
    assert validation.structure is not None and validation.tree is not None
    with bookstack_session(settings, read_only=mode is RunMode.PLAN, requests=result.requests) as client:
        result.bookstack_url = client.base_url
        with log.heartbeat(client.activity.snapshot) if log is not None else contextlib.nullcontext():
            _plan_and_apply(settings, env, mode, validation, client, result, log)


def _plan_and_apply(
    settings: Settings,
    env: Mapping[str, str],
    mode: RunMode,
    validation: Validation,
    client: BookStackClient,
    result: RunResult,
    log: RunLog | None,
) -> None:
    assert validation.structure is not None and validation.tree is not None
    tree = validation.tree
    desired = build_desired(validation.structure, tree, publish_drafts=settings.publish_drafts)
    started = time.monotonic()
    tree_id = tree_id_for(settings.tree, settings.docs_dir, env)
    result.tree = tree_id.value
    if log is not None:
        log.info(f"tree {tree_id.value} (from the {tree_id.derived_from})")
    shares = file_shares(settings.docs_dir, skip=_outputs(settings, env))
    digest = docs_digest(shares, _shaping(settings))
    probe, why = _probe(client, mode, digest, tree_id.value)
    previous = (probe.record, probe.carrier) if probe and probe.record and probe.carrier else None
    if why == DOCS_CHANGED and probe is not None and probe.record is not None:
        shaping = settings_digest(_shaping(settings))
        named = pipeline_files(settings.docs_dir, env)
        edit, why = edited_pages(
            client,
            settings.docs_dir,
            probe.record,
            desired,
            shaping,
            tree_id.value,
            digest=digest,
            shares=shares,
            named=named,
        )
        result.timings["read"] = round(time.monotonic() - started, 3)
        if edit is not None and _sync_edit(
            settings, mode, tree, desired, edit, probe, digest, shares, client, result, log
        ):
            return
        why = why or "the edited page needs more than its own update"
    elif _repairable(probe, digest, settings):
        assert probe is not None
        edit, not_alone = drifted_pages(client, probe.changed, desired, tree_id.value)
        result.timings["read"] = round(time.monotonic() - started, 3)
        if edit is not None and _sync_edit(
            settings, mode, tree, desired, edit, probe, digest, shares, client, result, log, repair=True
        ):
            return
        why = f"{why}; {not_alone or 'a page needs more than its own update'}"
    if why is None:
        assert previous is not None and previous[0].time is not None
        result.timings["read"] = round(time.monotonic() - started, 3)
        result.plan = Plan(
            notes=(
                "nothing changed in the docs or in BookStack since the last sync "
                f"(BookStack's time {previous[0].time.isoformat()}): nothing to do",
            )
        )
        if log is not None:
            log.info(
                f"BookStack: {client.stats.as_dict().get('total', '')} requests show no change since the last sync"
            )
            if probe is not None and probe.unseen:
                log.info(f"note: {probe.unseen}")
            log.plan(result.plan)
        return
    if log is not None:
        log.info(f"reading everything in BookStack: {why}")
    # the audit log's newest activity before reading (the probe's, when it read the log): what moves no
    # updated_at while the run writes is told apart from the run's own work by it (``record_sync``); not
    # asked when the last record says the token could not read the log
    activity = probe.listed.activity if probe is not None and probe.listed is not None else None
    readable = probe is None or probe.record is None or probe.record.audit is not None
    if activity is None and readable and mode is not RunMode.PLAN:
        activity = newest_activity(client)
    remote = fetch_remote(
        client,
        shelf_names={s.name for s in desired.shelves.values()},
        shelf_keys=set(desired.shelves),
        tree_id=tree_id.value,
        wanted=desired_keys(desired),
        listed=probe.whole if probe is not None else None,
    )
    check_tree_takeover(desired, remote, tree_id.explicit)
    read = ReadMark.of(remote, activity)
    result.timings["read"] = round(time.monotonic() - started, 3)
    result.bookstack_url = remote.app_url or client.base_url  # links in the report: the address readers use
    made = make_plan(desired, remote, tree, client, settings, full=mode is RunMode.FULL)
    result.timings.update(made.timings)
    plan = made.plan
    result.plan = plan
    if log is not None:
        log.plan(plan)
    if mode is RunMode.PLAN:
        return
    if made.refusal is not None:
        raise made.refusal
    started = time.monotonic()
    ctx = ApplyContext(
        client=client,
        desired=desired,
        remote=remote,
        matching=made.matching,
        tree=tree,
        strip_title_heading=settings.strip_title_heading,
        forge_markdown=settings.forge_markdown,
        # the commit checked out is what was synced; git diffs from it on the next run
        commit=made.head or env.get("CI_COMMIT_SHA", ""),
        run_id=secrets.token_hex(6),
        tree_id=tree_id.value,
        progress=_progress(log, sum(1 for a in plan.actions if a.kind.writes)),
        sources=shares,
    )
    importer = ZipImporter()
    # a few page writes carry the record themselves: no listings and no write of its own after them
    rides = probe is not None and previous is not None and probe.listed is not None and can_ride(plan)
    said = ""
    try:
        if rides:
            assert probe is not None and previous is not None and probe.listed is not None
            shaping = settings_digest(_shaping(settings))
            said = apply_riding(plan, ctx, previous, probe.listed, digest, shaping)
        else:
            apply_plan(plan, ctx, importer)
        # another run may have created the same objects meanwhile: one of each is kept
        settle(ctx, importer.uploaded, imports=settings.import_mode is ImportMode.AUTO and importer.disabled is None)
    finally:
        # what was done and the warnings gathered before a run-stopping error are reported too
        result.outcomes = list(ctx.outcomes)
        result.messages.extend(ctx.messages)
    if remote.app_url is None:  # not in `finally`: a failure to read it must not hide why the run stopped
        _links_on_app_url(result, client)
    result.timings["apply"] = round(time.monotonic() - started, 3)
    failed = [o for o in result.outcomes if o.status is OutcomeStatus.FAILED]
    if failed:
        result.exit_code = ExitCode.SYNC_FAILED
        result.error = f"{len(failed)} action(s) failed; the next run finishes the job"
        return
    if rides:
        if log is not None:
            log.info(said)
        return
    if any(a.kind is ActionKind.DRIFT for a in plan.actions):
        # drift left alone stays to be seen: the next run reads everything and names it again
        if log is not None:
            log.info("sync record left as it was: drift was left alone (on_drift: skip)")
        return
    # A run that read everything records again even when it wrote nothing: the record it found was what
    # sent it to read everything (a count off by someone else's deletion, a settings change, objects it
    # could not tell apart), so keeping it would send every later run to read everything too.
    if mode is RunMode.FULL or previous is None:
        previous = find_record(client, tree_id.value)
    synced = Synced(digest, settings_digest(_shaping(settings)), ctx.commit, read, ctx.outcomes, ctx.revisions)
    said = record_sync(client, remote, synced, previous)
    if log is not None:
        log.info(said)


DOCS_CHANGED = "the docs changed since the last sync"


def _probe(client: BookStackClient, mode: RunMode, digest: str, tree_id: str) -> tuple[Probe | None, str | None]:
    """The probe, and why BookStack must be read in full (None: nothing changed)."""
    if mode is RunMode.FULL:
        return None, "a full resync reads everything"
    probe = run_probe(client, tree_id)
    if not probe.sure:
        return probe, probe.why
    if probe.changed:
        names = ", ".join(
            f"{kind.value} {item.get('id')}" + (f": {item['happened']}" if "happened" in item else "")
            for kind, item in probe.changed
        )
        return probe, f"{probe.why} ({names})"
    assert probe.record is not None
    if probe.record.digest != digest:
        return probe, DOCS_CHANGED
    return probe, None


def _sync_edit(
    settings: Settings,
    mode: RunMode,
    tree: DocsTree,
    desired: DesiredState,
    edit: Edit,
    probe: Probe,
    digest: str,
    shares: Mapping[str, str],
    client: BookStackClient,
    result: RunResult,
    log: RunLog | None,
    *,
    repair: bool = False,
) -> bool:
    """Plan and write the edited pages (or, ``repair``, the pages a person changed in BookStack), the
    sync record riding on the last write; False when a page needs more than an update of its own (the
    run then reads everything)."""
    assert probe.record is not None and probe.listed is not None
    plan = make_edit_plan(edit, desired, tree, settings, repair=repair)
    if plan is None:
        return False
    result.plan = plan
    if log is not None:
        keys = [action.key for action in plan.actions]
        if repair:
            log.info(f"the docs did not change since the last sync; pages changed in BookStack: {', '.join(keys)}")
        else:
            how = "in git" if edit.told_by == "git" else f"({edit.told_by})"
            changed = (
                f"one page changed {how}: {keys[0]}" if len(keys) == 1 else f"pages changed {how}: {', '.join(keys)}"
            )
            log.info(f"BookStack: nothing changed there since the last sync; {changed}")
        log.plan(result.plan)
    if mode is RunMode.PLAN:
        return True
    head = read_history(settings.docs_dir, {}).head or ""
    ctx = ApplyContext(
        client=client,
        desired=desired,
        remote=edit.remote,
        matching=edit.matching,
        tree=tree,
        strip_title_heading=settings.strip_title_heading,
        forge_markdown=settings.forge_markdown,
        commit=head,
        run_id=secrets.token_hex(6),
        progress=_progress(log, len(plan.actions)),
        tree_id=edit.remote.tree_id,
        sources=shares,
    )
    result.bookstack_url = edit.remote.app_url or client.base_url
    started = time.monotonic()
    try:
        assert probe.carrier is not None
        said = apply_riding(plan, ctx, (probe.record, probe.carrier), probe.listed, digest, probe.record.settings)
    finally:
        result.outcomes = list(ctx.outcomes)
        result.messages.extend(ctx.messages)
    result.timings["apply"] = round(time.monotonic() - started, 3)
    if log is not None:
        log.info(said)
    if edit.remote.app_url is None:
        _links_on_app_url(result, client)
    failed = [o for o in result.outcomes if o.status is OutcomeStatus.FAILED]
    if failed:
        result.exit_code = ExitCode.SYNC_FAILED
        result.error = f"{len(failed)} action(s) failed; the next run finishes the job"
    return True


def _repairable(probe: Probe | None, digest: str, settings: Settings) -> bool:
    """Whether the probe found only a few of the tree's objects changed by a person while the docs stayed
    as synced, with ``on_drift: overwrite``: they may be put back without reading everything."""
    return (
        probe is not None
        and probe.sure
        and bool(probe.changed)
        and probe.record is not None
        and probe.record.digest == digest
        and probe.listed is not None
        and settings.on_drift is OnDrift.OVERWRITE
    )


def _shaping(settings: Settings) -> dict[str, object]:
    """The settings that change what a sync writes or decides: a change of any of them is a change."""
    structure = settings.structure_path
    return {
        "structure": hashlib.sha256(structure.read_bytes()).hexdigest() if structure.is_file() else "",
        "ignore": settings.ignore,
        "adopt": settings.adopt,
        "on_drift": settings.on_drift.value,
        "prune": settings.prune,
        "prune_limit": settings.prune_limit,
        "strip_title_heading": settings.strip_title_heading,
        "forge_markdown": settings.forge_markdown,
        "publish_drafts": settings.publish_drafts,
        "max_upload_mb": settings.max_upload_mb,
        "import": settings.import_mode.value,
        "import_max_pages": settings.import_max_pages,
    }


def _outputs(settings: Settings, env: Mapping[str, str]) -> set[Path]:
    """The files this run writes, which must not count as docs when they are inside docs_dir."""
    workspace = Path(env.get("CI_WORKSPACE") or ".")
    return {(workspace / path).resolve() for path in (settings.report, settings.summary, settings.junit) if path}


def _links_on_app_url(result: RunResult, client: BookStackClient) -> None:
    """The report's links on BookStack's own address when the run began with nothing telling it (a
    server before v25.05, /api/system absent, holding no page yet): a page written now tells it."""
    page_id = next((o.remote_id for o in result.outcomes if o.action.entity is EntityKind.PAGE and o.remote_id), None)
    if page_id is None:
        return
    app_url = wiki_address(client, page_id)
    if app_url == client.base_url:
        return
    result.bookstack_url = app_url
    result.outcomes = [
        replace(o, url=app_url + o.url[len(client.base_url) :]) if o.url and o.url.startswith(client.base_url) else o
        for o in result.outcomes
    ]


def run_and_report(settings: Settings, env: Mapping[str, str], requested: RunMode | None) -> int:
    """The whole run with its log and report files, whichever way it ends; returns the exit code.

    A run that stops (BookStack failing, a refusal, a settings problem found late, a bug) still writes
    the report and the summary: what BookStack acknowledged, what failed and why, what was not
    attempted. A bug is raised again afterwards, for the traceback and exit code 4.
    """
    mode, reason = decide_mode(settings, env, requested)
    secrets = (settings.token_id, settings.token_secret, settings.forge_token)
    run_log = RunLog.for_run(env, level=settings.log_level, secrets=secrets)
    run_log.header(mode, reason)
    result = RunResult(mode=mode, mode_reason=reason, settings=settings.redacted(), ci=ci_context(env))
    try:
        run_stages(result, settings, env, log=run_log)
    except BookstackSyncError as exc:
        # str(exc) carries the hint: the exit line (and the report) says it, once
        stop_run(result, exc.exit_code, str(exc), exc.message)
    except Exception as exc:
        stop_run(result, ExitCode.INTERNAL, f"internal error (a bug in bookstack-sync): {type(exc).__name__}: {exc}")
        _log_and_write(result, settings, env, run_log)
        raise
    _log_and_write(result, settings, env, run_log)
    return int(result.exit_code)


def stop_run(result: RunResult, code: ExitCode, error: str, short: str | None = None) -> None:
    """Record that the run stopped: the exit code, why, and — once a sync had a plan — every planned
    write it did not reach, as not attempted."""
    result.exit_code = code
    result.error = error
    if result.plan is not None and result.mode in (RunMode.SYNC, RunMode.FULL):
        why = f"not attempted: the run stopped ({short or error})"
        result.outcomes += unreached_outcomes(result.plan, result.outcomes, why)


def _log_and_write(result: RunResult, settings: Settings, env: Mapping[str, str], run_log: RunLog) -> None:
    for diagnostic in result.diagnostics:
        (run_log.error if diagnostic.severity.value == "error" else run_log.warning)(diagnostic.format())
    for message in result.messages:
        run_log.warning(message)
    if result.tree is None:  # the run stopped before it read BookStack: the comment's marker still needs it
        result.tree = tree_id_for(settings.tree, settings.docs_dir, env).value
    run_log.summary(result)
    workspace = Path(env.get("CI_WORKSPACE") or ".")
    run_log.reports(write_reports(result, settings, workspace, pages=result.page_paths))
    if wants_comment(settings, env):
        body = MarkdownSummary().render(result)
        posted = comment_on_pull_request(
            body, summary_marker(result), settings, env, earlier=(docs_dir_marker(result),)
        )
        (run_log.info if posted.ok else run_log.warning)(posted.message)


def report_unusable_settings(
    settings: Settings, env: Mapping[str, str], requested: RunMode | None, error: BookstackSyncError
) -> list[str]:
    """Settings that cannot be used (exit 2) still leave a report and a summary for the next step, in
    the workspace when the pipeline names one (``settings`` holds every value that could be read).
    Returns the paths written."""
    workspace = env.get("CI_WORKSPACE")
    outputs = [path for path in (settings.report, settings.summary) if path is not None]
    if not workspace and not any(path.is_absolute() for path in outputs):
        return []
    mode, reason = decide_mode(settings, env, requested)
    result = RunResult(mode=mode, mode_reason=reason, settings=settings.redacted(), ci=ci_context(env))
    stop_run(result, error.exit_code, str(error))
    return write_reports(result, settings, Path(workspace or "."))


def _progress(log: RunLog | None, total: int) -> Callable[[Outcome], None] | None:
    """One log line per write as it happens; unchanged objects are only counted in the summary."""
    if log is None:
        return None
    done = 0

    def report(outcome: Outcome) -> None:
        nonlocal done
        if outcome.status in (OutcomeStatus.UNCHANGED, OutcomeStatus.SKIPPED, OutcomeStatus.ORPHAN):
            return
        done += 1
        log.progress(done, max(total, done), outcome)

    return report
