#!/usr/bin/env bash
# Print one of the README's quick-start commands: the ```bash block that follows the line
# <!-- quickstart:MARKER --> (MARKER is "install" or "test"). .ci/run runs what this prints
# and tests/test_readme.py checks it, so CI runs exactly what the README tells a reader.
# Usage: .ci/quickstart.sh MARKER [README]   (README defaults to the repository's README.md)
set -euo pipefail
marker=${1:?usage: .ci/quickstart.sh install|test [README]}
readme=${2:-"$(dirname "$0")/../README.md"}
command=$(sed -n '/<!-- quickstart:'"$marker"' -->/,/^```$/p' "$readme" \
    | sed -n '/^```bash$/,/^```$/p' | sed '1d;$d')
if [ -z "$command" ]; then
    echo "$readme: no \`\`\`bash block after <!-- quickstart:$marker -->" >&2
    exit 1
fi
printf '%s\n' "$command"
