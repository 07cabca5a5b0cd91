"""What the tests (and bench/, docs/screenshots.py) start, wait for and read, one concept per module:

- paths: the checkout's folders and the virtualenv's scripts
- ports: a free loopback port, and whether something listens on one
- waiting: `wait_for`, the one polling loop (a timeout, and a failure that says what it waited for)
- processes: child processes: their environment, their log, stopping them and whatever they spawned
- postgres: the test server's throw-away databases, a private cluster a test may stop, table locks
- smtp: mail servers, in this process (SmtpSink) or in one of their own (SmtpProcess)
- s3: a real S3-compatible server (SeaweedFS), a fresh bucket per test, stopped and started again for fault tests
- prometheus: Debian's prometheus and promtool (unpacked into a cache if absent), a Prometheus scraping targets
- cli: `run_billing`, the `billing` command run in a subprocess or in this process, its JSON output parsed
- files: sample files written, and taken through the stages
- webserver: the Dagster webserver's HTTP API (server_info, GraphQL)
- api_server: `billing api` in a process of its own, and an httpx client with a bearer token
- terminal: a command in a pseudo-terminal, Ctrl-C typed into it
- stacks: Dagster as the product runs it: the daemon and webserver (DagsterStack), `billing dev` (BillingDev)
- event_log: what the Dagster instance recorded: step spans, pool peaks, checks, run workers

Nothing is imported here, so that `python -m billing_pipeline_tests.support.smtp` starts only what it needs.
"""
