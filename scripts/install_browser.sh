#!/usr/bin/env bash
# Install the browser the UI tests drive: Debian's chromium plus CJK fonts (without them
# Chinese renders as boxes). Idempotent: does nothing when both are present. Never runs
# `playwright install` (that downloads a browser from the internet and fails offline).
set -euo pipefail

have_chromium() { [ -x /usr/bin/chromium ]; }
have_fonts() { dpkg -s fonts-noto-cjk >/dev/null 2>&1; }

if have_chromium && have_fonts; then
    echo "install_browser: chromium and fonts-noto-cjk already installed"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser: apt-get not found; install chromium and CJK fonts yourself" \
        "(the browser tests are skipped without /usr/bin/chromium)" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install_browser: need root (or sudo) to apt-get install chromium" >&2
        exit 1
    fi
fi
echo "install_browser: installing chromium and fonts-noto-cjk (about 20 s)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    chromium fonts-noto-cjk >/dev/null
have_chromium && echo "install_browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium installed)"
