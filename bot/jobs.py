"""The calendar jobs on PTB's JobQueue: shift hand-offs, the daily digest, the evidence purge.

A job only asks its use case (bot/services/schedule.py) to act at `now`; the decision and
the durable "done" marker live there, so a restart neither misses nor doubles a slot. Each
job first runs right at start (the catch-up: a slot that passed while the bot was down and
is not marked done runs once), then re-arms itself for its next slot. The instants come
from the injected clock (`Services.clock`) and APScheduler waits on wall time: with the
SystemClock the bot runs on, one and the same time.

`run_once` re-armed rather than `run_daily`/`run_repeating`: the instant a job is armed for
and the slot its use case decides on then come from the same domain function
(bot.domain.slots, the rotation's boundaries), so APScheduler's cron arithmetic can never
disagree with it (a DST gap or fold in the configured zone), a rotation's shifts of any
length fit without a trigger of their own, and the catch-up at start is the same call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from telegram.ext import JobQueue

if TYPE_CHECKING:  # bot.app imports this module to start the jobs
    from bot.context import Context, LiaisonApp

log = logging.getLogger(__name__)

RETRY = timedelta(seconds=30)  # after a failed run (the database refused): try again then
# APScheduler skips a run that starts over a second late (its default misfire grace): on a
# busy event loop a calendar job must run late, never not at all
JOB_KWARGS: dict[str, Any] = {"misfire_grace_time": None, "coalesce": True}

Job = Callable[["Context"], Coroutine[Any, Any, None]]


def schedule_jobs(app: LiaisonApp) -> JobQueue[Context]:
    """Arm the calendar jobs on the application's job queue, each to run at once first."""
    queue = app.job_queue
    if queue is None:  # pragma: no cover - the dependency includes PTB's job-queue extra
        raise RuntimeError("python-telegram-bot is installed without its job-queue extra")
    now = app.bot_data.services.clock.now()
    for job in (job_handoff, job_digest, job_purge):
        _arm(queue, job, now)
    return queue


async def job_handoff(context: Context) -> None:
    """At each shift boundary of the rotation: the hand-off."""
    services = context.bot_data.services
    await _run(context, job_handoff, services.handoff_if_due, services.next_shift_change)


async def job_digest(context: Context) -> None:
    """Every day at LIAISON_DIGEST_AT in the configured zone: the digest."""
    services = context.bot_data.services
    await _run(context, job_digest, services.digest_if_due, services.next_digest)


async def job_purge(context: Context) -> None:
    """Every hour: drop the evidence kept past its retention."""
    services = context.bot_data.services
    await _run(context, job_purge, services.purge_evidence, services.next_purge)


async def _run(
    context: Context,
    job: Job,
    use_case: Callable[[datetime], Awaitable[object]],
    next_slot: Callable[[datetime], datetime | None],
) -> None:
    now = context.bot_data.services.clock.now()
    try:
        await use_case(now)
    except Exception:
        # caught here: PTB's own error path for a job warns while the application is not
        # started (we run our own update loop), and the job must be re-armed either way
        log.exception("%s failed; retrying in %s", job.__name__, RETRY)
        when: datetime | None = now + RETRY
    else:
        when = next_slot(now)  # from the run's `now`: a slot passed during the run is kept
    if when is not None and context.job_queue is not None:
        _arm(context.job_queue, job, when)


def _arm(queue: JobQueue[Any], job: Job, when: datetime) -> None:
    # JobQueue[Any]: PTB types CallbackContext.job_queue with a type variable it never binds
    queue.run_once(job, when, name=job.__name__, job_kwargs=JOB_KWARGS)
