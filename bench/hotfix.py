"""Hotfix, Confirm click to announcement posted (SPEC §7, second budget).

Set-up, all on 127.0.0.1: moto_server (its own process) behind ``bench.delay_proxy``,
which makes every AWS call take 30 ms more, as a remote AWS would; the bot as
``python -m bot`` in HTTP mode with ``AWS_ENDPOINT_URL`` at the proxy; the fake Slack Web API.

Each round deploys new code to ``$LATEST`` (boto3), sends a signed ``/skill hotfix``,
waits for the plan on the response_url, then clicks Confirm (a signed ``block_actions``
POST) and times from just before that POST until the fake Slack has the announcement
(``chat.postMessage``). In the same rounds, on a function of its own and over the same
proxy, it times the naive hotfix: four sequential calls from a warm boto3 client in this
process (get_alias, get_function_configuration, publish_version, update_alias).

Budget: the bot's Confirm → announcement within 0.75 × the naive four calls. The bot's
guards live in the writes (``CodeSha256`` on publish, ``RevisionId`` on the alias move), so
it needs two round trips: the publish and the alias read together, then the move.
"""

from __future__ import annotations

import time
from typing import Any

from bench.harness import (
    aws_env_in_this_process,
    heading,
    median,
    ms,
    percentile,
    ratio,
    stand_ins,
    start_proxy,
    table,
    verdict,
)
from tests.support.slack_world import SECRET

BOT_FN, DIRECT_FN = "trivia-skill", "direct-skill"
ALIAS = "PROD1"  # live on both (the skills file's live_alias)
AWS_DELAY = 0.030  # seconds added to every AWS call
BUDGET_VS_CALLS = 0.75


class BotRound:
    """One hotfix through Slack: command, plan, Confirm, announcement."""

    def __init__(self, fake: Any, base_url: str, skill: str = "trivia") -> None:
        self.fake = fake
        self.events = f"{base_url}/slack/events"
        self.skill = skill

    def _post(self, body: str) -> None:
        from bot.devkit.slack_requests import post, sign

        status, text = post(self.events, body, sign(body, SECRET))
        if status != 200:
            raise RuntimeError(f"the bot answered {status}: {text[:300]}")

    def _response(self, url: str, predicate: Any, timeout: float = 30) -> dict[str, Any]:
        def found(f: Any) -> dict[str, Any] | None:
            for r in f.responses():
                if r.get("_url") == url and predicate(r):
                    return dict(r)
            return None

        return self.fake.wait_for(found, timeout)

    def run(self, n: int) -> float:
        from bot.adapters.slack import kit
        from bot.devkit.slack_requests import block_action_body, slash_command_body
        from tests.support.messages import button_value

        url = self.fake.response_url()
        self._post(slash_command_body(f"hotfix {self.skill} -- bench round {n}", response_url=url))
        plan = self._response(url, lambda r: "Plan" in r.get("text", "") and r.get("blocks"))
        plan_id = button_value(plan, kit.CONFIRM)
        posted_before = len(self.fake.calls_to("chat.postMessage"))
        click_url = self.fake.response_url()
        click = block_action_body(kit.CONFIRM, plan_id, response_url=click_url)

        started = time.perf_counter()
        self._post(click)
        announcement = self.fake.wait_for(
            lambda f: f.calls_to("chat.postMessage")[posted_before:], timeout=30
        )[0]
        took = time.perf_counter() - started

        text = str(announcement.params.get("text", ""))
        if "hotfix" not in text or "→" not in text:
            raise RuntimeError(f"unexpected announcement: {text!r}")
        # let the rest of the click's work finish before the next round
        self._response(click_url, lambda r: r.get("text", "").startswith("Done"))
        return took


def _direct_round(client: Any) -> dict[str, float]:
    """The four calls of a hotfix from a warm client; seconds per call."""
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    alias = client.get_alias(FunctionName=DIRECT_FN, Name=ALIAS)
    t1 = time.perf_counter()
    latest = client.get_function_configuration(FunctionName=DIRECT_FN)
    t2 = time.perf_counter()
    version = client.publish_version(FunctionName=DIRECT_FN, CodeSha256=latest["CodeSha256"])
    t3 = time.perf_counter()
    client.update_alias(
        FunctionName=DIRECT_FN,
        Name=ALIAS,
        FunctionVersion=version["Version"],
        RevisionId=alias["RevisionId"],
    )
    t4 = time.perf_counter()
    times.update(get_alias=t1 - t0, get_configuration=t2 - t1, publish=t3 - t2, update=t4 - t3)
    times["total"] = t4 - t0
    return times


def run(quick: bool = False) -> dict[str, Any]:
    from bot.adapters.lambda_aws import lambda_client_config
    from bot.devkit.aws import create_skill_function, deploy, lambda_client

    rounds = 5 if quick else 20
    heading(
        f"hotfix: Confirm click → announcement, every AWS call {AWS_DELAY * 1000:.0f} ms away, "
        f"{rounds} rounds"
    )
    with stand_ins("hotfix") as world:
        fake, moto_url = world.fake, world.moto_url
        _proxy, aws_url = start_proxy(world.procs, world.tmp, moto_url, AWS_DELAY)
        with aws_env_in_this_process(moto_url):
            for fn in (BOT_FN, DIRECT_FN):
                create_skill_function(fn, moto_url)
            setup = lambda_client(moto_url)
            import boto3

            # warm: same settings as the bot's client, over the same delaying link
            direct = boto3.client("lambda", endpoint_url=aws_url, config=lambda_client_config())
            direct.get_alias(FunctionName=DIRECT_FN, Name=ALIAS)

        bot_base = world.serve(aws_url, "all")
        bot_round = BotRound(fake, bot_base)

        # warm-up round of each, not measured
        deploy(setup, BOT_FN, "VERSION = 'warm-up'\n")
        bot_round.run(0)
        deploy(setup, DIRECT_FN, "VERSION = 'warm-up'\n")
        _direct_round(direct)

        bot_times: list[float] = []
        direct_times: list[dict[str, float]] = []
        for n in range(1, rounds + 1):
            deploy(setup, BOT_FN, f"VERSION = 'bot {n}'\n")
            bot_times.append(bot_round.run(n))
            deploy(setup, DIRECT_FN, f"VERSION = 'direct {n}'\n")
            direct_times.append(_direct_round(direct))

    four = [t["total"] for t in direct_times]
    rows = [
        ["bot: Confirm → announcement", len(bot_times), ms(median(bot_times)),
         ms(percentile(bot_times, 90)), ms(max(bot_times))],
        ["naive: 4 sequential calls (sum)", len(four), ms(median(four)),
         ms(percentile(four, 90)), ms(max(four))],
    ]  # fmt: skip
    for call in ("get_alias", "get_configuration", "publish", "update"):
        values = [t[call] for t in direct_times]
        rows.append([f"  {call}", len(values), ms(median(values)), ms(percentile(values, 90)),
                     ms(max(values))])  # fmt: skip
    print(table(["path", "n", "median", "p90", "max"], rows))

    bot_median, four_median = median(bot_times), median(four)
    print(
        f"bot / naive four calls: {ratio(bot_median, four_median)} "
        f"(budget ≤ {BUDGET_VS_CALLS}× → {verdict(bot_median <= BUDGET_VS_CALLS * four_median)})"
    )
    return {"bot": bot_median, "four_calls": four_median}


if __name__ == "__main__":
    run()
