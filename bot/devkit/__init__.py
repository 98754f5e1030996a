"""Stand-ins for the platforms cctag talks to, for tests, benchmarks, `cctag sandbox` and
`cctag shell`: a Constant Contact sandbox, a strict fake Slack, a signed-request driver and a
threaded server. No production module imports this package (only the CLI's entry points do)."""
