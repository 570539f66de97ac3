"""`make deploy` / `make destroy`: every stack, upload and Zappa call as one printed command.

    python -m infra.deploy deploy --stage dev [--dry-run]
    python -m infra.deploy destroy --stage dev [--dry-run] [--force]

`plan` lists the steps (a runbook an operator could follow by hand), `run` executes them
through the AWS CLI and Zappa, `outputs` reads what earlier stacks exported, and
`zappa_settings` writes the Zappa settings from those exports.
"""
