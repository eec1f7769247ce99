#!/usr/bin/env bash
# Prints the interpreter to build the venv with: CPython 3.12 or newer (Lambda runs 3.12, and
# the pinned numpy needs it). With an argument, checks that interpreter instead of searching.
# Otherwise prefers a 3.12 that actually runs (pyenv shims may exist without the version).
# Without one, says so in one line on stderr and exits 1, before any install starts.
ok() { [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; }
if [ -n "$1" ]; then
  candidates=("$1")
else
  candidates=("$HOME"/.pyenv/versions/3.12*/bin/python3.12 "$(command -v python3.12)" "$(command -v python3)")
fi
for candidate in "${candidates[@]}"; do
  if ok "$candidate"; then
    echo "$candidate"
    exit 0
  fi
done
found=$("${candidates[-1]:-python3}" -c 'import sys; print("Python %d.%d" % sys.version_info[:2])' 2>/dev/null || echo "no python3")
echo "This project needs CPython 3.12 (Lambda's runtime; the pinned numpy needs >= 3.12), found ${found}: install python3.12 (e.g. apt-get install python3.12-venv, or pyenv install 3.12) or run make PYTHON_BOOT=/path/to/python3.12" >&2
exit 1
