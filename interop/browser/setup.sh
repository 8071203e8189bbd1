#!/usr/bin/env bash
# Installs what the browser interop tests need: Debian's Chromium (when
# missing), then JsSIP, playwright-core and esbuild from npm, and bundles
# JsSIP for the page (jssip.js). Run from anywhere; idempotent.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v chromium >/dev/null 2>&1 && [ -z "${SIPWS_CHROMIUM:-}" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends chromium >&2 ||
    { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends chromium >&2; }
fi
npm install --no-package-lock --no-save --no-audit --no-fund >&2
npm run -s bundle
echo "setup.sh: $(chromium --version 2>/dev/null || echo "Chromium at $SIPWS_CHROMIUM"), JsSIP bundled" >&2
