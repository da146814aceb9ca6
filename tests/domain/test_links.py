"""Table-driven tests of Telegram link recognition and normalisation."""

import pytest

from bot.domain.links import (
    Link,
    LinkKind,
    channel_post_link,
    extract_links,
    has_foreign_url,
    is_urgent,
    normalise_link,
)

# (as written, canonical or None)
NORMALISE_CASES: list[tuple[str, str | None]] = [
    # public posts: hosts, schemes, www., case
    ("https://t.me/durov/12", "https://t.me/durov/12"),
    ("http://t.me/durov/12", "https://t.me/durov/12"),
    ("t.me/durov/12", "https://t.me/durov/12"),
    ("www.t.me/durov/12", "https://t.me/durov/12"),
    ("https://www.t.me/durov/12", "https://t.me/durov/12"),
    ("HTTPS://T.ME/Durov/12", "https://t.me/Durov/12"),
    ("telegram.me/durov/12", "https://t.me/durov/12"),
    ("https://telegram.dog/durov/12", "https://t.me/durov/12"),
    ("https://Telegram.Me/durov/12", "https://t.me/durov/12"),
    ("https://t.me/durov/12/", "https://t.me/durov/12"),
    ("https://t.me:443/durov/12", "https://t.me/durov/12"),
    ("  https://t.me/durov/12  ", "https://t.me/durov/12"),
    ("https://t.me/durov/12.", "https://t.me/durov/12"),
    ("<https://t.me/durov/12>", "https://t.me/durov/12"),
    ("t.me/s/durov/12", "https://t.me/durov/12"),
    ("https://t.me/s/Durov/12?before=40", "https://t.me/Durov/12"),
    # ids
    ("t.me/durov/0012", "https://t.me/durov/12"),
    ("t.me/durov/2147483647", "https://t.me/durov/2147483647"),  # the largest 32-bit id
    ("t.me/durov/2147483648", None),  # beyond 32 bits: not a message id
    ("t.me/durov/999999999999999", None),
    ("t.me/durov/1234567890123456", None),
    ("t.me/durov/0", None),
    ("t.me/durov/-5", None),
    ("t.me/durov/12abc", None),
    ("t.me/durov/١٢", None),
    # query junk and fragments
    ("https://t.me/durov/12?single", "https://t.me/durov/12"),
    ("https://t.me/durov/12?t=35", "https://t.me/durov/12"),
    ("https://t.me/durov/12?single&t=3&utm_source=x", "https://t.me/durov/12"),
    ("https://t.me/durov/12#section", "https://t.me/durov/12"),
    ("https://t.me/durov/12#x?comment=5", "https://t.me/durov/12"),
    ("https://t.me/durov/12?comment=abc", "https://t.me/durov/12"),
    # comments keep their own ticket
    ("https://t.me/durov/12?comment=345", "https://t.me/durov/12?comment=345"),
    ("t.me/Durov/12?single&comment=0345", "https://t.me/Durov/12?comment=345"),
    ("t.me/durov/12?COMMENT=345", "https://t.me/durov/12?comment=345"),
    # forum topics: the last number is the post
    ("https://t.me/durovchat/7/12", "https://t.me/durovchat/12"),
    ("https://t.me/durovchat/12?thread=7", "https://t.me/durovchat/12"),
    ("https://t.me/durovchat/7/12?comment=9", "https://t.me/durovchat/12?comment=9"),
    ("https://t.me/durovchat/x/12", None),
    ("https://t.me/durovchat/1/2/3", None),
    # channels, subdomain form
    ("https://t.me/durov", "https://t.me/durov"),
    ("t.me/Durov_Channel", "https://t.me/Durov_Channel"),
    ("https://t.me/durov?start=abc", "https://t.me/durov"),
    ("t.me/s/durov", "https://t.me/durov"),
    ("durov.t.me", "https://t.me/durov"),
    ("https://Durov.t.me/12", "https://t.me/Durov/12"),
    ("https://www.durov.t.me", "https://t.me/durov"),
    ("https://t.me", None),
    ("https://t.me/", None),
    # usernames: 5..32 chars, letter first, no trailing underscore, reserved words
    ("t.me/abcd", "https://t.me/abcd"),  # 4 characters: a collectible username
    ("t.me/abc", None),
    ("t.me/abcde", "https://t.me/abcde"),
    ("t.me/" + "a" * 32, "https://t.me/" + "a" * 32),
    ("t.me/" + "a" * 33, None),
    ("t.me/1durov", None),
    ("t.me/_durov", None),
    ("t.me/durov_", None),
    ("t.me/du-rov", None),
    ("t.me/@durov", None),
    ("t.me/durové", None),
    # private posts
    ("https://t.me/c/1234567890/55", "https://t.me/c/1234567890/55"),
    ("t.me/c/1234567890/3/55", "https://t.me/c/1234567890/55"),
    ("t.me/C/001234567890/055", "https://t.me/c/1234567890/55"),
    ("t.me/c/1234567890/55?comment=7", "https://t.me/c/1234567890/55?comment=7"),
    ("t.me/c/1234567890/55?thread=3&single", "https://t.me/c/1234567890/55"),
    ("t.me/c/1234567890", None),
    ("t.me/c/abc/55", None),
    ("t.me/c/1234567890/x/55", None),
    # stories
    ("https://t.me/durov/s/3", "https://t.me/durov/s/3"),
    ("t.me/Durov/S/03", "https://t.me/Durov/s/3"),
    ("t.me/durov/s/0", None),
    ("t.me/durov/s", None),
    # invites: the hash is case-sensitive
    ("https://t.me/+AbCdEf123_-x", "https://t.me/+AbCdEf123_-x"),
    ("t.me/joinchat/AbCdEf123", "https://t.me/+AbCdEf123"),
    ("https://telegram.me/JOINCHAT/AbCdEf123", "https://t.me/+AbCdEf123"),
    ("t.me/%2BAbCdEf123", "https://t.me/+AbCdEf123"),
    ("t.me/+AbCdEf123?x=1", "https://t.me/+AbCdEf123"),
    ("t.me/+", None),
    ("t.me/joinchat", None),
    ("t.me/joinchat/", None),
    ("t.me/+Ab$Cd", None),
    # phone number links are not content
    ("t.me/+6281234567890", None),
    ("https://t.me/+628123", None),
    # tg:// forms; tg: equals tg://
    ("tg://resolve?domain=durov&post=12", "https://t.me/durov/12"),
    ("tg:resolve?domain=Durov&post=12", "https://t.me/Durov/12"),
    ("TG://RESOLVE?domain=durov&post=12&single", "https://t.me/durov/12"),
    ("tg://resolve?domain=durov&post=12&thread=4", "https://t.me/durov/12"),
    ("tg://resolve?domain=durov&post=12&comment=8", "https://t.me/durov/12?comment=8"),
    ("tg://resolve?domain=durov", "https://t.me/durov"),
    ("tg://resolve?domain=durov&story=4", "https://t.me/durov/s/4"),
    ("tg://resolve?domain=durov&post=x", None),
    ("tg://resolve?phone=6281234567890", None),
    ("tg://resolve?domain=durov&phone=628123", None),
    ("tg://resolve?domain=joinchat", None),
    ("tg://resolve", None),
    ("tg://privatepost?channel=1234567890&post=55", "https://t.me/c/1234567890/55"),
    ("tg:privatepost?channel=1234567890&post=55&thread=2", "https://t.me/c/1234567890/55"),
    ("tg://privatepost?channel=1234567890", None),
    ("tg://join?invite=AbCdEf123", "https://t.me/+AbCdEf123"),
    ("tg://join?invite=", None),
    ("tg://user?id=123456", None),
    ("tg://msg_url?url=https://t.me/durov/1", None),
    ("tg://addstickers?set=foo", None),
    # non-content Telegram links
    ("https://t.me/addstickers/SomePack", None),
    ("https://t.me/addemoji/SomePack", None),
    ("https://t.me/addtheme/SomeTheme", None),
    ("https://t.me/bg/abcdef", None),
    ("https://t.me/share/url?url=https://t.me/durov/1", None),
    ("https://t.me/proxy?server=1.2.3.4&port=443&secret=ab", None),
    ("https://t.me/socks?server=1.2.3.4&port=1080", None),
    ("https://t.me/setlanguage/id", None),
    ("https://t.me/confirmphone?phone=62812&hash=ab", None),
    ("https://t.me/login/12345", None),
    ("https://t.me/invoice/abcdef", None),
    ("https://t.me/boost/durov", "https://t.me/durov"),  # boosting a chat: the chat
    ("tg://boost?domain=durov", "https://t.me/durov"),
    ("https://t.me/boost/", None),
    ("https://t.me/giftcode/abcdef", None),
    ("https://t.me/addlist/AbCdEf12", "https://t.me/addlist/AbCdEf12"),  # a shared folder
    ("tg://addlist?slug=AbCdEf12", "https://t.me/addlist/AbCdEf12"),
    ("https://t.me/addlist/", None),
    ("https://t.me/m/abcdef", None),
    ("https://t.me/iv?url=https://example.com&rhash=1", None),
    ("https://addstickers.t.me/SomePack", None),
    ("https://c.t.me/1234567890/55", None),
    # look-alike domains and other junk
    ("https://t.me.evil.com/durov/12", None),
    ("https://evilt.me/durov/12", None),
    ("https://t-me.com/durov/12", None),
    ("https://telegram.me.ru/durov/12", None),
    ("https://xn--t-me-abc.com/durov/12", None),
    ("https://xn--80ak6aa92e.t.me/12", None),
    ("https://t.rne/durov/12", None),
    ("https://т.me/durov/12", None),
    ("https://t．me/durov/12", None),
    ("https://t.me@evil.com/durov/12", None),
    ("https://user@t.me/durov/12", None),
    ("https://evil.com/t.me/durov/12", None),
    ("https://evil.com?u=t.me/durov/12", None),
    ("ftp://t.me/durov/12", None),
    ("javascript:t.me/durov/12", None),
    ("https://t.me/durov/12 extra", None),
    ("durov", None),
    ("", None),
    # usernames: "__" and a trailing "_" make no username
    ("t.me/du_rov", "https://t.me/du_rov"),
    ("t.me/d_u_r_o_v", "https://t.me/d_u_r_o_v"),
    ("t.me/du__rov", None),
    ("t.me/durov__", None),
    ("t.me/du__rov/12", None),
    ("du__rov.t.me", None),
    ("tg://resolve?domain=du__rov", None),
    ("tg://resolve?domain=durov_&post=1", None),
    # mini apps: t.me/<bot>/<app>; ?startapp on the bot itself is the bot
    ("https://t.me/GambleBot/Slots", "https://t.me/GambleBot/Slots"),
    ("t.me/gamblebot/slots?startapp=ref_77&mode=compact", "https://t.me/gamblebot/slots"),
    ("https://t.me/gamblebot/slots/", "https://t.me/gamblebot/slots"),
    ("gamblebot.t.me/slots", "https://t.me/gamblebot/slots"),
    ("tg://resolve?domain=gamblebot&appname=slots&startapp=x", "https://t.me/gamblebot/slots"),
    ("https://t.me/gamblebot?startapp=ref_77", "https://t.me/gamblebot"),
    ("https://t.me/gamblebot?startapp", "https://t.me/gamblebot"),
    ("tg://resolve?domain=gamblebot&startapp=x", "https://t.me/gamblebot"),
    ("t.me/gamblebot/sl", None),  # too short for an app name
    ("t.me/gamblebot/slots/more", None),
    ("t.me/gamblebot/sl-ots", None),
    ("tg://resolve?domain=gamblebot&appname=1x", None),
    ("tg://resolve?domain=gamblebot&appname=", None),
    # bot and chat actions: the chat itself
    ("t.me/somebot?start=ref_123", "https://t.me/somebot"),
    ("t.me/somebot?startgroup=x&admin=post_messages", "https://t.me/somebot"),
    ("t.me/somebot?startgroup", "https://t.me/somebot"),
    ("t.me/somebot?game=tetris", "https://t.me/somebot"),
    ("t.me/durovchat?voicechat=abc", "https://t.me/durovchat"),
    ("t.me/durovchat?livestream", "https://t.me/durovchat"),
    ("t.me/durov?boost", "https://t.me/durov"),
    ("t.me/somebot?ref=abc", "https://t.me/somebot"),
    ("tg://resolve?domain=somebot&start=abc", "https://t.me/somebot"),
    ("tg://resolve?domain=durovchat&voicechat", "https://t.me/durovchat"),
    # extra path after a valid post: the post
    ("t.me/durov/12/junk", "https://t.me/durov/12"),
    ("https://t.me/durov/12/junk/more/7?single", "https://t.me/durov/12"),
    ("t.me/durov/12/s", "https://t.me/durov/12"),
    ("t.me/durovchat/7/12/x/9", "https://t.me/durovchat/12"),
    ("t.me/s/durov/12/abc", "https://t.me/durov/12"),
    ("t.me/durov/12/junk?comment=5", "https://t.me/durov/12?comment=5"),
    ("t.me/c/1234567890/55/junk", "https://t.me/c/1234567890/55"),
    ("t.me/c/1234567890/3/55/x/y", "https://t.me/c/1234567890/55"),
    ("t.me/durov/12/3/4/x", None),  # three numbers: no sure reading
    ("t.me/c/1234567890/1/2/3", None),
    ("t.me/durov/s/3/junk", None),  # only a post takes extra path
    # not content: no ticket
    ("https://t.me/addstyle/SomeStyle", None),
    ("https://t.me/msg?text=hi&to=durov", None),
    ("https://t.me/$AbCdEf123", None),
    ("https://t.me/auction/abcdef", None),
    ("https://t.me/nft/SomeGift-123", None),
    ("https://t.me/newbot/durovbot/NewDurovBot?name=x", None),
    ("https://t.me/call/abcdef", None),
    ("t.me/%2B6281234567890", None),
    ("tg://addemoji?set=SomePack", None),
    ("tg://addtheme?slug=SomeTheme", None),
    ("tg://addstyle?slug=SomeStyle", None),
    ("tg://bg?slug=abcdef", None),
    ("tg://share?url=https://t.me/durov/1", None),
    ("tg://msg?text=hi&to=durov", None),
    ("tg://proxy?server=1.2.3.4&port=443&secret=ab", None),
    ("tg://socks?server=1.2.3.4&port=1080", None),
    ("tg://login?code=12345", None),
    ("tg://invoice?slug=abcdef", None),
    ("tg://giftcode?slug=abcdef", None),
    ("tg://auction?slug=abcdef", None),
    ("tg://nft?slug=SomeGift-123", None),
    ("tg://setlanguage?lang=id", None),
    ("tg://confirmphone?phone=62812&hash=ab", None),
    ("tg://newbot?manager=durovbot&username=NewDurovBot", None),
    ("tg://iv?url=https://example.com&rhash=1", None),
    ("tg://resolve?domain=auction", None),
    ("tg://resolve?domain=newbot", None),
    # percent-escapes in host, path and query mean the same link
    ("https://t%2eme/durov/12", "https://t.me/durov/12"),
    ("https://t%2Eme/durov/%31%32", "https://t.me/durov/12"),
    ("t.me/%64urov/12", "https://t.me/durov/12"),
    ("t.me/durov%2F12", "https://t.me/durov/12"),
    ("https://t.me/durov/12%3Fsingle", "https://t.me/durov/12"),
    ("https://t.me/durov/12?%63omment=%35", "https://t.me/durov/12?comment=5"),
    ("durov%2et%2eme", "https://t.me/durov"),
    ("tg://resolve?domain=%64urov&post=%31%32", "https://t.me/durov/12"),
    ("https://t.me/%2BAbCdEf123", "https://t.me/+AbCdEf123"),
    ("https://t.me/gamblebot/%73lots", "https://t.me/gamblebot/slots"),
    # ... and a decoded result that is not a link is not one
    ("https://t.me%2eevil.com/durov/12", None),
    ("https://t.me%40evil.com/durov/12", None),
    ("https://t.me/durov%2012", None),
    ("https://t.me/durov/%31%2e", None),
    ("https://t%252eme/durov/12", None),  # escaped twice: decoded once
    ("https://t.me/%D1%82urov/12", None),  # Cyrillic te
    ("https://t.me/%FFdurov/12", None),  # not UTF-8
    ("https://t.me/durov/%3", None),
    ("https://t.me/addstickers%2FSomePack", None),
    # explicit default ports mean the same link; any other port is another server
    ("https://t.me:80/durov/12", "https://t.me/durov/12"),
    ("t.me:443/durov/12", "https://t.me/durov/12"),
    ("http://telegram.me:80/durov", "https://t.me/durov"),
    ("durov.t.me:443/12", "https://t.me/durov/12"),
    ("https://t.me%3A443/durov/12", "https://t.me/durov/12"),
    ("https://t.me:8443/durov/12", None),
    ("https://t.me:8080/durov/12", None),
    ("t.me:22/durov/12", None),
    ("https://t.me:44a/durov/12", None),
    # ids: at most 15 significant digits (see test_id_bound_is_kept below)
    ("t.me/durov/s/2147483647", "https://t.me/durov/s/2147483647"),
    ("t.me/durov/s/2147483648", None),
    ("t.me/durov/s/1234567890123456", None),
    ("t.me/c/1234567890/1234567890123456", None),
    ("t.me/durovchat/1234567890123456/12", None),
    ("tg://resolve?domain=durov&post=1234567890123456", None),
    ("tg://resolve?domain=durov&story=1234567890123456", None),
    ("tg://privatepost?channel=1234567890&post=1234567890123456", None),
]


def test_table_is_big_enough() -> None:
    assert len(NORMALISE_CASES) >= 60


@pytest.mark.parametrize(("written", "canonical"), NORMALISE_CASES)
def test_normalise_link(written: str, canonical: str | None) -> None:
    link = normalise_link(written)
    assert (link.canonical if link else None) == canonical


@pytest.mark.parametrize(
    "canonical", sorted({c for _, c in NORMALISE_CASES if c is not None}, key=str)
)
def test_canonical_form_is_a_fixed_point(canonical: str) -> None:
    link = normalise_link(canonical)
    assert link is not None
    assert link.canonical == canonical


# (as written, key, kind, channel)
LINK_CASES: list[tuple[str, str, LinkKind, str | None]] = [
    ("t.me/Durov/12", "https://t.me/durov/12", LinkKind.POST, "durov"),
    ("t.me/Durov/12?comment=3", "https://t.me/durov/12?comment=3", LinkKind.COMMENT, "durov"),
    ("Durov.t.me", "https://t.me/durov", LinkKind.CHANNEL, "durov"),
    ("t.me/DUROV/s/2", "https://t.me/durov/s/2", LinkKind.STORY, "durov"),
    ("t.me/c/123456/7", "https://t.me/c/123456/7", LinkKind.PRIVATE_POST, "c/123456"),
    (
        "t.me/c/123456/7?comment=8",
        "https://t.me/c/123456/7?comment=8",
        LinkKind.PRIVATE_POST,
        "c/123456",
    ),
    ("t.me/+AbCd_ef", "https://t.me/+AbCd_ef", LinkKind.INVITE, None),
    ("tg://join?invite=abcd_EF", "https://t.me/+abcd_EF", LinkKind.INVITE, None),
    ("t.me/GambleBot/Slots", "https://t.me/gamblebot/slots", LinkKind.MINI_APP, "gamblebot"),
    (
        "tg://resolve?domain=GambleBot&appname=Slots",
        "https://t.me/gamblebot/slots",
        LinkKind.MINI_APP,
        "gamblebot",
    ),
    ("t.me/GambleBot?startapp=x", "https://t.me/gamblebot", LinkKind.CHANNEL, "gamblebot"),
    ("t.me/Durov/12/junk", "https://t.me/durov/12", LinkKind.POST, "durov"),
    ("https://t%2Eme/Durov", "https://t.me/durov", LinkKind.CHANNEL, "durov"),
]


@pytest.mark.parametrize(("written", "key", "kind", "channel"), LINK_CASES)
def test_link_key_kind_channel(
    written: str, key: str, kind: LinkKind, channel: str | None
) -> None:
    link = normalise_link(written)
    assert link is not None
    assert (link.key, link.kind, link.channel) == (key, kind, channel)


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("https://t.me/Durov/12", "telegram.me/durov/0012?single", True),
        ("t.me/s/DUROV/12", "tg://resolve?domain=durov&post=12", True),
        ("t.me/durovchat/5/12", "t.me/durovchat/12?thread=5", True),
        ("t.me/durov/12", "t.me/durov/12?comment=1", False),
        ("t.me/c/100/5", "tg://privatepost?channel=100&post=5", True),
        ("t.me/joinchat/AbCdEf", "tg://join?invite=AbCdEf", True),
        ("t.me/+AbCdEf", "t.me/+abcdef", False),
        ("t.me/durov/s/1", "t.me/durov/1", False),
        ("t.me/durov", "t.me/durov/1", False),
        ("t.me/GambleBot/Slots?startapp=1", "tg://resolve?domain=gamblebot&appname=slots", True),
        ("t.me/gamblebot/slots", "t.me/gamblebot", False),
        ("t.me/gamblebot/slots", "t.me/gamblebot/poker", False),
        ("t.me/gamblebot?startapp=1", "t.me/gamblebot?start=2", True),
        ("https://t%2eme/durov/%31%32", "t.me/durov/12", True),
        ("t.me:443/durov/12", "t.me/durov/12/junk", True),
    ],
)
def test_dedup_keys(first: str, second: str, same: bool) -> None:
    a, b = normalise_link(first), normalise_link(second)
    assert a is not None
    assert b is not None
    assert (a.key == b.key) is same


def test_id_bound_is_32_bits() -> None:
    # post, story and comment ids are 32-bit signed integers in the Bot API; a private
    # channel's internal id is larger (chat ids are -100<internal>)
    assert normalise_link("t.me/durov/2147483647") is not None
    assert normalise_link("t.me/durov/2147483648") is None
    private = normalise_link("t.me/c/1234567890123/5")
    assert private is not None and private.canonical == "https://t.me/c/1234567890123/5"


def test_link_is_frozen_value() -> None:
    link = normalise_link("t.me/durov/1")
    assert link is not None
    assert link == Link("https://t.me/durov/1", "https://t.me/durov/1", LinkKind.POST, "durov")
    assert str(LinkKind.PRIVATE_POST) == "private_post"
    with pytest.raises(AttributeError):
        link.key = "x"  # type: ignore[misc]


# (text, entity urls, expected canonical links in order)
EXTRACT_CASES: list[tuple[str, tuple[str, ...], list[str]]] = [
    ("", (), []),
    ("halo semua, rapat jam 10.30 ya", (), []),
    (
        "See t.me/abcde/1, https://t.me/fghij/2. And (telegram.me/klmno/3)!",
        (),
        ["https://t.me/abcde/1", "https://t.me/fghij/2", "https://t.me/klmno/3"],
    ),
    (
        "t.me/Durov/12, https://telegram.me/durov/0012?single, tg:resolve?domain=DUROV&post=12",
        (),
        ["https://t.me/Durov/12"],
    ),
    (
        "first t.me/abcde/1 then [t.me/fghij/2]",
        ("https://t.me/zzzzz/9", "t.me/abcde/1"),
        ["https://t.me/zzzzz/9", "https://t.me/abcde/1", "https://t.me/fghij/2"],
    ),
    ("(https://t.me/abcde/1)", (), ["https://t.me/abcde/1"]),
    ("«t.me/abcde/1», 't.me/fghij/2'", (), ["https://t.me/abcde/1", "https://t.me/fghij/2"]),
    ("<t.me/abcde/1>", (), ["https://t.me/abcde/1"]),
    ("**t.me/abcde/1**", (), ["https://t.me/abcde/1"]),
    ("link:t.me/abcde/1", (), ["https://t.me/abcde/1"]),
    ("t.me/abcde/1,t.me/fghij/2", (), ["https://t.me/abcde/1", "https://t.me/fghij/2"]),
    (
        "Is this t.me/abcde/1? Yes: t.me/abcde/2...",
        (),
        ["https://t.me/abcde/1", "https://t.me/abcde/2"],
    ),
    (
        "Tolong hapus t.me/propaganda_id/123 segera, kontennya melanggar.",
        (),
        ["https://t.me/propaganda_id/123"],
    ),
    (
        "t.me/abcde/5\nt.me/abcde/6\r\nt.me/abcde/5",
        (),
        ["https://t.me/abcde/5", "https://t.me/abcde/6"],
    ),
    (
        "🚨t.me/abcde/1🚨 👉 https://t.me/fghij/2👈",
        (),
        ["https://t.me/abcde/1", "https://t.me/fghij/2"],
    ),
    ("😀😀 t.me/+AbC 👍🏽 t.me/+abc", (), ["https://t.me/+AbC", "https://t.me/+abc"]),
    ("\ud83d t.me/abcde/1 \ude00", (), ["https://t.me/abcde/1"]),
    (
        "kanal t.me/c/1234567890/3/55 dan t.me/abcde/s/2",
        (),
        ["https://t.me/c/1234567890/55", "https://t.me/abcde/s/2"],
    ),
    ("Durov.t.me dan t.me/durov", (), ["https://t.me/Durov"]),
    # not picked out of other domains, paths, addresses or queries
    ("https://evil.com/t.me/abcde/1", (), []),
    ("https://evil.com?u=t.me/abcde/1", (), []),
    ("https://evil.com/#t.me/abcde/1", (), []),
    ("evilt.me/abcde/1 t.me.evil.com/abcde/1 user@t.me/abcde/1", (), []),
    ("t.me@evil.com/abcde/1", (), []),
    ("xn--abc.t.me/1 т.me/abcde/1 t．me/abcde/1 t.rne/abcde/1", (), []),
    ("t.me/addstickers/Pack t.me/+6281234567890 t.me/abcde/1", (), ["https://t.me/abcde/1"]),
    # mini apps, actions, percent-escapes, ports, extra path
    (
        "main di t.me/GambleBot/Slots?startapp=x, bot t.me/somebot?start=ref",
        (),
        ["https://t.me/GambleBot/Slots", "https://t.me/somebot"],
    ),
    (
        "lapor https://t%2Eme/abcde/%31 dan t.me:443/fghij/2.",
        (),
        ["https://t.me/abcde/1", "https://t.me/fghij/2"],
    ),
    ("abcde%2et%2eme dan t.me%2Fabcde%2F3", (), ["https://t.me/abcde", "https://t.me/abcde/3"]),
    ("t.me:8443/abcde/1 t.me/abcde/2/extra", (), ["https://t.me/abcde/2"]),
    ("t.me/du__rov/1 t.me/durov_/2 t.me/abcde_x/3", (), ["https://t.me/abcde_x/3"]),
    (
        "t.me/addstyle/X t.me/$abc t.me/newbot t.me/auction/y t.me/abcde/1",
        (),
        ["https://t.me/abcde/1"],
    ),
    ("", ("https://t%2Eme/abcde/%31", "t.me:80/abcde/1"), ["https://t.me/abcde/1"]),
    ("", ("https://t.me:8443/abcde/1",), []),
    # entity urls that are not Telegram links are ignored
    ("", ("https://example.com/a", "mailto:x@example.com"), []),
]


@pytest.mark.parametrize(("text", "entity_urls", "expected"), EXTRACT_CASES)
def test_extract_links(text: str, entity_urls: tuple[str, ...], expected: list[str]) -> None:
    assert [link.canonical for link in extract_links(text, entity_urls)] == expected


def test_extract_links_default_entity_urls() -> None:
    assert extract_links("t.me/abcde/1") == [normalise_link("t.me/abcde/1")]


# (text, entity urls, has a non-Telegram URL)
FOREIGN_CASES: list[tuple[str, tuple[str, ...], bool]] = [
    ("see example.com", (), True),
    ("see example.com/path?q=1", (), True),
    ("https://x.com/a", (), True),
    ("HTTP://EXAMPLE.ORG", (), True),
    ("www.example", (), True),
    ("berita di detik.com, tolong cek", (), True),
    ("kominfo.go.id/berita", (), True),
    ("youtu.be/abc", (), True),
    ("t.me.evil.com/durov/1", (), True),
    ("https://t.me@evil.com/durov", (), True),
    ("lapor t.me/durov/1 dan https://x.com/a", (), True),
    ("", ("https://example.com/a",), True),
    ("", ("example.com",), True),
    ("t.me/durov/1", (), False),
    ("https://telegram.me/durov/1", (), False),
    ("durov.t.me and tg://resolve?domain=durov", (), False),
    ("https://telegram.org/faq", (), False),
    ("t.me/addstickers/Pack", (), False),
    ("e.g. this, i.e. that", (), False),
    ("version 1.5 costs Rp1.500.000 at 10.30", (), False),
    ("Mr.Smith said hello.world", (), False),
    ("email me at someone@example.com", (), False),
    ("plain words only", (), False),
    ("", ("https://t.me/durov/1", "tg://user?id=5", "mailto:a@example.com"), False),
    # another port is another server: a foreign URL
    ("https://t.me:8443/durov/1", (), True),
    ("lihat t.me:8080/durov", (), True),
    ("", ("https://t.me:8443/durov/1",), True),
    ("", ("https://evil%2ecom/a",), True),
    ("https://t.me:443/durov/1 and http://t.me:80/durov", (), False),
    ("https://t%2Eme/durov/1", (), False),
    ("", ("https://t%2Eme/durov/1",), False),
    ("", (), False),
]


@pytest.mark.parametrize(("text", "entity_urls", "expected"), FOREIGN_CASES)
def test_has_foreign_url(text: str, entity_urls: tuple[str, ...], expected: bool) -> None:
    assert has_foreign_url(text, entity_urls) is expected


POST, PRIVATE = LinkKind.POST, LinkKind.PRIVATE_POST


# (username, chat id, message id, canonical, key, kind, channel)
CHANNEL_POST_CASES: list[tuple[str | None, int, int, str, str, LinkKind, str]] = [
    ("Durov", -1001006503122, 12, "https://t.me/Durov/12", "https://t.me/durov/12", POST, "durov"),
    ("@durov", -1001006503122, 7, "https://t.me/durov/7", "https://t.me/durov/7", POST, "durov"),
    (
        None,
        -1001234567890,
        55,
        "https://t.me/c/1234567890/55",
        "https://t.me/c/1234567890/55",
        PRIVATE,
        "c/1234567890",
    ),
    (
        "",
        -1001234567890,
        5,
        "https://t.me/c/1234567890/5",
        "https://t.me/c/1234567890/5",
        PRIVATE,
        "c/1234567890",
    ),
]


@pytest.mark.parametrize(
    ("username", "chat_id", "message_id", "canonical", "key", "kind", "channel"),
    CHANNEL_POST_CASES,
)
def test_channel_post_link(
    username: str | None,
    chat_id: int,
    message_id: int,
    canonical: str,
    key: str,
    kind: LinkKind,
    channel: str,
) -> None:
    link = channel_post_link(username, chat_id, message_id)
    assert link == Link(canonical, key, kind, channel)
    assert normalise_link(canonical) == link


@pytest.mark.parametrize(
    ("username", "chat_id", "message_id"),
    [(None, -4001234567, 5), (None, 12345, 5), ("durov", -1001006503122, 0)],
)
def test_channel_post_link_rejects_impossible_posts(
    username: str | None, chat_id: int, message_id: int
) -> None:
    with pytest.raises(ValueError, match=r"no post links|must be positive"):
        channel_post_link(username, chat_id, message_id)


URGENT_CASES: list[tuple[str, bool]] = [
    ("#urgent t.me/durov/1", True),
    ("t.me/durov/1 !urgent", True),
    ("t.me/durov/1 #URGENT", True),
    ("Tolong #Urgent.", True),
    ("(#urgent)", True),
    ("🚨#urgent", True),
    ("catatan:#urgent", True),
    ("#urgently", False),
    ("#urgent_now", False),
    ("urgent", False),
    ("not-#urgent", False),
    ("t.me/durov/1#urgent", False),
    ("https://example.com/#urgent", False),
    ("https://example.com/a?tag=!urgent", False),
    ("", False),
]


@pytest.mark.parametrize(("text", "expected"), URGENT_CASES)
def test_is_urgent(text: str, expected: bool) -> None:
    assert is_urgent(text) is expected
