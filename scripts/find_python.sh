#!/usr/bin/env bash
# Prints the interpreter to build the venv with: CPython 3.12 (Lambda's runtime) when this
# machine has one that actually runs (pyenv shims may exist without the version), else python3.
for candidate in "$HOME"/.pyenv/versions/3.12*/bin/python3.12 "$(command -v python3.12)" "$(command -v python3)"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    echo "$candidate"
    exit 0
  fi
done
echo "no CPython >= 3.11 found" >&2
exit 1
