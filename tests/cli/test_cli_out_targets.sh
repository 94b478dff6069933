#!/usr/bin/env bash
# An output path that is not a plain file is written as the user meant it, and never replaced by a regular file:
# a symbolic link stays a link and the file it names gets the output (also a link to a file not there yet, and a
# chain of links); a named pipe and a character device are written in place (/dev/null for a dry run, a pipe
# for a reader); a block device is refused. A file written through a rename over the link or node would have
# replaced it. Device nodes are made with mknod in the test's own folder (never /dev), so a regression here cannot
# damage the machine; where no working node can be made (no right to mknod, a nodev mount) those cases are reported
# as not run.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/small_setup.sh"
printf 'a first sentence\nand a second one\n' > "$TMP/s.txt"
E=(encode --model "$M" --text-file "$TMP/s.txt")

# the reference output, written to a plain new file
expect_ok "encode to a plain file" "$DSP" "${E[@]}" --out "$TMP/plain.safetensors"

# a link to an existing file: the link stays, its target takes the output
echo old > "$TMP/target.safetensors"
ln -s target.safetensors "$TMP/link.safetensors"
expect_ok "encode through a link" "$DSP" "${E[@]}" --out "$TMP/link.safetensors"
[ -L "$TMP/link.safetensors" ] && ok || fail "the link was replaced by a regular file"
cmp -s "$TMP/target.safetensors" "$TMP/plain.safetensors" && ok || fail "the link's target did not get the output"

# a chain of links, the last one naming a file that does not exist yet in another folder
mkdir "$TMP/elsewhere"
ln -s "$TMP/elsewhere/new.safetensors" "$TMP/dangling"
ln -s dangling "$TMP/chain.safetensors"
expect_ok "encode through a chain of links" "$DSP" "${E[@]}" --out "$TMP/chain.safetensors"
[ -L "$TMP/chain.safetensors" ] && [ -L "$TMP/dangling" ] && ok || fail "a link of the chain was replaced"
cmp -s "$TMP/elsewhere/new.safetensors" "$TMP/plain.safetensors" && ok || fail "the chain's last target lacks the output"
ls "$TMP/elsewhere" | grep -q tmp && fail "a temporary file was left beside the target" || ok

# a named pipe: written in place, read by whoever listens
mkfifo "$TMP/pipe"
timeout 20 cat "$TMP/pipe" > "$TMP/from_pipe" & # bounded: a run that never opens the pipe fails the test, not hangs it
reader=$!
expect_ok "encode into a named pipe" timeout 60 "$DSP" "${E[@]}" --out "$TMP/pipe"
wait "$reader"
[ -p "$TMP/pipe" ] && ok || fail "the named pipe was replaced by a regular file"
cmp -s "$TMP/from_pipe" "$TMP/plain.safetensors" && ok || fail "the pipe's reader did not get the output"

# character devices: a null device takes the output and stays a device; a full one reports its error
# (a node that does not act as its device, as on a nodev mount, cannot test anything: those cases are then not run)
if mknod -m 666 "$TMP/null" c 1 3 2>/dev/null && mknod -m 666 "$TMP/full" c 1 7 2>/dev/null &&
    (echo probe > "$TMP/null") 2>/dev/null && ! (echo probe > "$TMP/full") 2>/dev/null; then
  expect_ok "encode into a null device" "$DSP" "${E[@]}" --out "$TMP/null"
  [ -c "$TMP/null" ] && ok || fail "the null device was replaced by a regular file"
  expect_fail "encode into a full device" "cannot write $TMP/full: No space left on device" "$DSP" "${E[@]}" --out "$TMP/full"
  [ -c "$TMP/full" ] && ok || fail "the full device was replaced by a regular file"
  # a block device (a loop device number that need not exist: it is never opened) is refused
  if mknod -m 666 "$TMP/block" b 7 250 2>/dev/null; then
    expect_fail "encode onto a block device" "is a block device: refusing to write over it" "$DSP" "${E[@]}" \
      --out "$TMP/block"
    [ -b "$TMP/block" ] && ok || fail "the block device node was replaced"
  fi
else
  echo "device cases not run: no working device node could be made here (the link and pipe cases ran)"
fi
finish
