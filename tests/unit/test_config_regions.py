"""The skills file's regional functions and regional endpoints: validated with messages
that name the key and the problem."""

from __future__ import annotations

import pytest

from bot.domain.errors import ConfigError
from tests.support.regions import EU, FE, NA, regional_config


def test_regional_functions_become_the_skills_functions_default_first():
    skill = regional_config().to_skills()["trivia"]
    functions = tuple((p.region, p.function) for p in skill.placements)
    assert functions == (("NA", NA), ("EU", EU), ("FE", FE))
    assert skill.at("EU").function == EU and skill.at("NA").function == NA


def test_a_skill_listing_na_itself_calls_its_default_function_default():
    na = "arn:aws:lambda:us-east-1:123456789012:function:trivia-na"
    skill = regional_config(regional_functions={"NA": na, "EU": EU}).to_skills()["trivia"]
    first = skill.placements[0]
    assert (first.region, first.function) == ("default", NA)
    assert skill.at("NA").function == na


@pytest.mark.parametrize(
    "regional, problem",
    [
        ({"XX": EU}, "'XX' is not an Alexa endpoint region: use NA, EU, FE"),
        ({"EU": "trivia-eu"}, "EU = 'trivia-eu' is not a function ARN"),
        ({"EU": EU + ":PROD1"}, "no alias or version qualifier"),
        ({"EU": EU, "FE": EU}, "each region needs its own function"),
    ],
)
def test_wrong_regional_functions_are_named(regional, problem):
    with pytest.raises(ConfigError) as wrong:
        regional_config(regional_functions=regional)
    assert "skills.trivia.regional_functions" in wrong.value.message
    assert problem in wrong.value.message


def test_the_default_function_is_not_listed_again():
    arn = "arn:aws:lambda:us-east-1:123456789012:function:trivia"
    with pytest.raises(ConfigError) as wrong:
        regional_config(function=arn, regional_functions={"EU": arn})
    assert "regional_functions repeats `function`" in wrong.value.message


def test_regional_endpoints_need_the_default_ones_and_a_regional_function():
    urls = {"PROD1": "https://a.example/p1", "PROD2": "https://a.example/p2"}
    with pytest.raises(ConfigError) as wrong:
        regional_config(regional_endpoints={"EU": urls}, ssl_certificate_type="Trusted")
    assert "regional_endpoints needs endpoints" in wrong.value.message
    with pytest.raises(ConfigError) as wrong:
        regional_config(
            endpoints=urls, ssl_certificate_type="Trusted", regional_endpoints={"NA": urls}
        )
    assert "regional_endpoints.NA: NA is not in regional_functions" in wrong.value.message
