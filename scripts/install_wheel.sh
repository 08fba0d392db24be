#!/usr/bin/env bash
# Install a latentdash wheel into a fresh virtual environment. This is the one install procedure:
# the Dockerfile's runtime stage runs it, and tests/test_wheel.py runs it, so the test exercises
# exactly the image's install steps.
#
#   scripts/install_wheel.sh WHEEL VENV
#
# Dependencies come from one of two places:
#   default                 the network: torch and torchvision first, CPU-only builds from
#                           $TORCH_INDEX_URL (https://download.pytorch.org/whl/cpu: about 200 MB,
#                           against about 2.5 GB for PyPI's CUDA build), then the wheel with the
#                           extras in $LATENTDASH_EXTRAS (default "serve": Celery + the Redis client)
#                           from PyPI; pip check at the end.
#   LATENTDASH_DEPS_FROM=D  offline (the tests): the packages of an existing environment, its
#                           site-packages folder D, are made visible to VENV by a .pth file, and
#                           only the wheel itself is installed (--no-deps --no-index).
# torch and torchvision are installed with the version ranges the wheel itself requires (read from
# its metadata), so the second step keeps them instead of fetching PyPI's CUDA build.
# Either way the script ends with the same check: from /, Python imports latentdash from VENV (not
# from a checkout) and finds the shipped checkpoints and atlases inside the package.
# Other settings: PYTHON (the interpreter that creates VENV; default python3);
# LATENTDASH_INSTALL_DRY_RUN=1 prints the commands that would change VENV and runs none of them.
set -euo pipefail

usage="usage: scripts/install_wheel.sh WHEEL VENV"
if [ $# -ne 2 ]; then
  echo "error: expected 2 arguments, got $#; $usage" >&2
  exit 2
fi
wheel=$1
venv=$2
PYTHON=${PYTHON:-python3}
TORCH_INDEX_URL=${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}
LATENTDASH_EXTRAS=${LATENTDASH_EXTRAS:-serve}
dry=${LATENTDASH_INSTALL_DRY_RUN:-}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1

case $wheel in
  *.whl) ;;
  *) echo "error: $wheel is not a wheel (.whl); build one with: python -m build --wheel" >&2; exit 2 ;;
esac
if [ ! -f "$wheel" ]; then
  echo "error: wheel $wheel does not exist; build one with: python -m build --wheel" >&2
  exit 2
fi
if [ -e "$venv" ] && [ -n "$(ls -A "$venv" 2>/dev/null)" ]; then
  echo "error: $venv already exists and is not empty; remove it or choose another VENV" >&2
  exit 2
fi
if [ -n "${LATENTDASH_DEPS_FROM:-}" ] && [ ! -d "$LATENTDASH_DEPS_FROM" ]; then
  echo "error: LATENTDASH_DEPS_FROM=$LATENTDASH_DEPS_FROM is not a folder; pass a site-packages folder" >&2
  exit 2
fi
wheel=$(cd "$(dirname "$wheel")" && pwd)/$(basename "$wheel")

run() {
  if [ -n "$dry" ]; then echo "$*"; else "$@"; fi
}

# torch's requirements as the wheel states them, e.g. "torch<2.15,>=2.2 torchvision<0.30,>=0.17"
read_torch_requirements='
import re, sys, zipfile
from email.parser import Parser

with zipfile.ZipFile(sys.argv[1]) as z:
    meta = [n for n in z.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
    if len(meta) != 1:
        sys.exit(f"error: {sys.argv[1]} has no single .dist-info/METADATA; rebuild the wheel")
    requires = Parser().parsestr(z.read(meta[0]).decode()).get_all("Requires-Dist") or []
reqs = [r.replace(" ", "") for r in requires if ";" not in r and re.match(r"(torch|torchvision)(?![-_.\w])", r)]
print(" ".join(reqs) or "torch torchvision")
'
torch_reqs=$("$PYTHON" -c "$read_torch_requirements" "$wheel")

# 1. a fresh virtual environment
run "$PYTHON" -m venv "$venv"
if [ -z "$dry" ]; then venv=$(cd "$venv" && pwd); fi
py=$venv/bin/python

# 2. the dependencies, then 3. the wheel
if [ -n "${LATENTDASH_DEPS_FROM:-}" ]; then
  run "$py" -m pip install --quiet --no-deps --no-index "$wheel"
  # after the install, so that pip never sees (or tries to replace) a latentdash installed there
  if [ -n "$dry" ]; then
    echo "echo $LATENTDASH_DEPS_FROM > PURELIB/_latentdash_deps.pth"
  else
    site=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    echo "$LATENTDASH_DEPS_FROM" > "$site/_latentdash_deps.pth"
  fi
else
  # shellcheck disable=SC2086  # one word per requirement
  run "$py" -m pip install --index-url "$TORCH_INDEX_URL" $torch_reqs
  run "$py" -m pip install "$wheel[$LATENTDASH_EXTRAS]"
  run "$py" -m pip check
fi
if [ -n "$dry" ]; then
  exit 0
fi

# 4. the installed package is the one imported, with its shipped data
cd /
"$py" - "$venv" <<'EOF'
import sys
from pathlib import Path

import latentdash
from latentdash.atlas.shipped import CHECKPOINT_DIR, SHIPPED_CHECKPOINTS, shipped_atlas_path

venv = Path(sys.argv[1]).resolve()
where = Path(latentdash.__file__).resolve()
if venv not in where.parents:
    sys.exit(f"error: latentdash was imported from {where}, not from {venv}")
missing = [str(p) for n in SHIPPED_CHECKPOINTS for p in (CHECKPOINT_DIR / n, shipped_atlas_path(n)) if not p.is_file()]
if missing:
    sys.exit(f"error: the installed package lacks its shipped data: {', '.join(missing)}")
print(f"installed latentdash {getattr(latentdash, '__version__', '?')} in {venv}")
EOF
