"""Hotfix of a skill in one region and of a skill in three (NA, EU, FE), Confirm click to
announcement posted, in the same run over the same link.

Set-up as ``bench/hotfix.py``: moto_server behind ``bench.delay_proxy`` (every AWS call
30 ms more), the bot as ``python -m bot`` with ``AWS_ENDPOINT_URL`` at the proxy (every
regional client goes through it), the fake Slack. Two skills: ``trivia`` on one function,
``quiz`` on three functions in us-east-1, eu-west-1 and us-west-2. Rounds alternate.

The regions' calls of each step run side by side, so three regions should cost about
what one does: the publishes and alias reads of every region together, then every
region's guarded alias move together.
"""

from __future__ import annotations

from typing import Any

from bench.harness import heading, median, ms, percentile, ratio, stand_ins, start_proxy, table
from bench.hotfix import AWS_DELAY, BotRound


def run(quick: bool = False) -> dict[str, Any]:
    from bot.devkit.aws import create_skill_function, deploy
    from tests.support.aws import create_regional_functions

    rounds = 5 if quick else 15
    heading(
        f"hotfix in one region and in three: Confirm → announcement, every AWS call "
        f"{AWS_DELAY * 1000:.0f} ms away, {rounds} rounds each"
    )
    with stand_ins("regions") as world:
        _proxy, aws_url = start_proxy(world.procs, world.tmp, world.moto_url, AWS_DELAY)
        from bench.harness import aws_env_in_this_process

        with aws_env_in_this_process(world.moto_url):
            one = create_skill_function("trivia-skill", world.moto_url)
            three = create_regional_functions("quiz-skill", world.moto_url)
        base = world.serve(
            aws_url,
            "all",
            channels={"trivia": "C0TRIVIA", "quiz": "C0QUIZ"},
            skill_keys={"quiz": {"regional_functions": {r: three[r][0] for r in ("EU", "FE")}}},
        )
        single, regional = BotRound(world.fake, base, "trivia"), BotRound(world.fake, base, "quiz")

        def deploy_all(n: int) -> None:
            with aws_env_in_this_process(world.moto_url):
                deploy(one, "trivia-skill", f"VERSION = {n}\n")
                for fn, client in three.values():
                    deploy(client, fn, f"VERSION = {n}\n")

        deploy_all(0)
        single.run(0)
        regional.run(0)  # warm-up, not measured
        one_times, three_times = [], []
        for n in range(1, rounds + 1):
            deploy_all(n)
            one_times.append(single.run(n))
            three_times.append(regional.run(n))

    rows = [
        [label, len(t), ms(median(t)), ms(percentile(t, 90)), ms(max(t))]
        for label, t in (("one region", one_times), ("three regions", three_times))
    ]
    print(table(["hotfix Confirm → announcement", "n", "median", "p90", "max"], rows))
    print(f"three regions / one region: {ratio(median(three_times), median(one_times))}")
    return {"one": median(one_times), "three": median(three_times)}


if __name__ == "__main__":
    run()
