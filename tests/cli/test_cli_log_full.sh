#!/usr/bin/env bash
# A --log on a full disk fails the run with a message naming the log and the error, and a non-zero exit, in train
# and pretrain; the model --out held before stays as it was. The full disk is a /dev/full-like device (char 1 7) made
# with mknod in the test's folder; where that cannot be made (not root, a nodev mount), the test is skipped (exit 77,
# ctest's SKIP_RETURN_CODE), never passed.
source "$(dirname "$0")/lib.sh"
F=$TMP/full
if ! mknod "$F" c 1 7 2>/dev/null; then
  echo "SKIP: cannot make a full-disk device with mknod in $TMP (needs root, and a mount without nodev)"
  exit 77
fi
# the node must behave as /dev/full: opened, then every write fails with ENOSPC (nodev refuses the open instead)
if ! { echo x > "$F"; } 2>&1 | grep -q "No space left on device"; then
  echo "SKIP: $F (char 1 7) does not act as a full disk here: $({ echo x > "$F"; } 2>&1)"
  exit 77
fi
source "$(dirname "$0")/small_setup.sh"

said="cannot write the log $F: No space left on device; the run stopped before its first step"
expect_fail "train, log on a full disk" "$said" \
  "$DSP" train --model "$M" --corpus "$C" --steps 2 --batch 4 --eval "$STS40" --log "$F" --quiet
# pretrain over a model --out holds (--force): the run stops before it saves anything, and that model stays (made
# with another seed, so that a run that went on would save other weights over it)
expect_ok "pretrain, a first model" "$DSP" pretrain --model "$M" --corpus "$C" --out "$TMP/pt" --steps 2 --batch 4 \
  --seed 5
before=$(cat "$TMP/pt"/* | md5sum)
expect_fail "pretrain, log on a full disk" "$said; nothing was saved to $TMP/pt" \
  "$DSP" pretrain --model "$M" --corpus "$C" --out "$TMP/pt" --force --steps 2 --batch 4 --log "$F"
[ "$(cat "$TMP/pt"/* | md5sum)" = "$before" ] && ok || fail "a pretrain run whose log failed changed the model in --out"
finish
