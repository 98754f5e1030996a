"""Done when: over signed HTTP with a running worker on an injected clock, a rule made for two
minutes from now runs once at its time, tags exactly the list's members, shows in
`/cctag rules`, is not run again by a restarted worker, and pauses with `/cctag rule pause`.
On SQLite and PostgreSQL."""

from __future__ import annotations

from bot.clock import FakeClock
from bot.store.rules import RuleStore
from tests.support.rules import worker
from tests.support.slack import Bot, text_of, wait_for

TAG = "VIP"
LIST = "VIP Customers"
# The clock starts at 00:58 in Paris (23:58 UTC): 01:00 there is two minutes away.
LINE = f'every day at 01:00 add {TAG} --lists "{LIST}"'


def tagged(bot: Bot) -> set[str]:
    account = bot.sandbox.state.account()
    tag = account.tag_by_name(TAG)
    assert tag is not None
    return set(account.tag_members.get(tag.tag_id, set()))


def list_members(bot: Bot) -> set[str]:
    account = bot.sandbox.state.account()
    [list_id] = [i for i, found in account.lists.items() if found.name == LIST]
    return set(account.list_members[list_id])


def run_parents(bot: Bot) -> list[str]:
    return [m.ts for m in bot.parents() if "asked to add tag" in m.text]


def test_a_rule_runs_once_at_its_time_and_pauses(rules_bot: Bot, clock: FakeClock) -> None:
    bot = rules_bot
    bot.fake.add_user("U0001", tz="Europe/Paris")
    members = list_members(bot)
    assert members and not members <= tagged(bot), "the list holds contacts not tagged yet"
    before = tagged(bot)

    made = text_of(bot.command(LINE, "make"))
    assert "You asked to *add tag “VIP” to contacts on list “VIP Customers”*" in made
    assert "Rule `1`* made: *every day at 01:00* (Europe/Paris)" in made
    assert "Next run: Sun 29 Mar 01:00 Europe/Paris" in made
    assert bot.parents() == [] and bot.activities() == 0, "making a rule starts nothing"

    with worker(bot, clock, "worker-1") as running:
        running.rounds()
        clock.advance(60)  # 00:59 in Paris: not yet
        running.rounds()
        assert run_parents(bot) == []
        clock.advance(61)  # 01:00:01
        [parent] = wait_for(lambda: run_parents(bot), what="the run's parent message")
        posted = bot.fake.message("C0001", parent)
        shown = text_of({"text": posted.text, "blocks": posted.blocks})
        assert "<@U0001> asked to add tag “VIP” to contacts on list “VIP Customers”" in shown
        assert "Rule `1`: every day at 01:00 (Europe/Paris)" in shown  # which rule ran it
        for _ in range(100):  # the activity runs 20 s on the clock; the worker follows it
            tracked = bot.store.recent_activities("T0001")
            if tracked and all(row.finished for row in tracked):
                break
            clock.advance(2)
            running.rounds(1)
        thread = [m.text for m in bot.fake.thread("C0001", parent)]
        assert any("completed" in text for text in thread), thread
        assert tagged(bot) == before | members
        assert len(bot.store.recent_activities("T0001")) == 1
        assert run_parents(bot) == [parent]

    listed = text_of(bot.command("rules", "list"))
    assert "`1` *every day at 01:00* (Europe/Paris)" in listed
    assert "last: started Sun 29 Mar 01:00 Europe/Paris" in listed
    # The next run is a day later on the wall clock, across the change to summer time.
    assert "next run Mon 30 Mar 01:00 Europe/Paris" in listed

    with worker(bot, clock, "worker-2") as restarted:  # a restarted worker: nothing to run
        restarted.rounds()
        clock.advance(600)
        restarted.rounds()
        assert run_parents(bot) == [parent] and bot.activities() == 1

        paused = text_of(bot.command("rule pause 1", "pause"))
        assert "Paused rule `1`" in paused
        assert "*paused* (paused by <@U0001>)" in text_of(bot.command("rules", "list-2"))
        clock.advance(2 * 24 * 3600)  # two more 01:00s pass while it is paused
        restarted.rounds()
        assert run_parents(bot) == [parent] and bot.activities() == 1
    [rule] = RuleStore(bot.store).of_workspace("T0001")
    assert rule.paused and rule.failures == 0
