"""Typed events: fields round-trip through JSON, and every sentence the previous release
wrote maps back to its fields (the migration relies on it)."""

from __future__ import annotations

import json

import pytest

from bot.domain.events import (
    FACTS,
    Acknowledged,
    Anchored,
    Assigned,
    Categorized,
    ClarificationAsked,
    Clarified,
    Created,
    Duplicate,
    Escalated,
    Escalation,
    EventKind,
    EvidencePurged,
    Fact,
    MadeUrgent,
    Note,
    Rejected,
    Removed,
    Reopened,
    ReportEdited,
    from_data,
    parse_legacy,
    to_data,
)

EXAMPLES: list[Fact] = [
    Created(link="https://t.me/chan/1"),
    Created(link="https://t.me/chan/1", urgent=True),
    Created(forwarded_message_id=42),
    Duplicate(report=3),
    Reopened(previous=7),
    Reopened(reason="konten kembali 🔁"),
    MadeUrgent(),
    Acknowledged(),
    Removed(),
    Removed(outcome="banned", banned_with=3),
    Removed(outcome="restricted", note="hanya di Indonesia"),
    Rejected(reason="bukan konten terlarang"),
    Note(text="catatan <b>tebal</b> & emoji 🙂"),
    ClarificationAsked(question="Tautan mana?"),
    Clarified(answer="yang kedua", paused_seconds=600),
    Assigned(to="@budi_mod", to_id=1002),
    Escalated(reason=Escalation.ACK_REMINDER, step=1, recipients=(1001, 1002)),
    Escalated(reason=Escalation.OVERDUE, step=2, recipients=(2001,)),
    Escalated(reason=Escalation.OVERDUE_REPEAT, step=4, overdue_seconds=7200),
    Escalated(reason=Escalation.NOBODY_ON_CALL, recipients=(2001,)),
    Escalated(reason=Escalation.UNREACHABLE, person="Andi Wijaya", recipients=(2001,)),
    EvidencePurged(items=2),
    ReportEdited(),
    ReportEdited(link_removed=True),
    Created(
        link="https://t.me/judi/5",
        category="gambling",
        agreed_seconds=14400,
        legal_seconds=14400,
    ),
    Categorized(previous="other", category="terrorism", agreed_seconds=3600, legal_seconds=14400),
    Anchored(seq=41, hash="ab" * 32, chat_id=-100123, message_id=812),
]


def test_every_kind_has_fields() -> None:
    assert set(FACTS) == set(EventKind)
    assert {type(f).KIND for f in EXAMPLES} == set(EventKind)


@pytest.mark.parametrize("fact", EXAMPLES, ids=lambda f: f"{type(f).__name__}")
def test_fields_round_trip_through_json(fact: Fact) -> None:
    data = json.loads(json.dumps(to_data(fact)))
    assert from_data(type(fact).KIND, data) == fact
    assert not any(isinstance(v, float) for v in data.values())


def test_unknown_field_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown field"):
        from_data("note", {"text": "x", "colour": "red"})


# every sentence the previous release wrote, with the fields it stands for
LEGACY: list[tuple[str, str, Fact]] = [
    ("created", "https://t.me/chan/1", Created(link="https://t.me/chan/1")),
    ("created", "https://t.me/chan/1 (urgent)", Created(link="https://t.me/chan/1", urgent=True)),
    ("created", "forwarded message 12", Created(forwarded_message_id=12)),
    ("created", "forwarded message 12 (urgent)", Created(forwarded_message_id=12, urgent=True)),
    ("duplicate", "report 2", Duplicate(report=2)),
    ("reopened", "content back: #4", Reopened(previous=4)),
    ("reopened", "", Reopened()),
    ("reopened", "came back on a mirror", Reopened(reason="came back on a mirror")),
    ("urgent", "marked urgent by a later report", MadeUrgent()),
    ("acknowledged", "", Acknowledged()),
    ("removed", "removed", Removed()),
    ("removed", "removed: done by hand", Removed(note="done by hand")),
    ("removed", "banned", Removed(outcome="banned")),
    ("removed", "banned: channel banned (#3)", Removed(outcome="banned", banned_with=3)),
    ("removed", "banned: whole network", Removed(outcome="banned", note="whole network")),
    ("removed", "restricted", Removed(outcome="restricted")),
    ("removed", "gone: already deleted", Removed(outcome="gone", note="already deleted")),
    ("rejected", "rejected: satire", Rejected(reason="satire")),
    ("rejected", "rejected: a: b", Rejected(reason="a: b")),
    ("note", "any text: with colons", Note(text="any text: with colons")),
    ("clarification", "which post?", ClarificationAsked(question="which post?")),
    ("clarified", "the second", Clarified(answer="the second")),
    ("assigned", "@budi_mod", Assigned(to="@budi_mod")),
    ("escalated", "step 1: ack_reminder", Escalated(reason=Escalation.ACK_REMINDER, step=1)),
    ("escalated", "step 2: overdue", Escalated(reason=Escalation.OVERDUE, step=2)),
    (
        "escalated",
        "step 3: overdue_repeat, 3600s past the deadline",
        Escalated(reason=Escalation.OVERDUE_REPEAT, step=3, overdue_seconds=3600),
    ),
    (
        "escalated",
        "nobody on call: supervisors",
        Escalated(reason=Escalation.NOBODY_ON_CALL),
    ),
    (
        "escalated",
        "Andi Wijaya not reachable: supervisors",
        Escalated(reason=Escalation.UNREACHABLE, person="Andi Wijaya"),
    ),
    ("evidence_purged", "2 item(s)", EvidencePurged(items=2)),
]


@pytest.mark.parametrize(("kind", "detail", "fact"), LEGACY, ids=[d for _, d, _ in LEGACY])
def test_previous_release_sentences_map_to_their_fields(
    kind: str, detail: str, fact: Fact
) -> None:
    assert parse_legacy(kind, detail) == fact
    assert fact.describe() == detail


def test_an_escalation_no_release_wrote_is_kept_not_miscounted() -> None:
    fact = parse_legacy("escalated", "paged by hand")
    assert isinstance(fact, Escalated)
    assert fact.reason is Escalation.UNRECOGNISED


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="not a valid EventKind"):
        parse_legacy("teleported", "")
