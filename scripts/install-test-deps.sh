#!/usr/bin/env bash
# Install the Debian packages the test suite needs: PostgreSQL 15 with pg_cron 1.4.2 and
# pg_partman, what it takes to build pg_cron 1.6.7 and pg_net 0.20.5 against it (PGXS, libcurl),
# and Elixir/Erlang for Oban. Idempotent: when everything is installed it does no apt work at all.
# The vendored parts are built afterwards by `tests/support/vendor.py build` (`make test-deps`).
set -euo pipefail

PKGS=(
  postgresql-15 postgresql-15-cron postgresql-15-partman
  postgresql-server-dev-15 libcurl4-openssl-dev build-essential
  elixir erlang-ssl
)

if ! command -v dpkg >/dev/null 2>&1; then
  echo "install-test-deps: not a Debian/Ubuntu system; install manually: ${PKGS[*]}" >&2
  exit 1
fi

installed() { dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null; }

missing=()
for p in "${PKGS[@]}"; do
  installed "$p" || missing+=("$p")
done
# PGXS builds must match the server they load into: the dev package at the server's version.
if installed postgresql-15 && installed postgresql-server-dev-15 \
  && [[ $(version postgresql-15) != "$(version postgresql-server-dev-15)" ]]; then
  missing+=(postgresql-server-dev-15)
fi
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

pinned=()
for p in "${missing[@]}"; do
  if [[ $p == postgresql-server-dev-15 ]] && installed postgresql-15; then
    pinned+=("$p=$(version postgresql-15)")
  else
    pinned+=("$p")
  fi
done

apt_install() {
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "$@" </dev/null
}

echo "install-test-deps: installing ${pinned[*]}"
"${SUDO[@]}" apt-get update -q
if ! apt_install "${pinned[@]}"; then
  # the archive no longer has the installed server's version: move both to the current one
  echo "install-test-deps: retrying with postgresql-15 and postgresql-server-dev-15 upgraded together"
  apt_install "${missing[@]}" postgresql-15
fi
