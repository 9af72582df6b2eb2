#!/usr/bin/env bash
# sergio-kit on any other CI runner: `sergio-kit-ci.sh` checks the deployment, `sergio-kit-ci.sh load`
# runs the nightly load profile. It installs the kit into .sergio-venv when `sergio-kit` is not on the
# PATH, prints the Markdown summary, keeps the reports in REPORT_DIR (default: reports) and exits with
# the kit's exit code: 0 passed, 1 failed, 2 a usage or settings mistake.
#
# The runner's secret store provides, as environment variables (never on a command line):
#   SERGIO_BASE_URL, SERGIO_EMAIL, SERGIO_PASSWORD                required
#   SERGIO_OTHER_EMAIL, SERGIO_OTHER_PASSWORD                     optional: cross-tenant checks
# and, optionally, SERGIO_KIT_PACKAGE: where your team keeps sergio-kit (what pip installs).
set -euo pipefail

mode="${1:-check}"
report_dir="${REPORT_DIR:-reports}"
package="${SERGIO_KIT_PACKAGE:-sergio-kit @ git+https://github.com/your-org/sergio-kit@v0.1.0}"
: "${SERGIO_BASE_URL:?is not set: set the https URL of the deployment in the secret store of the runner}"
: "${SERGIO_EMAIL:?is not set: set the admin login email in the secret store of the runner}"
: "${SERGIO_PASSWORD:?is not set: set the admin password in the secret store of the runner}"

if ! command -v sergio-kit >/dev/null 2>&1; then
  python3 -m venv .sergio-venv
  .sergio-venv/bin/python -m pip install --quiet "$package"
  PATH="$PWD/.sergio-venv/bin:$PATH"
fi

status=0
case "$mode" in
  check)
    sergio-kit check --base-url "$SERGIO_BASE_URL" --report "$report_dir" || status=$?
    if [ -f "$report_dir/summary.md" ]; then
      cat "$report_dir/summary.md"
    fi
    ;;
  load)
    # --threshold: your service levels, k6-style (or a [load.thresholds] table in sergio-kit.toml)
    sergio-kit load --profile conformance --base-url "$SERGIO_BASE_URL" --report "$report_dir/load" \
      --threshold 'read:p95<300ms' --threshold 'write:p99<800ms' --threshold '*:error_rate<1%' || status=$?
    ;;
  *)
    echo "sergio-kit-ci.sh: unknown mode '$mode': expected check (the default) or load" >&2
    exit 2
    ;;
esac
echo "sergio-kit-ci.sh: $mode exited $status; reports in $report_dir"
exit "$status"
