"""Names that look the same are never guessed between (issue 17, item 1): two lists, tags or
segments whose names fold alike (case, spaces, Unicode forms) make a request refuse before any
write, naming each with its id; an id picks one."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.devkit.sandbox.state import ListRecord, TagRecord
from bot.usecases.names import fold
from tests.support.slack import Bot, text_of, wait_for

OTHER_LIST = "20000000-0000-4000-8000-000000000001"
OTHER_TAG = "30000000-0000-4000-8000-000000000001"


def newsletter_id(bot: Bot) -> str:
    account = bot.sandbox.state.account()
    return next(i for i, x in account.lists.items() if x.name == "Newsletter")


def give_lowercase_newsletter(bot: Bot) -> None:
    """A second list, "newsletter", with 49 contacts of its own."""
    account = bot.sandbox.state.account()
    now = datetime.now(UTC)
    with bot.sandbox.state.lock:
        account.lists[OTHER_LIST] = ListRecord(OTHER_LIST, "newsletter", "", False, now, now)
        members = set(list(account.active)[:49])
        account.list_members[OTHER_LIST] = members
        for contact_id in members:
            account.contacts[contact_id].lists.add(OTHER_LIST)


def tagged(bot: Bot, name: str) -> int:
    account = bot.sandbox.state.account()
    tag = account.tag_by_name(name)
    assert tag is not None
    return len(account.tag_members[tag.tag_id])


def test_two_lists_differing_in_case_refuse_naming_both_and_change_nothing(bot: Bot) -> None:
    give_lowercase_newsletter(bot)
    before = tagged(bot, "VIP")
    reply = text_of(bot.command("add VIP --lists Newsletter", "n1"))
    assert "2 lists answer to “Newsletter”" in reply
    assert f"“Newsletter” (id {newsletter_id(bot)})" in reply
    assert f"“newsletter” (id {OTHER_LIST})" in reply
    assert "type one's id in place of the name" in reply
    assert bot.parents() == [] and bot.activities() == 0 and tagged(bot, "VIP") == before
    assert any(o.startswith("refused: 2 lists answer") for _, o in bot.audit())


def test_an_id_picks_one_of_two_lists_of_the_same_name(bot: Bot) -> None:
    give_lowercase_newsletter(bot)
    reply = text_of(bot.command(f"add VIP --lists {OTHER_LIST}", "n2"))
    assert "Started:" in reply and bot.activities() == 1
    [activity] = bot.sandbox.state.account().activities.values()
    members = bot.sandbox.state.account().list_members[OTHER_LIST]
    assert activity.contact_ids == frozenset(members)  # the 49 of "newsletter", no others


def test_target_lists_and_tags_that_fold_alike_are_refused_too(bot: Bot) -> None:
    give_lowercase_newsletter(bot)
    account = bot.sandbox.state.account()
    now = datetime.now(UTC)
    with bot.sandbox.state.lock:  # "VIP" and "V I P"-like: the API only refuses case twins
        account.tags[OTHER_TAG] = TagRecord(OTHER_TAG, "  vip ", None, now, now)
        account.tag_members[OTHER_TAG] = set()
    lists = text_of(bot.command("lists NEWSLETTER --contacts contact1@example.com", "n3"))
    assert "2 lists answer to “NEWSLETTER”" in lists
    tags = text_of(bot.command("add vip --contacts contact1@example.com", "n4"))
    assert "2 tags answer to “vip”" in tags and f"(id {OTHER_TAG})" in tags
    deleting = text_of(bot.command("delete VIP", "n5"))
    assert "2 tags answer to “VIP”" in deleting and f"(id {OTHER_TAG}, 0 contacts)" in deleting
    renaming = text_of(bot.command("rename VIP --to Gold", "n6"))
    assert "2 tags answer to “VIP”" in renaming
    assert bot.parents() == [] and bot.activities() == 0
    assert account.tag_by_name("Gold") is None


def test_unicode_forms_and_spaces_fold_alike(bot: Bot) -> None:
    account = bot.sandbox.state.account()
    now = datetime.now(UTC)
    composed, decomposed = "Caf\u00e9  club", "cafe\u0301 Club"
    with bot.sandbox.state.lock:
        for index, name in enumerate((composed, decomposed)):
            tag_id = f"40000000-0000-4000-8000-00000000000{index}"
            account.tags[tag_id] = TagRecord(tag_id, name, None, now, now)
            account.tag_members[tag_id] = set()
    reply = text_of(bot.command('add "Café club" --contacts contact1@example.com', "n7"))
    assert "2 tags answer to “Café club”" in reply and bot.activities() == 0


def test_two_segments_of_the_same_name_are_refused_and_picked_by_id(bot: Bot) -> None:
    account = bot.sandbox.state.account()
    with bot.sandbox.state.lock:
        account.segments[3] = set(list(account.active)[:5])
        account.segment_names[3] = "engaged  READERS"
        account.segment_created[3] = account.segment_created[1]
        account.segment_computing[3] = 0
        account.segment_computing[1] = 0
    reply = text_of(bot.command('add VIP --segment "Engaged readers"', "n8"))
    assert "2 segments answer to “Engaged readers”" in reply
    assert "(id 1)" in reply and "(id 3)" in reply
    assert bot.parents() == [] and bot.activities() == 0
    started = text_of(bot.command("add VIP --segment 3", "n9"))
    assert "Started:" in started


def test_show_lists_names_each_list_with_its_count_and_look_alikes_with_their_ids(
    bot: Bot,
) -> None:
    give_lowercase_newsletter(bot)
    shown = text_of(bot.command("show lists", "s1"))
    account = bot.sandbox.state.account()
    assert f"*{len(account.lists)} lists*" in shown
    assert f"*newsletter* (id `{OTHER_LIST}`): 49 contacts" in shown
    assert f"*Newsletter* (id `{newsletter_id(bot)}`)" in shown
    donors = next(i for i, x in account.lists.items() if x.name == "Donors")
    assert f"*Donors*: {len(account.list_members[donors])} contacts" in shown


def test_show_segments_and_campaigns_by_name(bot: Bot) -> None:
    segments = text_of(bot.command("show segments", "s2"))
    assert "*Engaged readers* (id `1`)" in segments and "*Active donors* (id `2`)" in segments
    campaigns = text_of(bot.command("show campaigns", "s3"))
    book = bot.sandbox.state.account().campaigns
    assert book is not None
    recent = [c for c in book.campaigns.values() if (datetime.now(UTC) - c.updated_at).days < 365]
    assert recent and all(f"*{c.name}*" in campaigns for c in recent)
    assert "most recent first" in campaigns
    for key, wrong in (("w1", "show"), ("w2", "show tags please")):
        assert "Say what to show: `/cctag show lists`" in text_of(bot.command(wrong, key))
    assert "/cctag show lists|segments|campaigns" in text_of(bot.command("help", "s4"))


def test_a_list_picked_from_the_menu_is_that_list_even_when_another_looks_alike(
    bot: Bot,
) -> None:
    give_lowercase_newsletter(bot)
    tag = bot.account.find_tag_by_name("VIP")
    assert tag is not None
    assert bot.local.command("add", key="open-add").status_code == 200
    view = wait_for(lambda: list(bot.fake.views.values()), what="a modal")[-1]
    values = {"targets": [(tag.tag_id, tag.name)], "source_lists": [(OTHER_LIST, "newsletter")]}
    assert bot.local.submit(view, values).status_code == 200
    wait_for(lambda: bot.activities() == 1, what="one activity")
    [activity] = bot.sandbox.state.account().activities.values()
    assert activity.contact_ids == frozenset(bot.sandbox.state.account().list_members[OTHER_LIST])


def test_menu_labels_that_collide_after_slacks_cut_stay_distinguishable(bot: Bot) -> None:
    account = bot.sandbox.state.account()
    now = datetime.now(UTC)
    head = "Newsletter subscribers of the spring and summer campaigns in the north region"
    with bot.sandbox.state.lock:
        for index, tail in enumerate((" 2025", " 2026", "")):
            list_id = f"50000000-0000-4000-8000-00000000000{index}"
            account.lists[list_id] = ListRecord(list_id, head + tail, "", False, now, now)
            account.list_members[list_id] = set()
        account.lists[OTHER_LIST] = ListRecord(OTHER_LIST, "NEWSLETTER", "", False, now, now)
        account.list_members[OTHER_LIST] = set()
    options = bot.local.options("list_select", "newsletter").json()["options"]
    labels = [o["text"]["text"] for o in options]
    assert all(len(label) <= 75 for label in labels)
    assert len({fold(label) for label in labels}) == len(labels), labels
    assert sum("· id 50000000" in label for label in labels) == 3
    assert any(label.startswith("NEWSLETTER · id 20000000") for label in labels)
