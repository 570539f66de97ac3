"""python -m infra.deploy: deploy or destroy a stage of tasklake, one printed command at a time."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from infra.deploy import account_checks, blockers, plan, preflight, requirements, stacks
from infra.deploy.buckets import empty_bucket
from infra.deploy.outputs import CommandFailed
from infra.deploy.run import StepFailed, print_plan, run_plan
from infra.deploy.zappa_settings import write_from_stacks

DESCRIPTION = """\
Deploy (or destroy) one stage of tasklake, step by step. Each step is one command you could
run by hand, printed before it runs:

  0. preflight: what the account lacks for the stage (read-only; make preflight runs it
     alone), then a check that nothing is in the way: a stack a failed first create left in
     ROLLBACK_COMPLETE or ROLLBACK_FAILED (--force clears it), or data an earlier destroy
     kept under a name a stack would create (refused, with the commands that remove it)
  1. aws cloudformation deploy, one stack at a time, in dependency order:
     keys, data, identity, analytics, network, orchestration, api, monitoring
     (a re-run reports "No changes to deploy" per stack); with --orchestration off
     (dev's default) no network and orchestration stacks and no DAG upload
  2. after analytics: the DAG, etl/, requirements and constraints to the MWAA bucket
     (the requirements under a key named by their SHA-256: only an edit updates MWAA)
  3. after api: zappa deploy (first time) or zappa update, then the WAF web ACL and
     throttling on the API stage
  4. at the end: the API, Airflow UI and dashboard URLs

Credentials and region come the usual AWS way (AWS_PROFILE, AWS_REGION, ...).
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m infra.deploy",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def stage_command(name: str, help_text: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument("--stage", required=True, choices=sorted(stacks.STAGES))
        return command

    deploy = stage_command("deploy", "deploy every stack, the DAG and the API of a stage")
    destroy = stage_command(
        "destroy",
        "undeploy the API, then delete the stacks in reverse order (buckets emptied first); "
        "asks you to type the stage name; prints what it keeps and how to remove that too",
    )
    for command in (deploy, destroy):
        command.add_argument("--dry-run", action="store_true", help="print the steps, run nothing")
        command.add_argument(
            "--templates",
            type=Path,
            default=stacks.ROOT / "infra",
            help="folder of the stack templates (default: infra/)",
        )
    deploy.add_argument(
        "--no-touch", action="store_true", help="skip Zappa's final request to the new URL (moto)"
    )
    deploy.add_argument(
        "--no-preflight",
        action="store_true",
        help="skip the account check (moto, which has no quotas, SES sandbox or MWAA to check)",
    )
    deploy.add_argument(
        "--alarm-email",
        default=os.environ.get("ALARM_EMAIL"),
        help="e-mail the alarms here (default: $ALARM_EMAIL)",
    )
    deploy.add_argument(
        "--ses-identity-arn",
        default=os.environ.get("SES_IDENTITY_ARN"),
        help="SES identity Cognito mails codes through; required outside dev ($SES_IDENTITY_ARN)",
    )
    deploy.add_argument(
        "--ses-from",
        default=os.environ.get("SES_FROM_ADDRESS"),
        help="From address of those mails ($SES_FROM_ADDRESS)",
    )
    destroy.add_argument("--force", action="store_true", help="do not ask for confirmation")
    deploy.add_argument(
        "--reserved-concurrency",
        type=int,
        default=os.environ.get("RESERVED_CONCURRENCY") or None,
        help="reserve this much Lambda concurrency for the function (default: "
        "$RESERVED_CONCURRENCY, else none; make preflight says what the account can give)",
    )
    deploy.add_argument(
        "--orchestration",
        choices=("on", "off"),
        default=os.environ.get("ORCHESTRATION") or None,
        help="deploy MWAA, its network and the DAG (default: $ORCHESTRATION, else the stage's: "
        + ", ".join(f"{n} {'on' if s.orchestration else 'off'}" for n, s in stacks.STAGES.items())
        + ")",
    )
    deploy.add_argument(
        "--force",
        action="store_true",
        help="clear a stack a failed first create left in ROLLBACK_COMPLETE or ROLLBACK_FAILED "
        "(what its rollback could not delete goes with it), then go on",
    )
    check = stage_command(
        "check-stage",
        "refuse, with the commands that fix it, a stack in ROLLBACK_COMPLETE or ROLLBACK_FAILED "
        "(--force clears it) or data an earlier destroy kept under a name the deploy would create",
    )
    check.add_argument("--account", required=True, help="the account id (bucket names)")
    check.add_argument("--templates", type=Path, default=stacks.ROOT / "infra")
    check.add_argument(
        "--force", action="store_true", help="clear ROLLBACK_COMPLETE and ROLLBACK_FAILED stacks"
    )
    check.add_argument(
        "--orchestration", choices=("on", "off"), default="on", help="check its stacks too"
    )
    check_account = stage_command(
        "preflight",
        "read-only: one line per thing the account must have for the stage (credentials, "
        "Lambda concurrency, SES production access, MWAA and Cognito in the region, stacks and "
        "data in the way), each failure with its fix; exit 3 on a failure",
    )
    check_account.add_argument("--region", help="the region to check (default: AWS_REGION, …)")
    check_account.add_argument("--templates", type=Path, default=stacks.ROOT / "infra")
    check_account.add_argument(
        "--orchestration", choices=("on", "off"), default=os.environ.get("ORCHESTRATION") or None
    )
    check_account.add_argument(
        "--reserved-concurrency", type=int, default=os.environ.get("RESERVED_CONCURRENCY") or None
    )
    check_account.add_argument(
        "--ses-identity-arn", default=os.environ.get("SES_IDENTITY_ARN") or None
    )
    check_account.add_argument(
        "--force", action="store_true", help="failed first creates will be cleared (FORCE=1)"
    )
    settings = stage_command(
        "zappa-settings", "write build/zappa_settings.<stage>.json from the stacks"
    )
    settings.add_argument("--no-touch", action="store_true", help="set Zappa's touch to false")
    settings.add_argument("--reserved-concurrency", type=int, help="the function's reservation")
    empty = commands.add_parser("empty-bucket", help="delete every object version in a bucket")
    empty.add_argument("bucket")
    copy = commands.add_parser(
        "copy-requirements",
        help="copy the requirements for upload, to a file named by their SHA-256 (no AWS)",
    )
    copy.add_argument("source", type=Path)
    copy.add_argument("destination", type=Path)
    return parser


def _confirmed(stage: str) -> bool:
    print(f"This deletes the {stacks.PROJECT}-{stage}-* stacks and the API of stage {stage}.")
    try:
        answer = input(f"Type the stage name ({stage}) to go on: ")
    except EOFError:
        answer = ""
    return answer.strip() == stage


def _switch(value: str | None) -> bool | None:
    return None if value is None else value == "on"


def _plan_command(args: argparse.Namespace) -> int:
    """deploy or destroy: print the plan (--dry-run) or run it."""
    region = preflight.region() if args.dry_run else preflight.check()
    options = plan.Options(
        stage=args.stage,
        region=region or "<region>",
        templates=args.templates,
        touch=not getattr(args, "no_touch", False),
        alarm_email=getattr(args, "alarm_email", None),
        force=args.command == "deploy" and args.force,
        orchestration=_switch(getattr(args, "orchestration", None)),
        ses_identity_arn=getattr(args, "ses_identity_arn", None),
        ses_from_address=getattr(args, "ses_from", None),
        reserved_concurrency=getattr(args, "reserved_concurrency", None),
        preflight=not getattr(args, "no_preflight", False),
    )
    build = plan.deploy_plan if args.command == "deploy" else plan.destroy_plan
    chosen = build(options)
    if args.dry_run or region is None:
        print_plan(chosen)
        return 0
    if args.command == "destroy" and not args.force and not _confirmed(args.stage):
        print("aborted: nothing was deleted", file=sys.stderr)
        return 1
    run_plan(chosen, region)
    return 0


def _tool_command(args: argparse.Namespace) -> int:
    """The commands the plan's own steps call."""
    if args.command == "copy-requirements":
        print(requirements.copy_for_upload(args.source, args.destination))
        return 0
    if args.command == "preflight":
        return _preflight_command(args)
    region = preflight.check()
    if args.command == "check-stage":
        parts = list(stacks.parts(args.orchestration == "on"))
        blockers.check(args.stage, args.account, region, args.templates, parts, force=args.force)
    elif args.command == "zappa-settings":
        path = stacks.ROOT / plan.zappa_settings_file(args.stage)
        print(
            write_from_stacks(
                args.stage,
                region,
                path,
                touch=not args.no_touch,
                reserved_concurrency=args.reserved_concurrency,
            )
        )
    else:
        print(f"{args.bucket}: {empty_bucket(args.bucket)} object versions deleted")
    return 0


def _preflight_command(args: argparse.Namespace) -> int:
    """make preflight: one line per check; 3 when any fails, 2 without credentials or region."""
    if args.region:
        os.environ["AWS_REGION"] = args.region
    region = preflight.check()
    try:
        caller = account_checks.read("sts", "get-caller-identity")
    except account_checks.ReadFailed as error:
        raise preflight.PreflightError(f"AWS credentials: {error}") from None
    orchestration = _switch(args.orchestration)
    stage = account_checks.Stage(
        name=args.stage,
        region=region,
        account=caller["Account"],
        orchestration=(
            stacks.STAGES[args.stage].orchestration if orchestration is None else orchestration
        ),
        reserved_concurrency=args.reserved_concurrency,
        ses_identity_arn=args.ses_identity_arn,
        force=args.force,
        templates=args.templates,
    )
    findings = account_checks.run(stage)
    for finding in findings:
        print(finding.line(), flush=True)
    failed = [f for f in findings if f.state == "FAIL"]
    if failed:
        print(f"error: {len(failed)} of the checks above failed", file=sys.stderr)
        return 3
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # A default from $ORCHESTRATION skips argparse's choices check.
    if getattr(args, "orchestration", None) not in (None, "on", "off"):
        parser.error(f"ORCHESTRATION must be on or off, not {args.orchestration!r}")
    try:
        if args.command in ("deploy", "destroy"):
            return _plan_command(args)
        return _tool_command(args)
    except preflight.PreflightError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except blockers.Blocked as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    except StepFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return error.returncode
    except (CommandFailed, LookupError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
