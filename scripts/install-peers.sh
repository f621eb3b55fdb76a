#!/bin/sh
# install-peers.sh — install the Python peers used by bench/peers/peers.py
# (PyTorch and numpy from Debian's own packages, plus the pthread OpenBLAS).
#
# Debian bookworm ships python3-torch 1.13.1 and python3-numpy 1.24.2. They
# install for Debian's interpreter, /usr/bin/python3 — NOT for a pyenv/venv
# python3 that may come first on PATH. Run the peers with /usr/bin/python3.
#
# Usage (as root, or with sudo):  sh scripts/install-peers.sh
set -eu

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi

$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y \
	python3-torch python3-numpy libopenblas0-pthread

/usr/bin/python3 -c 'import torch, numpy; print("torch", torch.__version__, "numpy", numpy.__version__)'
