# Finds switchyard's dependencies, all from Debian packages:
#   libboost-context-dev libboost-fiber-dev libspdlog-dev doctest-dev libbenchmark-dev
# Kept in one place so the build and the installed package config agree.

find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS context)
find_package(spdlog REQUIRED)

if(SWITCHYARD_BUILD_TESTS)
  find_package(doctest REQUIRED)
endif()

if(SWITCHYARD_BUILD_BENCH)
  find_package(benchmark REQUIRED)
  find_package(Boost 1.74 REQUIRED COMPONENTS context fiber)
endif()
