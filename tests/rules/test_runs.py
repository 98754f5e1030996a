"""Runs of rules, on an injected clock, over signed HTTP for making and changing them: a missed
run, two workers, pause and resume, a tag deleted since (three refusals pause the rule and
tell its creator by DM), a run the day's budget cannot pay, and who may change a rule."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from slack_sdk import WebClient

from bot.clock import FakeClock
from bot.slack.conversation import ChannelPosts
from bot.store.rules import RuleRow, RuleStore
from bot.usecases.rules.runner import RuleRunner
from tests.support.rules import pipeline_of
from tests.support.slack import Bot, run_poller, text_of
from tests.support.undo import click_undo_and_confirm, end_with_undo, members

DAY = 24 * 3600
# The clock starts at 23:58 UTC; the creator's zone is UTC here.
LINE = 'every day at 00:00 add Volunteer --lists "VIP Customers"'


def runner(bot: Bot, clock: FakeClock, owner: str) -> RuleRunner:
    client = WebClient(token="xoxb-test", base_url=bot.slack.api_url)
    return RuleRunner(pipeline_of(bot, clock), lambda _: ChannelPosts(client), clock, owner=owner)


def make(bot: Bot, line: str = LINE, key: str = "make", user: str = "U0001") -> str:
    bot.fake.add_user(user)
    return text_of(bot.command(line, key, user=user))


def run_parents(bot: Bot) -> list[str]:
    return [m.text for m in bot.parents() if "asked to" in m.text]


def words_in_channel(bot: Bot, start: str) -> list[str]:
    return [m.text for m in bot.parents() if m.text.startswith(start)]


def rule(bot: Bot) -> RuleRow:
    [found] = RuleStore(bot.store).of_workspace("T0001")
    return found  # type: ignore[return-value]


def test_runs_missed_while_down_run_once_when_back(rules_bot: Bot, clock: FakeClock) -> None:
    bot = rules_bot
    assert "Rule `1`* made" in make(bot)
    clock.advance(3 * DAY)  # down for three days: three midnights went by
    worker = runner(bot, clock, "w1")
    worker.run_due()
    worker.run_due()
    assert len(run_parents(bot)) == 1 and bot.activities() == 1
    assert rule(bot).next_run_at == datetime(2026, 4, 1, tzinfo=UTC)  # after now, not before
    clock.advance(DAY)
    worker.run_due()
    assert len(run_parents(bot)) == 2, "the next day's run happens as usual"


def test_two_workers_at_once_make_exactly_one_run(rules_bot: Bot, clock: FakeClock) -> None:
    bot = rules_bot
    make(bot)
    clock.advance(180)
    workers = [runner(bot, clock, f"w{n}") for n in range(2)]
    start = threading.Barrier(2)

    def go(worker: RuleRunner) -> Callable[[], None]:
        def run() -> None:
            start.wait()
            worker.run_due()

        return run

    threads = [threading.Thread(target=go(worker)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for worker in workers:  # and again, one after the other: nothing is due any more
        worker.run_due()
    assert len(run_parents(bot)) == 1 and bot.activities() == 1
    assert (rule(bot).last_result or "").startswith("started")


def test_a_lost_record_does_not_run_twice(rules_bot: Bot, clock: FakeClock) -> None:
    """A worker dies after the run, before recording it: its lease ends, another worker takes
    the rule, and the run's key keeps it to the one run already made."""
    bot = rules_bot
    make(bot)
    clock.advance(180)
    store = RuleStore(bot.store)
    [claimed] = store.claim_due("dead", 60)
    runner(bot, clock, "dead")._run(claimed)  # runs, but is never recorded
    with bot.store.write() as session:
        session.execute(sa.update(RuleRow).values(next_run_at=claimed.next_run_at))
    clock.advance(61)
    runner(bot, clock, "w2").run_due()
    assert len(run_parents(bot)) == 1 and bot.activities() == 1
    assert (rule(bot).last_result or "").startswith("ran")


def test_a_runs_end_offers_undo_and_the_undo_takes_the_run_back(
    rules_bot: Bot, clock: FakeClock
) -> None:
    bot = rules_bot
    before = members(bot, "Volunteer")
    make(bot)
    clock.advance(180)
    runner(bot, clock, "w1").run_due()
    [parent] = [m.ts for m in bot.parents() if "asked to" in m.text]
    run_poller(bot, clock)
    assert members(bot, "Volunteer") > before
    end, button = end_with_undo(bot, parent)
    assert "completed" in end.text
    click_undo_and_confirm(bot, button, "undo", clock)
    assert members(bot, "Volunteer") == before


def test_pause_and_resume(rules_bot: Bot, clock: FakeClock) -> None:
    bot = rules_bot
    make(bot)
    assert "Paused rule `1`" in text_of(bot.command("rule pause 1", "pause"))
    clock.advance(2 * DAY)
    worker = runner(bot, clock, "w1")
    worker.run_due()
    assert run_parents(bot) == []
    resumed = text_of(bot.command("rule resume 1", "resume"))
    assert "Resumed rule `1`. Next run: Tue 31 Mar 00:00 UTC." in resumed
    worker.run_due()
    assert run_parents(bot) == [], "resuming runs nothing missed while paused"
    clock.advance(DAY)
    worker.run_due()
    assert len(run_parents(bot)) == 1
    assert "Deleted rule `1`" in text_of(bot.command("rule delete 1", "delete"))
    assert "No rules yet" in text_of(bot.command("rules", "none"))
    assert "No rule `1` in this workspace" in text_of(bot.command("rule pause 1", "gone"))


def test_a_tag_deleted_since_fails_three_times_then_pauses_and_tells_the_creator(
    rules_bot: Bot, clock: FakeClock
) -> None:
    bot = rules_bot
    make(bot)
    tag = bot.account.find_tag_by_name("Volunteer")
    assert tag is not None
    bot.account.delete_tag(tag.tag_id)
    clock.advance(120)  # the deletion completes; the first run is due
    worker = runner(bot, clock, "w1")
    for run in range(3):
        worker.run_due()
        assert len(words_in_channel(bot, ":warning: Rule `1`")) == run + 1
        clock.advance(DAY)
    said = words_in_channel(bot, ":warning: Rule `1`")[0]
    assert "did not run: Unknown tag: “Volunteer”" in said
    assert run_parents(bot) == [] and bot.activities() == 1  # only the deletion
    paused = rule(bot)
    assert paused.paused and paused.failures == 3
    [dm] = bot.fake.channel_messages(bot.fake.dm_of("U0001"))
    assert "failed 3 times in a row, so it is paused" in dm.text
    assert "Unknown tag: “Volunteer”" in dm.text
    worker.run_due()
    assert len(words_in_channel(bot, ":warning: Rule `1`")) == 3, "paused: no fourth try"
    assert "*paused* (paused after 3 failed runs)" in text_of(bot.command("rules", "list"))


def test_a_run_dearer_than_the_budget_left_is_skipped_with_a_word(
    rules_bot: Bot, clock: FakeClock
) -> None:
    bot = rules_bot
    made = make(bot)
    # Reading the tags, the lists and the count as the preview did, and one activity to start.
    assert "costs about 4 API calls" in made
    with bot.store.write() as session:
        session.execute(sa.update(RuleRow).values(cost=20_000))  # a day's quota is 10,000
    clock.advance(180)
    runner(bot, clock, "w1").run_due()
    [word] = words_in_channel(bot, ":double_vertical_bar: Rule `1`")
    assert "skipped this run: a run costs about 20000 API calls" in word
    assert run_parents(bot) == [] and bot.activities() == 0
    skipped = rule(bot)
    assert not skipped.paused and skipped.failures == 0
    assert (skipped.last_result or "").startswith("skipped")


def test_changing_a_rule_is_read_in_words(rules_bot: Bot) -> None:
    bot = rules_bot
    make(bot)
    bot.fake.add_user("U0002")
    assert "Paused rule `1`" in text_of(bot.command("rule pause 1", "other", user="U0002"))
    assert "/cctag rule pause" in text_of(bot.command("rule stop 1", "bad"))
    assert "by its number" in text_of(bot.command("rule pause one", "bad-id"))


def test_a_rule_on_the_latest_campaign(rules_bot: Bot, clock: FakeClock) -> None:
    bot = rules_bot
    assert "Created the tag" in text_of(bot.command("create Resend", "create"))
    made = make(bot, 'every monday at 09:00 add "Resend" --not-opened latest')
    assert "add tag “Resend” to contacts who did not open in “latest”" in made
    assert "who did not open in “Weekly Digest”" in made  # the last one sent, as of now
    assert "Rule `1`* made: *every monday at 09:00* (UTC)" in made
    assert "Next run: Mon 30 Mar 09:00 UTC" in made
    clock.advance(2 * DAY)
    runner(bot, clock, "w1").run_due()
    [parent] = run_parents(bot)
    assert "did not open in “latest”" in parent and bot.activities() == 1


def test_a_run_that_breaks_on_our_side_counts_as_failed_and_pauses_at_three(
    rules_bot: Bot, clock: FakeClock
) -> None:
    bot = rules_bot
    make(bot)

    def no_slack(workspace_id: str) -> ChannelPosts:
        raise RuntimeError("no Slack client for this workspace")

    broken = RuleRunner(pipeline_of(bot, clock), no_slack, clock, owner="w1")
    clock.advance(180)
    for _ in range(3):
        broken.run_due()
        broken.run_due()  # not tried again until its next time
        clock.advance(DAY)
    failed = rule(bot)
    assert failed.paused and failed.failures == 3 and bot.activities() == 0
    assert "something went wrong on our side" in (failed.last_result or "")


def test_a_runs_calls_are_background_work_of_the_rules_workspace(
    rules_bot: Bot, clock: FakeClock
) -> None:
    """Nobody waits for a rule's run: its calls queue behind people, in its workspace's share."""
    bot = rules_bot
    assert "Rule `1`* made" in make(bot)
    before = bot.account.budget("T0001")
    assert before is not None
    clock.advance(120)
    runner(bot, clock, "w1").run_due()
    after = bot.account.budget("T0001")
    assert after is not None and len(run_parents(bot)) == 1
    ran = after.workspace_calls - before.workspace_calls
    assert ran > 0 and after.workspace_background - before.workspace_background == ran
