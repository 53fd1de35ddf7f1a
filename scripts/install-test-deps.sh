#!/usr/bin/env bash
# Install the Debian packages the test suite needs (PostgreSQL 15 + pg_cron + pg_partman, Elixir).
# Idempotent: when everything is installed it does no apt work at all.
set -euo pipefail

PKGS=(postgresql-15 postgresql-15-cron postgresql-15-partman elixir)

if ! command -v dpkg >/dev/null 2>&1; then
  echo "install-test-deps: not a Debian/Ubuntu system; install manually: ${PKGS[*]}" >&2
  exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-test-deps: already installed: ${PKGS[*]}"
  exit 0
fi

SUDO=()
if ((EUID != 0)); then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-test-deps: need root (or sudo) to run: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  SUDO=(sudo)
fi

echo "install-test-deps: installing ${missing[*]}"
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
