#!/usr/bin/env bash
# test-wasm-current.sh — builds and tests the WebAssembly engine with a current Emscripten, beside Debian 12's 3.1.6
# that tools/build-wasm.sh uses. There is no emsdk download here: the toolchain is Debian sid's `emscripten` package
# (6.0.5 when this was written: clang 21, binaryen 131, node 24) in a sid chroot made by debootstrap, which needs
# only Debian's mirror. The chroot is cached outside the repository; the repository and the data folder are
# bind-mounted into it at their own paths, and unmounted on exit.
#   1. the chroot: made once (about 1 minute, 1.3 GB), then reused
#   2. both variants with that Emscripten: build-wasm-current/ and build-wasm-st-current/ (build-wasm.sh --mt/--st)
#   3. their unit tests (tests/unit) through ctest, under the chroot's node 24 (the node that Emscripten comes with)
#   4. the page API tests (tests/wasm: lab, parity with the native CLI, bench_gemm) on those builds under this
#      host's node, and test_lab once more under node 24
#   5. build-site-current/ (the site with those builds) and every browser test (tests/browser) on it in this host's
#      Chromium: threads when isolated, the single-threaded fallback, coi-serviceworker, parity with the CLI, …
# Every failure fails the script, and so does a test that does not run: ctest "Skipped"/"Not Run", or exit 77 of a
# node test, is a failure here. No debootstrap, no mirror, no root: a failure that says so.
#
# Usage: tools/test-wasm-current.sh [--build-only] [--refresh]
#   --build-only  steps 1-2
#   --refresh     make the chroot anew (a newer sid Emscripten, or a broken chroot)
# Environment: DSP_DATA_DIR (default ../shared/data), JOBS (default: the core count),
#   DSP_CURRENT_ROOT    the chroot (default ${XDG_CACHE_HOME:-$HOME/.cache}/dissipate/sid-emscripten)
#   DSP_CURRENT_SUITE   the Debian suite (default sid), DSP_CURRENT_MIRROR (default http://deb.debian.org/debian)
#   DSP_NATIVE          the native `dissipate` for the parity tests (default build/dissipate, built when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd -P)
data=$(realpath "${DSP_DATA_DIR:-$root/../shared/data}")
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
rootfs=${DSP_CURRENT_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/dissipate/sid-emscripten}
suite=${DSP_CURRENT_SUITE:-sid}
mirror=${DSP_CURRENT_MIRROR:-http://deb.debian.org/debian}
native=${DSP_NATIVE:-$root/build/dissipate}
mt=build-wasm-current st=build-wasm-st-current site=build-site-current
build_only=0 refresh=0
for a in "$@"; do
  case "$a" in
    --build-only) build_only=1 ;;
    --refresh) refresh=1 ;;
    *) echo "test-wasm-current: unknown argument '$a' (--build-only, --refresh)" >&2; exit 2 ;;
  esac
done
say() { printf '\n---- test-wasm-current: %s\n' "$*"; }
die() { printf '\ntest-wasm-current: FAILED: %s\n' "$*" >&2; exit 1; }
[ -d "$data/stsb" ] || die "no data folder at $data (set DSP_DATA_DIR)"
# The guard before `rm -rf` of a chroot compares findmnt's mount targets with the chroot's path, and findmnt -r
# prints a space, a backslash or a non-ASCII byte escaped (\x20): a path with one would not match, the guard would
# pass with the repository still bind-mounted below, and rm -rf would delete it through the mount. So such paths are
# refused outright; the mount targets are the chroot's path followed by the repository's and the data's.
plain_path() { local LC_ALL=C; case "$1" in *[![:graph:]]* | *\\*) return 1 ;; esac; }  # C: [:graph:] is ASCII
for p in "$rootfs" "$root" "$data"; do
  plain_path "$p" || die "'$p' has a space, a backslash or a non-ASCII character: use a plain path (DSP_CURRENT_ROOT for the chroot)"
done

# debootstrap, mount and chroot need root.
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "needs root, or sudo, for debootstrap, mount and chroot"
  SUDO=sudo
fi
export PATH=$PATH:/usr/sbin:/sbin
for tool in debootstrap chroot mount flock findmnt; do
  command -v "$tool" >/dev/null || die "$tool not found (tools/setup.sh installs debootstrap)"
done

# ---------------------------------------------------------------- 1. the chroot
# A finished chroot is renamed into place, so a chroot that exists is complete. Nothing is deleted while anything
# is mounted below it: that would delete through a bind mount into the repository.
mkdir -p "$(dirname "$rootfs")"
exec 9>"$rootfs.lock"
# One run at a time per chroot (they would share its mounts); so whatever is still mounted below it now is left over
# from a run that was killed before its trap could unmount, and is unmounted here, deepest first.
if ! flock -n 9; then
  echo "test-wasm-current: waiting for another run that uses $rootfs"
  flock -w 1800 9 || die "another run has held $rootfs.lock for 30 minutes"
fi
mounted_below() { findmnt -rn -o TARGET | awk -v p="$1" '$0 == p || index($0, p "/") == 1'; }
{ mounted_below "$rootfs"; mounted_below "$rootfs.new"; } | sort -r | while IFS= read -r m; do
  echo "test-wasm-current: unmounting $m, left over from an interrupted run"
  $SUDO umount "$m" || $SUDO umount -l "$m"
done
remove_tree() {
  [ -e "$1" ] || return 0
  if [ -n "$(mounted_below "$1")" ]; then
    die "$1 has mounts below it (an interrupted run?): unmount them (findmnt | grep $1), then run again"
  fi
  $SUDO rm -rf "$1"
}
usable() { [ -x "$rootfs/usr/bin/emcc" ] && [ -x "$rootfs/usr/bin/cmake" ] && [ -x "$rootfs/usr/bin/node" ]; }
if [ "$refresh" = 1 ] || ! usable; then
  [ -e "$rootfs" ] && say "making the chroot anew ($rootfs)"
  remove_tree "$rootfs"; remove_tree "$rootfs.new"
  say "debootstrap $suite with emscripten from $mirror into $rootfs (about 1 minute, 1.3 GB)"
  log="$rootfs.debootstrap.log"
  started=$SECONDS
  if ! $SUDO debootstrap --variant=minbase --include=emscripten,cmake,make "$suite" "$rootfs.new" "$mirror" \
      >"$log" 2>&1; then
    tail -20 "$log" >&2
    die "debootstrap of Debian $suite from $mirror failed (whole log: $log)"
  fi
  $SUDO mv "$rootfs.new" "$rootfs"
  echo "made in $((SECONDS - started)) s"
fi
usable || die "$rootfs lacks emcc, cmake or node"

# The repository and the data at their own paths (the build folders' CMake caches name them), the data read-only;
# and /proc, which node, python and LLVM's tools read (/proc/self/...).
mounts=()
unmount_all() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    $SUDO umount "${mounts[i]}" 2>/dev/null || $SUDO umount -l "${mounts[i]}" ||
      echo "test-wasm-current: could not unmount ${mounts[i]}" >&2
  done
  mounts=()
}
trap unmount_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mount_in() { # source target-in-chroot [options]
  $SUDO mkdir -p "$rootfs$2"
  if [ "$1" = proc ]; then $SUDO mount -t proc proc "$rootfs$2"; else $SUDO mount --bind "$1" "$rootfs$2"; fi
  mounts+=("$rootfs$2")
  if [ -n "${3:-}" ]; then $SUDO mount -o "remount,bind,$3" "$rootfs$2"; fi
}
mount_in proc /proc
mount_in "$root" "$root"
case "$data/" in "$root"/*) ;; *) mount_in "$data" "$data" ro ;; esac

# Runs a command in the chroot, in the repository, as this user (the build folders stay this user's), with a clean
# environment: nothing of this host's PATH, node or NODE_OPTIONS leaks in.
uid=$(id -u) gid=$(id -g)
home=/root; [ "$uid" -eq 0 ] || home=/tmp
in_chroot() {
  $SUDO chroot --userspec="$uid:$gid" "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$home" \
    LANG=C.UTF-8 DSP_DATA_DIR="$data" JOBS="$jobs" bash -c "cd '$root' && $1"
}
emver=$(in_chroot 'emcc -dumpversion')
node_in=$(in_chroot 'node --version')
toolchain="Emscripten $emver (Debian $suite: clang $(in_chroot 'emcc -v 2>&1 | sed -n "s/.*clang version \([0-9.]*\).*/\1/p"'), \
binaryen $(in_chroot 'wasm-opt --version | sed -n "s/.*version \([0-9]*\).*/\1/p"'), node $node_in)"

# ---------------------------------------------------------------- 2. the builds
say "building $mt/ and $st/ with $toolchain"
started=$SECONDS
in_chroot "bash tools/build-wasm.sh --mt $mt --st $st" || die "the build with Emscripten $emver failed"
build_s=$((SECONDS - started))
[ "$build_only" = 1 ] && { say "built with $toolchain in ${build_s} s (--build-only: no tests)"; exit 0; }

# ---------------------------------------------------------------- 3. unit tests, ctest under node 24
summary=()
# ctest counts a skipped test as passed in its percentage: here it is a failure.
ctest_all() { # folder
  local log=$root/$1/ctest-current.log
  in_chroot "ctest --test-dir $1 --output-on-failure -j$jobs" 2>&1 | tee "$log" || die "ctest in $1 failed"
  if grep -q "tests did not run\|Skipped\|Not Run" "$log"; then
    die "tests in $1 did not run (counted as failures; see above)"
  fi
  summary+=("unit tests $1 (ctest, node $node_in): $(sed -n 's/.*tests passed, \(.*\)/\1, none skipped/p' "$log")")
}
say "unit tests of $mt/ and $st/ through ctest, node $node_in in the chroot"
ctest_all "$mt"
ctest_all "$st"

# ---------------------------------------------------------------- 4. the page API under node
if [ ! -x "$native" ]; then
  say "building the native CLI for the parity test ($native)"
  [ "$native" = "$root/build/dissipate" ] || die "DSP_NATIVE=$native does not exist"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDSP_DATA_DIR="$data" >/dev/null
  cmake --build build -j"$jobs" --target dissipate
fi
tmp=$root/$mt/test-tmp-api
mkdir -p "$tmp"
node_test() { # label, then the command (run with the current builds' DSP_* environment)
  local label=$1 rc=0
  shift
  DSP_WASM_DIRS="$root/$mt:$root/$st" DSP_TMP_DIR="$tmp" DSP_DATA_DIR="$data" DSP_SOURCE_DIR="$root" "$@" || rc=$?
  [ "$rc" -eq 77 ] && die "$label did not run (exit 77; counted as a failure)"
  [ "$rc" -eq 0 ] || die "$label failed (exit $rc)"
  summary+=("$label: passed")
}
say "page API tests (tests/wasm) on the $emver builds, node $(node --version) on this host"
for t in lab parity bench_gemm; do
  node_test "tests/wasm/test_$t, node $(node --version)" node "tests/wasm/test_$t.mjs" "$native"
done
say "tests/wasm/test_lab under node $node_in in the chroot"
node_test "tests/wasm/test_lab, node $node_in" in_chroot \
  "DSP_WASM_DIRS='$root/$mt:$root/$st' DSP_TMP_DIR='$tmp' DSP_SOURCE_DIR='$root' node tests/wasm/test_lab.mjs"

# ---------------------------------------------------------------- 5. the page in Chromium
say "the site with the $emver builds ($site/) and every browser test on it, \
$("${DSP_CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null || echo 'Chromium (no version)')"
node tools/build-site.mjs --data "$data" --out "$site" --wasm-mt "$mt" --wasm-st "$st"
for f in tests/browser/test_*.mjs; do
  t=${f##*/test_}
  t=${t%.mjs}
  # every browser test takes --native (test_parity and test_defaults use it, the others ignore it)
  DSP_SITE_DIR="$root/$site" DSP_DATA_DIR="$data" node "$f" --native "$native" \
    || die "browser test $t on the $emver site failed"
  summary+=("browser test $t (Chromium, $site/): passed")
done

say "summary: $toolchain"
printf '  %s\n' "built in ${build_s} s" "${summary[@]}"
