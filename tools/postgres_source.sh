#!/usr/bin/env bash
# Builds a PostgreSQL major that Debian 12 has no binary packages of (18) from Debian's own
# source package, into a cache outside the clone, and prints the path of its pg_config.
# Idempotent: a build already in the cache is used as it is.
#
#   bash tools/postgres_source.sh 18     # -> /var/cache/azure-storage/postgresql/18.6/bin/pg_config
#
# The source comes through the ordinary apt client (a deb-src entry for the Debian suite that
# carries the major, signed by the Debian archive keyring). The cache directory can be moved
# with PG_SOURCE_CACHE. Progress goes to stderr; stdout is the pg_config path only.
set -euo pipefail
cd "$(dirname "$0")/.."

major="${1:?usage: postgres_source.sh <major>}"
case "$major" in
  18) suite=forky ;;
  *) echo "postgres_source: no Debian source of PostgreSQL $major is known to build here (18 is)" >&2; exit 2 ;;
esac
cache="${PG_SOURCE_CACHE:-/var/cache/azure-storage/postgresql}"
say() { echo "postgres_source: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# As Debian's packages are built, for what the tests use (xml, SSL); no readline or ICU.
configure_flags=(--without-icu --without-readline --with-openssl --with-libxml)
# A finished build is a directory named by its full version with a pg_config that answers,
# built with these flags (they are in its .complete file).
for dir in "$cache/$major".*; do
  if [ -x "$dir/bin/pg_config" ] && [ "$(cat "$dir/.complete" 2>/dev/null)" = "${configure_flags[*]}" ]; then
    echo "$dir/bin/pg_config"
    exit 0
  fi
done

missing=()
for p in bison flex build-essential libssl-dev libxml2-dev zlib1g-dev pkg-config dpkg-dev debian-archive-keyring; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
sources=/etc/apt/sources.list.d/postgresql-source-$suite.sources
if [ ! -f "$sources" ]; then
  say "adding Debian's $suite source packages to apt ($sources)"
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$suite" \
    | as_root tee "$sources" >/dev/null
  fresh_lists=1
fi
if [ ${#missing[@]} -gt 0 ] || [ -n "${fresh_lists:-}" ]; then
  # A plain update: one restricted to a single sources file would drop the other lists.
  as_root apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing build dependencies: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# apt's download user must be able to write there.
chmod 755 "$work"
say "downloading the source of postgresql-$major"
(cd "$work" && apt-get source --download-only -qq -o APT::Sandbox::User=root "postgresql-$major" >&2)
orig=$(ls "$work"/postgresql-"$major"_*.orig.tar.* | head -1)
version=$(basename "$orig" | sed -E "s/^postgresql-${major}_([0-9.]+)\.orig\.tar\..*$/\1/")
[ -n "$version" ] || { say "cannot tell the version of $orig"; exit 1; }
prefix="$cache/$version"
say "building PostgreSQL $version into $prefix (about 5 minutes on 2 cores)"
mkdir -p "$work/src"
tar -xf "$orig" -C "$work/src" --strip-components=1
as_root mkdir -p "$cache"
as_root rm -rf "$prefix"
(
  cd "$work/src"
  # Started from `make test PG=18`, this script inherits the outer make's MAKELEVEL and
  # flags; PostgreSQL's build makes its generated headers (utils/errcodes.h, ...) only when
  # it is the top-level make, so it must not see them.
  unset MAKELEVEL MAKEFLAGS MFLAGS
  ./configure --prefix="$prefix" "${configure_flags[@]}" >"$work/configure.log" 2>&1 \
    || { tail -30 "$work/configure.log" >&2; exit 1; }
  make -j"$(nproc)" -s >"$work/make.log" 2>&1 || { tail -40 "$work/make.log" >&2; exit 1; }
  as_root make -s install >"$work/install.log" 2>&1 || { tail -40 "$work/install.log" >&2; exit 1; }
)
echo "${configure_flags[*]}" | as_root tee "$prefix/.complete" >/dev/null
say "PostgreSQL $version ready"
echo "$prefix/bin/pg_config"
