"""The sync part of ``reconcile demo``: after the migration, each sync job in turn.

``STEPS`` is an ordered list with one :class:`Step` per job (SPEC order; the activities step
comes last, after the newsletter it reads was sent). A step's
``prepare`` does in the sandboxes what an admin or a GetResponse user would do first (create
a marketing list and a GetResponse List record, write a draft …) and returns lines saying
so; then the demo runs the job once, exactly as ``reconcile sync JOB`` does, and shows its
report. Adding a job to the demo is one function and one line in ``STEPS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconcile.progress import SILENT, Progress


@dataclass
class DemoWorld:
    """Both running sandboxes and how to reach them, shared by every step."""

    dv_sandbox: Any
    gr_sandbox: Any
    dv_info: dict[str, Any]
    gr_info: dict[str, Any]
    state_path: Path
    progress: Progress = SILENT
    facts: dict[str, Any] = field(default_factory=dict)  # what one step leaves for the next
    settings: Any = None  # the Settings the jobs run with (a step may set them)

    def dataverse(self, identity: str = "service") -> Any:
        from reconcile.dataverse import BearerTokenAuth, DataverseClient

        token = self.dv_info["identities"][identity]["token"]
        return DataverseClient(self.dv_info["url"], auth=BearerTokenAuth(token))

    def getresponse(self) -> Any:
        from reconcile.getresponse import ApiKeyAuth, GetResponseClient

        return GetResponseClient(ApiKeyAuth(self.gr_info["api_key"]), base_url=self.gr_info["url"])

    @contextmanager
    def context(self, **kwargs: Any) -> Iterator[Any]:
        """A sync context on the sandboxes as the connector's identity (closed after)."""
        from reconcile.jobs.sync import SyncContext, environment_key
        from reconcile.state import StateStore

        with ExitStack() as stack:
            yield SyncContext(
                dv=stack.enter_context(self.dataverse()),
                gr=stack.enter_context(self.getresponse()),
                state=stack.enter_context(StateStore(self.state_path)),
                environment=environment_key(self.dv_info["url"], self.gr_info["url"]),
                progress=self.progress,
                settings=self.settings,
                **kwargs,
            )


@dataclass(frozen=True)
class Step:
    job: str  # the sync job it runs: reconcile sync <job>
    title: str  # one line for the summary
    prepare: Callable[[DemoWorld], list[str]]  # what is done first, in words
    # the job's clock, when a step moves the sandboxes' time on (default: the real clock)
    clock: Callable[[DemoWorld], Any] | None = None


def _lists(world: DemoWorld) -> list[str]:
    from reconcile.jobs.demo_lists import prepare

    return prepare(world)


def _contacts(world: DemoWorld) -> list[str]:
    from reconcile.jobs.demo_contacts import prepare

    return prepare(world)


def _template(world: DemoWorld) -> list[str]:
    from reconcile.jobs.demo_mail import prepare_template

    return prepare_template(world)


def _newsletter(world: DemoWorld) -> list[str]:
    from reconcile.jobs.demo_mail import prepare_newsletter

    return prepare_newsletter(world)


def _activities(world: DemoWorld) -> list[str]:
    from reconcile.jobs.demo_activities import prepare

    return prepare(world)


def _getresponse_time(world: DemoWorld) -> Any:
    from reconcile.jobs.demo_activities import getresponse_time

    return getresponse_time(world)


def _sent(world: DemoWorld) -> list[str]:
    from reconcile.jobs.demo_mail import prepare_sent

    return prepare_sent(world)


STEPS: list[Step] = [
    Step("lists", "CRM marketing list → GetResponse list and contacts (SPEC 4)", _lists),
    Step("contacts", "GetResponse changes → GetResponse Contact records (SPEC 5, 8)", _contacts),
    Step("templates", "GetResponse 'MS CRM' draft → GetResponse Template (SPEC 6)", _template),
    Step("newsletters", "CRM newsletter → scheduled in GetResponse (SPEC 7)", _newsletter),
    Step("newsletters", "GetResponse sends it → the record says Sent (SPEC 7)", _sent),
    Step(
        "activities",
        "Its sends, opens and clicks → GetResponse Activity records (SPEC 5.5)",
        _activities,
        _getresponse_time,
    ),
]


def run_steps(world: DemoWorld, steps: list[Step] | None = None) -> list[dict[str, Any]]:
    """Prepare and run each step's job; returns, per step, its lines and its report."""
    from reconcile.jobs.sync import jobs, run_job

    registry = jobs()
    results = []
    for step in steps if steps is not None else STEPS:
        with world.progress.task(f"Demo: {step.title}", total=None):
            setup = step.prepare(world)
            timed = {"now": lambda step=step: step.clock(world)} if step.clock else {}
            with world.context(**timed) as ctx:
                report = run_job(registry[step.job], ctx)
        results.append({
            "job": step.job, "title": step.title, "setup": setup,
            "report": report.as_dict(), "lines": report.lines(shown=5),
        })  # fmt: skip
    return results
