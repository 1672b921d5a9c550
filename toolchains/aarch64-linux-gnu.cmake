# Cross toolchain for 64-bit ARM Linux (Debian: apt-get install g++-aarch64-linux-gnu).
#   node_modules/.bin/cmake-js build -d native -O build-arm64 --arch arm64 \
#     --CDCMAKE_TOOLCHAIN_FILE=$PWD/toolchains/aarch64-linux-gnu.cmake
# cmake-js ignores --arch on Linux for the compiler; this file picks it. Node-API mode needs no
# per-arch Node headers. Result: ELF 64-bit aarch64, needs GLIBC_2.17 / GLIBCXX_3.4.21.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(TEDGE_TRIPLE aarch64-linux-gnu)

set(CMAKE_C_COMPILER ${TEDGE_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${TEDGE_TRIPLE}-g++)
set(CMAKE_AR ${TEDGE_TRIPLE}-ar CACHE FILEPATH "")
set(CMAKE_STRIP ${TEDGE_TRIPLE}-strip CACHE FILEPATH "")

set(CMAKE_FIND_ROOT_PATH /usr/${TEDGE_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Host tests of a cross build run under qemu-user when binfmt is not set up.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static -L /usr/${TEDGE_TRIPLE})
