#!/usr/bin/env bash
# Builds Debian packages into dist/, for this machine's architecture, with dpkg-deb from
# staged trees:
#   postgresql-<major>-azure-storage_<version>_<arch>.deb for each major given (default: 15,
#     Debian's, and 18, the project's own build), its files where that major's pg_config says;
#   pgvault_<version>_<arch>.deb: /usr/bin/pgvault, its manual pages and shell completions
#     (made by `pgvault generate`), the scheduling examples of contrib/.
# The version is the workspace's. `tools/package.sh 15` builds 15's and pgvault's only.
# Prints the path of each package built.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
majors=("$@"); [ ${#majors[@]} -gt 0 ] || majors=(15 18)
source tools/env.sh
VERSION=$WORKSPACE_VERSION
ARCH=$(dpkg --print-architecture)
MAINTAINER="${PACKAGE_MAINTAINER:-azure_storage and pgvault maintainers <maintainers@azure-storage.invalid>}"
DIST="$ROOT/dist"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
trap 'echo "package: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
mkdir -p "$DIST"

# The license and changelog every package carries.
add_docs() { # <package> <root>
  install -d "$2/usr/share/doc/$1"
  install -m 644 packaging/copyright "$2/usr/share/doc/$1/copyright"
  gzip -9n < packaging/changelog > "$2/usr/share/doc/$1/changelog.Debian.gz"
}

# The shared libraries the staged programs link, as Depends entries (dpkg-shlibdeps, which
# reads a package's debian/control, so it is given one).
shlib_depends() { # <file>...
  local dir="$work/shlibdeps"
  mkdir -p "$dir/debian"
  printf 'Source: azure-storage\n\nPackage: any\nArchitecture: any\n' > "$dir/debian/control"
  # A library's symbols from the server that loads it are found in no library: not a dependency.
  (cd "$dir" && dpkg-shlibdeps -O --warnings=0 "$@" 2>"$work/shlibdeps.log") | sed -n 's/^shlibs:Depends=//p'
}

# DEBIAN/ of a staged tree, then the package. Files are root's, whoever builds.
build_deb() { # <package> <root> <depends> <description...>
  local package=$1 root=$2 depends=$3; shift 3
  install -d "$root/DEBIAN"
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
  {
    echo "Package: $package"
    echo "Version: $VERSION"
    echo "Architecture: $ARCH"
    echo "Maintainer: $MAINTAINER"
    echo "Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)"
    [ -z "$depends" ] || echo "Depends: $depends"
    echo "Section: database"
    echo "Priority: optional"
    printf '%s\n' "$@"
  } > "$root/DEBIAN/control"
  local deb="$DIST/${package}_${VERSION}_${ARCH}.deb"
  dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
  echo "$deb"
}

# The package that installed the server of this pg_config, if a package did.
server_package() { # <pg_config>
  { dpkg-query -S "$("$1" --bindir)/postgres" 2>/dev/null || true; } | sed -n 's/^\([^:,]*\): .*/\1/p'
}

extension_package() { # <major>
  local major=$1 pg_config package root
  pg_config=$(PG=$major PG_CONFIG="" bash -c 'source tools/env.sh; echo "$PG_CONFIG"')
  [ -n "$pg_config" ] || { echo "package: no PostgreSQL $major here (make setup PG=$major builds it)" >&2; exit 1; }
  package="postgresql-$major-azure-storage"
  root="$work/$package"
  cargo pgrx package --pg-config "$pg_config" --out-dir "$root" -p azure_storage \
    --no-default-features --features "pg$major" >"$work/pgrx-$major.log" 2>&1 \
    || { cat "$work/pgrx-$major.log" >&2; exit 1; }
  local pkglibdir sharedir
  pkglibdir=$("$pg_config" --pkglibdir); sharedir=$("$pg_config" --sharedir)
  [ -f "$root$pkglibdir/azure_storage.so" ] || { echo "package: cargo pgrx package left no $pkglibdir/azure_storage.so" >&2; exit 1; }
  bash tools/upgrade_scripts.sh "$root$sharedir/extension"
  strip --strip-unneeded "$root$pkglibdir/azure_storage.so"
  add_docs "$package" "$root"
  install -d "$root/DEBIAN"
  sed -e "s|@MAJOR@|$major|g" -e "s|@VERSION@|$VERSION|g" -e "s|@PKGLIBDIR@|$pkglibdir|g" \
    packaging/extension.postinst > "$root/DEBIAN/postinst"
  chmod 755 "$root/DEBIAN/postinst"
  # The server package the library was built for, when a package installed that server
  # (Debian's 15); the project's own builds of other majors belong to no package.
  local depends server
  depends=$(shlib_depends "$root$pkglibdir/azure_storage.so")
  server=$(server_package "$pg_config")
  [ -z "$server" ] || depends="$server, $depends"
  build_deb "$package" "$root" "$depends" \
    "Description: Azure Blob Storage from SQL for PostgreSQL $major (azure_storage)" \
    " The azure_storage extension lists, reads and writes blobs of Azure Blob Storage" \
    " accounts from SQL, with the SQL surface of Azure Database for PostgreSQL's" \
    " extension of the same name (blob_list, blob_get, blob_put, COPY to and from" \
    " https://<account>.blob.core.windows.net/<container>/<blob>), so scripts written" \
    " for Azure run unchanged: CSV, text, binary, parquet and JSON lines, gzip and zstd," \
    " partitioned datasets, access keys, SAS tokens and Entra ID identities." \
    " ." \
    " Built for the PostgreSQL $major of $("$pg_config" --bindir)." \
    " The server must preload the library (shared_preload_libraries =" \
    " 'azure_storage'); this package restarts nothing."
}

pgvault_package() {
  local package=pgvault root="$work/pgvault"
  cargo build --release -p pgvault >"$work/cargo-pgvault.log" 2>&1 || { cat "$work/cargo-pgvault.log" >&2; exit 1; }
  local bin="$ROOT/target/release/pgvault"
  install -D -m 755 "$bin" "$root/usr/bin/pgvault"
  strip --strip-unneeded "$root/usr/bin/pgvault"
  "$bin" generate man --out-dir "$work/man"
  install -d "$root/usr/share/man/man1"
  for page in "$work"/man/*.1; do gzip -9n < "$page" > "$root/usr/share/man/man1/$(basename "$page").gz"; done
  install -d "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" "$root/usr/share/fish/vendor_completions.d"
  "$bin" generate bash > "$root/usr/share/bash-completion/completions/pgvault"
  "$bin" generate zsh > "$root/usr/share/zsh/vendor-completions/_pgvault"
  "$bin" generate fish > "$root/usr/share/fish/vendor_completions.d/pgvault.fish"
  add_docs "$package" "$root"
  # The examples, with the binary where this package puts it.
  local examples="$root/usr/share/doc/pgvault/examples"
  install -d "$examples/systemd" "$examples/cron"
  for f in contrib/systemd/* contrib/cron/* contrib/pgvault.env.example contrib/README.md; do
    sed 's|/usr/local/bin/pgvault|/usr/bin/pgvault|g' "$f" > "$examples/${f#contrib/}"
  done
  chmod 644 -R "$examples"; chmod 755 "$examples" "$examples/systemd" "$examples/cron"
  build_deb "$package" "$root" "postgresql-client, $(shlib_depends "$root/usr/bin/pgvault")" \
    "Description: whole-server PostgreSQL backups in an Azure Blob Storage vault" \
    " pgvault backs up every database of a PostgreSQL server (pg_dump custom format per" \
    " database, pg_dumpall roles, schema and tablespaces) into a container of an Azure" \
    " Blob Storage account, lists and validates the restore points, restores one as" \
    " files in Azure Backup's layout or into a server, proves restores by drills into" \
    " a scratch server, keeps a job history, prunes by retention and encrypts for age" \
    " recipients." \
    " ." \
    " The manual is pgvault(1); examples of systemd timers and a cron file are in" \
    " /usr/share/doc/pgvault/examples."
}

for major in "${majors[@]}"; do extension_package "$major"; done
pgvault_package
