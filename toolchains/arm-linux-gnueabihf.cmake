# Cross toolchain for 32-bit ARM hard-float Linux, ARMv7 (Debian: apt-get install g++-arm-linux-gnueabihf).
#   node_modules/.bin/cmake-js build -d native -O build-arm --arch arm \
#     --CDCMAKE_TOOLCHAIN_FILE=$PWD/toolchains/arm-linux-gnueabihf.cmake
# Result: ELF 32-bit ARM EABI5, needs GLIBC_2.4 / GLIBCXX_3.4.21 (the armv7l Node binary itself also
# needs libatomic.so.1, see ../shared/notes/toolchain.md §3).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(TEDGE_TRIPLE arm-linux-gnueabihf)

set(CMAKE_C_COMPILER ${TEDGE_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${TEDGE_TRIPLE}-g++)
set(CMAKE_AR ${TEDGE_TRIPLE}-ar CACHE FILEPATH "")
set(CMAKE_STRIP ${TEDGE_TRIPLE}-strip CACHE FILEPATH "")
set(CMAKE_C_FLAGS_INIT "-march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard")
set(CMAKE_CXX_FLAGS_INIT "-march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard")

set(CMAKE_FIND_ROOT_PATH /usr/${TEDGE_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm-static -L /usr/${TEDGE_TRIPLE})
