"""The liaison world every scenario shares: chats, people, roster, the bot's environment."""

from __future__ import annotations

from pathlib import Path

from bench.procs import TOKEN, SandboxProc

CHAT = -1001500000001  # the liaison group
SUP_CHAT = -1001500000002  # the supervisors' group
ECHO_CHAT = -1001500000003  # where the echo bot answers (intake comparison)
ANDI, BUDI, SARI = 1001, 1002, 2001  # moderators, supervisor
REPORTERS = (3001, 3002, 3003, 3004, 3005)  # ministry staff

ROSTER = """\
[[person]]
name = "Andi Wijaya"
telegram_id = 1001
username = "andi_mod"
phone = "+62 811 0000 0001"
roles = ["moderator"]

[[person]]
name = "Budi Santoso"
telegram_id = 1002
username = "budi_mod"
phone = "+62 811 0000 0002"
roles = ["moderator"]

[[person]]
name = "Sari Dewi"
telegram_id = 2001
username = "sari_lead"
phone = "+62 811 0000 0009"
roles = ["supervisor"]

[rotation]
start = 2026-01-01T00:00:00+07:00
shift = "100000h"
order = ["andi_mod", "budi_mod"]
"""


async def populate(box: SandboxProc) -> None:
    """Create the chats and the people in the sandbox."""
    client = box.client
    await client.add_chat(CHAT, "Kominfo – Telegram liaison", "supergroup")
    await client.add_chat(SUP_CHAT, "Liaison supervisors", "supergroup")
    await client.add_chat(ECHO_CHAT, "Echo comparison", "supergroup")
    people = [(ANDI, "Andi", "andi_mod"), (BUDI, "Budi", "budi_mod"), (SARI, "Sari", "sari_lead")]
    people += [(uid, f"Staf {uid}", f"kominfo_{uid}") for uid in REPORTERS]
    for uid, name, username in people:
        await client.add_user(uid, name, username)


def bot_env(box: SandboxProc, workdir: Path, **deadlines: str) -> dict[str, str]:
    """LIAISON_* variables for a bot against this sandbox, database and roster in `workdir`."""
    roster = workdir / "roster.toml"
    if not roster.exists():
        roster.write_text(ROSTER, encoding="utf-8")
    env = {
        "LIAISON_BOT_TOKEN": TOKEN,
        "LIAISON_API_BASE_URL": box.base_url,
        "LIAISON_CHAT_ID": str(CHAT),
        "LIAISON_SUPERVISOR_CHAT_ID": str(SUP_CHAT),
        "LIAISON_ROSTER": str(roster),
        "LIAISON_DATABASE": str(workdir / "liaison.db"),
        "LIAISON_LANGUAGE": "en",
    }
    env.update({f"LIAISON_{k.upper()}": v for k, v in deadlines.items()})
    return env


def report_text(i: int) -> str:
    """A report with one distinct Telegram link (200 channels, posts numbered by i)."""
    return f"Konten propaganda, mohon ditindak: https://t.me/kanal_{i % 200:03d}/{10000 + i}"


def report_batch(start: int, count: int, chat_id: int = CHAT) -> list[dict[str, object]]:
    """`count` reports from the reporters in turn, for the control API's batch send."""
    return [
        {"chat_id": chat_id, "user_id": REPORTERS[i % len(REPORTERS)], "text": report_text(i)}
        for i in range(start, start + count)
    ]
