"""/ack /done /reject /note /clarify /reopen /assign and the card buttons."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from telegram import CallbackQuery, ReactionTypeEmoji, Update

from bot.domain.commands import parse_username, split_outcome
from bot.domain.roster import Role
from bot.domain.tickets import Outcome
from bot.notices import Answer, Feedback
from bot.services import OUTCOME_WORDS
from bot.texts import ACK, ACK_ALL, CATEGORY, CATEGORY_BACK, DONE, REJECT
from handlers.common import Call, parse_call

if TYPE_CHECKING:
    from bot.context import Context

log = logging.getLogger(__name__)

OUTCOMES = {word: outcome.value for word, outcome in OUTCOME_WORDS.items()}


async def _one_with_text(
    update: Update, context: Context, cmd: str, act: Callable[[Call], Awaitable[list[Feedback]]]
) -> None:
    """The /reject, /note and /clarify shape: exactly one ticket and a text."""
    call = await parse_call(update, context)
    if call is None:
        return
    if len(call.ids) != 1 or not call.text:
        await call.usage(cmd)
        return
    await call.answer(await act(call))


async def cmd_ack(update: Update, context: Context) -> None:
    """/ack N… — acknowledge and take."""
    call = await parse_call(update, context)
    if call is None:
        return
    if not call.ids or call.rest:
        await call.usage("ack")
        return
    await call.answer(await call.services.acknowledge(call.actor, call.ids))


async def cmd_done(update: Update, context: Context) -> None:
    """/done N… [outcome] [note] (alias /removed)."""
    call = await parse_call(update, context)
    if call is None:
        return
    if not call.ids:
        await call.usage("done")
        return
    outcome_word, note = split_outcome(call.rest, OUTCOMES)
    outcome = Outcome(outcome_word) if outcome_word else Outcome.REMOVED
    await call.answer(await call.services.close(call.actor, call.ids, outcome, note))


async def cmd_reject(update: Update, context: Context) -> None:
    """/reject N reason."""
    await _one_with_text(
        update, context, "reject", lambda c: c.services.reject(c.actor, c.ids[0], c.text)
    )


async def cmd_note(update: Update, context: Context) -> None:
    """/note N text."""
    await _one_with_text(
        update, context, "note", lambda c: c.services.note(c.actor, c.ids[0], c.text)
    )


async def cmd_clarify(update: Update, context: Context) -> None:
    """/clarify N question."""
    await _one_with_text(
        update, context, "clarify", lambda c: c.services.clarify(c.actor, c.ids[0], c.text)
    )


async def cmd_reopen(update: Update, context: Context) -> None:
    """/reopen N [reason]."""
    call = await parse_call(update, context)
    if call is None:
        return
    if len(call.ids) != 1:
        await call.usage("reopen")
        return
    await call.answer(await call.services.reopen(call.actor, call.ids[0], call.text))


async def cmd_assign(update: Update, context: Context) -> None:
    """/assign N @user."""
    call = await parse_call(update, context)
    if call is None:
        return
    try:
        if len(call.ids) != 1 or len(call.rest) != 1:
            raise ValueError
        username = parse_username(call.rest[0])
    except ValueError:
        await call.usage("assign")
        return
    await call.answer(await call.services.assign(call.actor, call.ids[0], username))


async def cmd_category(update: Update, context: Context) -> None:
    """/category N key (a key or one of its tags)."""
    call = await parse_call(update, context)
    if call is None:
        return
    if len(call.ids) != 1 or len(call.rest) != 1:
        await call.usage("category")
        return
    await call.answer(await call.services.set_category(call.actor, call.ids[0], call.rest[0]))


# the callback data of the card's buttons, matched whole: forged or stale data matches
# nothing, and the pipeline ends its spinner with an empty answer
BUTTON = re.compile(
    rf"\A(?:(?P<action>{re.escape(ACK)}|{re.escape(DONE)}|{re.escape(REJECT)})"
    rf"(?P<ticket>[0-9]{{1,9}})|(?P<all>{re.escape(ACK_ALL)}))\Z"
)


def _press(update: Update, context: Context) -> tuple[CallbackQuery, re.Match[str]] | None:
    """A button press whose data matched the handler's pattern, from a known user."""
    query = update.callback_query
    match = context.matches[0] if context.matches else None
    if query is None or query.from_user is None or match is None:
        return None
    return query, match


async def on_button(update: Update, context: Context) -> None:
    """[Acknowledge] [Removed] [Reject] and [Acknowledge all] on cards."""
    pressed = _press(update, context)
    if pressed is None:
        return
    query, match = pressed
    services = context.bot_data.services
    renderer = context.bot_data.renderer
    actor = query.from_user.id
    message = query.message
    feedback: list[Feedback] = []
    if match["all"]:
        if message is not None:
            ids = await services.tickets_on_message(message.chat.id, message.message_id)
            feedback = await services.acknowledge(actor, ids) if ids else []
    elif match["action"] == ACK:
        feedback = await services.acknowledge(actor, [int(match["ticket"])])
    elif match["action"] == DONE:
        feedback = await services.close(actor, [int(match["ticket"])], Outcome.REMOVED)
    else:
        hint = renderer.t("reject_hint", id=int(match["ticket"]))
        context.scope.answer_later(query, hint, alert=True)
        return
    text = "\n".join(renderer.t(f.key, **f.args()) for f in feedback)[:200]
    refused = any(f.key is Answer.REFUSED for f in feedback)
    context.scope.answer_later(query, text or None, alert=refused)


# [Category] (cat:N), a category of its list (cat:N:key) and [Back] (catback:N)
CATEGORY_BUTTON = re.compile(
    rf"\A(?:{re.escape(CATEGORY)}(?P<ticket>[0-9]{{1,9}})(?::(?P<key>[a-z][a-z0-9_]{{0,49}}))?"
    rf"|{re.escape(CATEGORY_BACK)}(?P<back>[0-9]{{1,9}}))\Z"
)


async def on_category_button(update: Update, context: Context) -> None:
    """[Category] swaps the card's buttons for the category list; a category of the list
    sets it as `/category` does; [Back] puts the card's buttons back. Moderators only:
    anyone else gets the refusal toast and the buttons stay as they are."""
    pressed = _press(update, context)
    if pressed is None:
        return
    query, match = pressed
    services = context.bot_data.services
    renderer = context.bot_data.renderer
    texts = renderer.texts
    if not services.role_of(query.from_user.id).covers(Role.MODERATOR):
        context.scope.answer_later(query, renderer.t(Answer.REFUSED), alert=True)
        return
    if match["back"]:
        context.scope.swap_buttons_later(query, texts.card_buttons(int(match["back"])))
        return
    ticket_id = int(match["ticket"])
    if match["key"] is None:
        context.scope.swap_buttons_later(query, texts.category_buttons(ticket_id))
        return
    feedback = await services.set_category(query.from_user.id, ticket_id, match["key"])
    text = "\n".join(renderer.t(f.key, **f.args()) for f in feedback)[:200]
    refused = any(f.key is Answer.REFUSED for f in feedback)
    context.scope.answer_later(query, text or None, alert=refused)
    if not any(f.key is Answer.ALREADY_CLOSED for f in feedback):
        # the card's edit puts them back too when the category changed; this also covers
        # a press of the category the ticket already has
        context.scope.swap_buttons_later(query, texts.card_buttons(ticket_id))


async def on_reaction(update: Update, context: Context) -> None:
    """A moderator's acknowledge reaction on a card acknowledges its tickets, as /ack does;
    anyone else's reaction changes nothing and says nothing."""
    change = update.message_reaction
    services = context.bot_data.services
    wanted = services.desk.ack_reaction
    if change is None or change.user is None or wanted is None:
        return
    added = {r.emoji for r in change.new_reaction if isinstance(r, ReactionTypeEmoji)} - {
        r.emoji for r in change.old_reaction if isinstance(r, ReactionTypeEmoji)
    }
    if wanted not in added or not services.role_of(change.user.id).covers(Role.MODERATOR):
        return
    ids = await services.tickets_on_card(change.chat.id, change.message_id)
    if ids:
        await services.acknowledge(change.user.id, ids)  # the card's edit shows it
