"""Re-record the client cassettes against the live sandbox: `make cassettes`."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.atera.client import AteraClient
from pipelines.sandbox import AteraSandbox
from tests.atera.scenarios import MODIFIED_AFTER, RECORDING_KEY, SCENARIOS, cassette_vcr

SANDBOX_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def main() -> None:
    recorder = cassette_vcr("all")
    for name, scenario in SCENARIOS.items():
        limited = name == "rate_limited_burst"
        with AteraSandbox(
            api_key=RECORDING_KEY,
            tickets=75,
            seed=5,
            now=SANDBOX_NOW,
            rate_limit=3 if limited else None,
            rate_window_seconds=1.0,
        ) as sandbox:
            sandbox.clock_offset = SANDBOX_NOW - datetime.now(UTC)
            # a change after MODIFIED_AFTER, so statusmodified has something to report
            sandbox.store.update_ticket(10003, {"TicketPriority": "Low"})
            assert sandbox.now() > MODIFIED_AFTER
            with (
                AteraClient(sandbox.api_url, RECORDING_KEY, max_attempts=4) as client,
                recorder.use_cassette(f"{name}.yaml"),
            ):
                scenario(client)
        print(f"recorded {name}")


if __name__ == "__main__":
    main()
