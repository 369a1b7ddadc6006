"""Delivery (marts.md § Delivery): the leadership e-mail, the CSM digests and the data
team's alerts, composed from the published marts and sent through SMTP (and Slack)."""
