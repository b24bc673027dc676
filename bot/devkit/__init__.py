"""Local stand-ins for what skillbot talks to, shipped with the product.

``skillbot demo`` runs the real bot against them, and the tests and benchmarks drive it
with the same pieces (one copy each; what only tests and benchmarks use is in
``tests/support``):

- :mod:`bot.devkit.fake_slack`: a threaded fake of the Slack Web API that records calls;
- :mod:`bot.devkit.slack_requests`: signed slash commands, button clicks and events;
- :mod:`bot.devkit.fake_smapi`: a fake of the Alexa Skill Management API and LWA (reviews,
  stage manifests with ETags, manifest builds, publications);
- :mod:`bot.devkit.aws`: a skill's Lambda function seeded on moto (or any endpoint);
- :mod:`bot.devkit.json_server`: the threaded HTTP server the fakes answer on, and a
  free port for a server.
"""
