"""python -m infra.smoke --stage STAGE: check a deployed stage (or `local`) end to end.

Prints one line per check (`ok`, `FAIL` with the reason, or `off` for a part the stage does
not have on purpose) and exits 1 if any check failed, 2 if the stage cannot be checked at all
(no AWS credentials or region, the stage not deployed, the local stack not running).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import botocore.exceptions

from infra.deploy import preflight, stacks
from infra.smoke import api_round_trip, lake_query, monitoring, orchestration
from infra.smoke.results import Result, first_line
from infra.smoke.target import Target, TargetError, from_local_stack, from_stacks

LOCAL = "local"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infra.smoke", description=__doc__)
    parser.add_argument(
        "--stage",
        required=True,
        choices=[*sorted(stacks.STAGES), LOCAL],
        help=f"a deployed stage, or {LOCAL} for the stack `make run` serves",
    )
    parser.add_argument(
        "--api-url", help="the API's base URL (default: the stage's API Gateway stage URL)"
    )
    parser.add_argument(
        "--query",
        default=lake_query.DEFAULT_QUERY,
        choices=sorted(lake_query.named_queries()),
        help="the named query of infra/analytics.yaml to run (default: %(default)s)",
    )
    parser.add_argument(
        "--query-timeout", type=float, default=60.0, help="seconds to wait for the query"
    )
    parser.add_argument(
        "--email-domain",
        default="example.com",
        help="domain of the throwaway user's address (default: %(default)s)",
    )
    return parser


def _checks(target: Target, args: argparse.Namespace) -> list[Callable[[], list[Result]]]:
    return [
        lambda: api_round_trip.run(target.api_url, target.user_pool_id, args.email_domain),
        lambda: [monitoring.read_dashboard(target.monitoring)],
        lambda: [monitoring.alarm_states(target.monitoring)],
        lambda: [orchestration.trigger_dag(target.mwaa_environment, orchestration.now())],
        lambda: [lake_query.run_named_query(target.lake, args.query, args.query_timeout)],
        lambda: [lake_query.check_latest(target.lake, args.query_timeout)],
    ]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        target = (
            from_local_stack(args.api_url)
            if args.stage == LOCAL
            else from_stacks(args.stage, args.api_url)
        )
    except (preflight.PreflightError, TargetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        print(f"error: reading stage {args.stage}: {first_line(error)}", file=sys.stderr)
        return 2
    print(f"smoke {target.stage}: API {target.api_url}", flush=True)
    failed = False
    for check in _checks(target, args):
        for result in check():
            print(result.line(), flush=True)
            failed = failed or result.failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
