# SWITCHYARD_SANITIZE: a list of sanitizers applied to everything built here,
# e.g. "address;undefined" or "thread".
set(SWITCHYARD_SANITIZE "" CACHE STRING "Sanitizers to build with: address;undefined or thread")

if(SWITCHYARD_SANITIZE)
  list(JOIN SWITCHYARD_SANITIZE "," _switchyard_sanitizers)
  message(STATUS "switchyard: building with -fsanitize=${_switchyard_sanitizers}")
  add_compile_options(-fsanitize=${_switchyard_sanitizers} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_switchyard_sanitizers})
endif()
