#!/usr/bin/env bash
# Create (once) the Python venv of the test tools: pyenv.sh VENV REQUIREMENTS
# Recreated only when the requirements file changes.
set -euo pipefail
venv=$1 req=$2
stamp="$venv/.requirements"
if [ -f "$stamp" ] && cmp -s "$stamp" "$req"; then
        exit 0
fi
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
cp "$req" "$stamp"
