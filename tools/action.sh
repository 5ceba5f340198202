#!/usr/bin/env bash
# The GitHub Action's step (action.yml): runs one migrator command from the MIGRATOR_INPUT_* variables and
# records its exit code in $GITHUB_OUTPUT; the action fails afterwards (after the SARIF upload) when it is not 0.
set -uo pipefail
command="${MIGRATOR_INPUT_COMMAND:-lint}"
read -r -a extra <<< "${MIGRATOR_INPUT_ARGS:-}"
args=()
case "${command}" in
    lint|classify)
        read -r -a paths <<< "${MIGRATOR_INPUT_PATHS:-}"
        if [ -n "${MIGRATOR_INPUT_ALEMBIC_CONFIG:-}" ]; then
            args+=(--alembic-config "${MIGRATOR_INPUT_ALEMBIC_CONFIG}")
        fi
        args+=(--fail-on "${MIGRATOR_INPUT_FAIL_ON:-error}")
        if [ "${MIGRATOR_INPUT_SARIF:-true}" = "true" ]; then
            # the SARIF file for code scanning; its exit code is the annotated run's below
            migrator "${command}" "${args[@]}" "${extra[@]}" --format sarif "${paths[@]}" > migrator.sarif
        fi
        migrator "${command}" "${args[@]}" "${extra[@]}" --format github "${paths[@]}"
        code=$?
        ;;
    compat)
        if [ -z "${MIGRATOR_INPUT_BLUE:-}" ]; then
            echo "migrator action: compat needs the blue input (git ref of the running version)" >&2
            code=2
        else
            args+=(--blue "${MIGRATOR_INPUT_BLUE}")
            [ -n "${MIGRATOR_INPUT_GREEN:-}" ] && args+=(--green "${MIGRATOR_INPUT_GREEN}")
            [ -n "${MIGRATOR_INPUT_SCRATCH_URL:-}" ] && args+=(--scratch-url "${MIGRATOR_INPUT_SCRATCH_URL}")
            migrator compat "${args[@]}" "${extra[@]}"
            code=$?
        fi
        ;;
    *)
        echo "migrator action: unknown command '${command}' (lint, classify or compat)" >&2
        code=2
        ;;
esac
echo "exit-code=${code}" >> "${GITHUB_OUTPUT:-/dev/null}"
exit 0
