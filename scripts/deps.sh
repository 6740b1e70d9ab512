#!/bin/sh
# Installs the Debian packages kiemtra needs that are not installed yet.
# Usage: scripts/deps.sh [build|test|lint|bench|corpus|ha]...   (build is always included)
set -eu

build="cmake make gcc pkg-config libevent-dev libpq-dev postgresql-15 libjansson-dev
       libsodium-dev libxml2-dev libzip-dev libutf8proc-dev libxlsxwriter-dev libjs-katex"
# chromium and nodejs: the browser tests (tests/browser, playwright-core from npm);
# LibreOffice and poppler-utils: the .docx export is converted to PDF and read back
# ha: many gateways behind HAProxy, PostgreSQL managed by Patroni with etcd
# (scripts/ha, tests/integration/test_failover.py, which `make test` runs).
ha="haproxy patroni etcd-server python3"
test="libcriterion-dev python3 clang libclang-rt-14-dev chromium nodejs
      libreoffice-writer-nogui libreoffice-math-nogui poppler-utils $ha"
lint="clang-tidy cppcheck"
bench="nginx-light wrk bc postgresql-contrib python3 curl"
# corpus: regenerating tests/corpus/docx and tests/corpus/xlsx (make corpus); the tests read the
# committed files and do not need LibreOffice.
corpus="libreoffice-writer-nogui libreoffice-math-nogui libreoffice-calc-nogui fonts-dejavu-core python3"

want="$build"
for set in "$@"; do
    case "$set" in
    build) ;;
    test) want="$want $test" ;;
    lint) want="$want $lint" ;;
    bench) want="$want $bench" ;;
    corpus) want="$want $corpus" ;;
    ha) want="$want $ha" ;;
    *) echo "deps.sh: unknown set '$set'" >&2; exit 2 ;;
    esac
done

# npm is its own Debian package, but a nodejs from elsewhere (NodeSource)
# bundles it and conflicts with Debian's: ask for it only when it is absent.
case " $want " in
*" nodejs "*) command -v npm >/dev/null 2>&1 || want="$want npm" ;;
esac

missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "Installing Debian packages:$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! $sudo apt-get install -y --no-install-recommends $missing; then
    $sudo apt-get update
    # shellcheck disable=SC2086
    $sudo apt-get install -y --no-install-recommends $missing
fi
