# aarch64-linux-gnu.cmake — a CMake toolchain file for a 64-bit ARM (AArch64, NEON) build on an x86-64 Debian host,
# with ctest running the tests under qemu's user-mode emulator. tools/test.sh uses it to check the NEON mapping of
# simd.h; on an ARM machine, build natively instead (no toolchain file).
#   apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=tools/cross/aarch64-linux-gnu.cmake && cmake --build build-aarch64
#   ctest --test-dir build-aarch64
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/usr/aarch64-linux-gnu)
