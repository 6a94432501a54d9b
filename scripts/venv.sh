# Sourced by run.sh and test.sh: make .venv hold exactly the pins of the given requirements file.
# pip runs only when the pins changed since the last install (a stamp in .venv holds their
# hash), so a start costs no pip resolution and prints nothing when nothing changed.
ensure_venv() {
  local requirements=$1
  local py=${PYTHON:-python3}
  if [ ! -x .venv/bin/python ]; then
    "$py" -m venv .venv
  fi
  local stamp=".venv/.casewatch-${requirements%.txt}.sha256"
  local want
  want=$(cat requirements*.txt constraints.txt | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements" -c constraints.txt
    echo "$want" >"$stamp"
  fi
}
