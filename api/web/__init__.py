"""The web pages: server-rendered Jinja2 with GOV.UK Frontend, over the same reads and the same
policy as the API."""
