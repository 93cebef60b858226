# Installs the headers, the static library, a CMake package
# (find_package(switchyard CONFIG REQUIRED)) and a pkg-config file.
include(CMakePackageConfigHelpers)

# switchyard_executor (switchyard::executor) is the Boost.Fiber executor.
install(TARGETS switchyard switchyard_executor EXPORT switchyardTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The WebAssembly host, when built (SWITCHYARD_BUILD_WASM_HOST and wabt found).
if(TARGET switchyard-wasm)
  install(TARGETS switchyard-wasm RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(EXPORT switchyardTargets NAMESPACE switchyard:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/switchyard)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/switchyardConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/switchyardConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/switchyard)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/switchyardConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/switchyardConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/switchyardConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/switchyard)

# pkg-config: a C program links with `pkg-config --cflags --libs --static
# switchyard` alone, so the private libs name the C++ runtime as well.
set(SWITCHYARD_PC_SANITIZE "")
if(SWITCHYARD_SANITIZE)
  list(JOIN SWITCHYARD_SANITIZE "," _pc_sanitizers)
  set(SWITCHYARD_PC_SANITIZE "-fsanitize=${_pc_sanitizers}")
endif()
# Relocatable: the prefix is found from the .pc file's own place, so the
# file is right for any `cmake --install --prefix`.
file(RELATIVE_PATH SWITCHYARD_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" SWITCHYARD_PC_TO_PREFIX "${SWITCHYARD_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/switchyard.pc.in ${CMAKE_CURRENT_BINARY_DIR}/switchyard.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/switchyard.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
