"""cctag: Constant Contact tags and bulk contact activities, from Slack."""
