# Finds what switchyard-wasm (src/wasm_host) and its guest tests need, all
# from Debian packages:
#   wabt                       libwabt.a, wabt/interp headers, wasm2c, wasm-rt-impl.c
#   clang-14 lld-14 wasi-libc  libclang-rt-14-dev-wasm32   (guest tests: C to wasm32-wasi)
#   binaryen                   wasm-opt --stack-check (optional: the overflow test)
# Sets SWITCHYARD_WASM_HOST_FOUND, and SWITCHYARD_WASM_GUEST_CC when guests can be built.
find_library(SWITCHYARD_WABT_LIBRARY NAMES libwabt.a wabt)
find_path(SWITCHYARD_WABT_INCLUDE_DIR wabt/interp/interp.h)
find_path(SWITCHYARD_WASM_RT_DIR wasm-rt-impl.c PATHS /usr/share/wabt/wasm2c /usr/src/wasm2c NO_DEFAULT_PATH)
if(SWITCHYARD_WABT_LIBRARY AND SWITCHYARD_WABT_INCLUDE_DIR)
  set(SWITCHYARD_WASM_HOST_FOUND TRUE)
  message(STATUS "switchyard: building switchyard-wasm (wabt: ${SWITCHYARD_WABT_LIBRARY})")
  if(NOT SWITCHYARD_WASM_RT_DIR)
    set(SWITCHYARD_WASM_RT_DIR /usr/share/wabt/wasm2c)
    message(STATUS "switchyard: wasm-rt-impl.c not found; --engine aot will say so at run time")
  endif()
else()
  set(SWITCHYARD_WASM_HOST_FOUND FALSE)
  message(STATUS "switchyard: wabt not found (Debian package wabt): switchyard-wasm is not built")
endif()

# A C compiler for wasm32-wasi guests, with wasi-libc as its sysroot.
find_program(SWITCHYARD_WASM_GUEST_CC NAMES clang-14 clang)
set(SWITCHYARD_WASI_SYSROOT /usr CACHE PATH "wasi-libc sysroot for wasm32-wasi guests")
find_program(SWITCHYARD_WASM_OPT wasm-opt)
find_program(SWITCHYARD_WAT2WASM wat2wasm)
if(SWITCHYARD_WASM_GUEST_CC AND SWITCHYARD_WAT2WASM AND EXISTS ${SWITCHYARD_WASI_SYSROOT}/lib/wasm32-wasi/libc.a)
  set(SWITCHYARD_WASM_GUESTS_FOUND TRUE)
else()
  set(SWITCHYARD_WASM_GUESTS_FOUND FALSE)
  message(STATUS "switchyard: no clang-14 with wasi-libc (packages clang-14 lld-14 wasi-libc "
                 "libclang-rt-14-dev-wasm32): the wasm guest tests are not built")
endif()
