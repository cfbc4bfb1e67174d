#!/usr/bin/env bash
# The one script behind the GitHub Action (action.yml) and the Azure Pipelines template
# (integrations/azure-pipelines/vhdlint.yml): lints the images, writes SARIF (and JUnit when
# asked), annotates the run in the CI's own syntax, and exits with vhdlint check's exit code
# (0: no check failed; 1: a check failed or could not look; 2: an image could not be read).
#
# Inputs, from the environment:
#   VHDLINT_IMAGES    the images, one per line: paths or https URLs (blank lines skipped)
#   VHDLINT_FROM      a file listing more images (check --from)
#   VHDLINT_ARGS      more options for `vhdlint check`, split on white space
#                     (e.g. "--policy current --deny-warnings --waivers waivers.toml")
#   VHDLINT_SARIF     where the SARIF log goes (default vhdlint.sarif; empty: none)
#   VHDLINT_JUNIT     where the JUnit XML goes (default: none)
#   VHDLINT_JSON      where the JSON report goes (default: a temporary file, removed)
#   VHDLINT_ANNOTATE  github | azure | none (default: github under GitHub Actions, azure under
#                     Azure Pipelines, else none): annotations on stdout
#   VHDLINT           the vhdlint binary (default: vhdlint on PATH)
set -uo pipefail
bin=${VHDLINT:-vhdlint}
if [ -z "${VHDLINT_ANNOTATE:-}" ]; then
    if [ "${GITHUB_ACTIONS:-}" = true ]; then VHDLINT_ANNOTATE=github
    elif [ -n "${TF_BUILD:-}" ]; then VHDLINT_ANNOTATE=azure
    else VHDLINT_ANNOTATE=none; fi
fi
case $VHDLINT_ANNOTATE in
    github | azure | none) ;;
    *) echo "vhdlint-ci: VHDLINT_ANNOTATE must be github, azure or none, not '$VHDLINT_ANNOTATE'" >&2; exit 2 ;;
esac
images=()
while IFS= read -r line; do
    line=${line#"${line%%[![:space:]]*}"}
    line=${line%"${line##*[![:space:]]}"}
    [ -n "$line" ] && images+=("$line")
done <<<"${VHDLINT_IMAGES:-}"
if [ -n "${VHDLINT_FROM:-}" ]; then
    images+=(--from "$VHDLINT_FROM")
fi
if [ ${#images[@]} -eq 0 ]; then
    echo "vhdlint-ci: no image: set VHDLINT_IMAGES (one per line) or VHDLINT_FROM" >&2
    exit 2
fi
read -ra args <<<"${VHDLINT_ARGS:-}"
sarif=${VHDLINT_SARIF-vhdlint.sarif}
junit=${VHDLINT_JUNIT:-}

# One lint, to JSON: the verdict. Every other form is rendered from that report by
# `vhdlint merge --partial` (a worker of a fleet, with --shard in VHDLINT_ARGS, renders its own).
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vhdlint-ci.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
json=${VHDLINT_JSON:-$tmp/report.json}
rm -f "$json"
"$bin" check -q "${args[@]}" --format json -o "$json" "${images[@]}"
code=$?
if [ ! -s "$json" ]; then
    # A usage error (or a report that could not be written): nothing to render.
    exit "$code"
fi
render() { # FORMAT FILE: merge exits with the report's verdict, so what tells is the file
    rm -f "$2"
    "$bin" merge --partial --format "$1" -o "$2" "$json" 2>"$tmp/merge.err"
    local rc=$?
    if [ ! -e "$2" ]; then
        cat "$tmp/merge.err" >&2
        echo "vhdlint-ci: rendering the report as $1 failed (exit $rc)" >&2
        return 1
    fi
}
failed=0
if [ -n "$sarif" ]; then
    render sarif "$sarif" || failed=1
fi
if [ -n "$junit" ]; then
    render junit "$junit" || failed=1
fi
if [ "$VHDLINT_ANNOTATE" != none ]; then
    if render "$VHDLINT_ANNOTATE" "$tmp/annotations"; then
        cat "$tmp/annotations"
    else
        failed=1
    fi
fi
if [ "$failed" -ne 0 ] && [ "$code" -eq 0 ]; then
    exit 2
fi
exit "$code"
