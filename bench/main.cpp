// switchyard_bench: every benchmark of bench/ in one binary, so that the
// ratios to the peers come from one process and one run.
//
// Flags of our own (the rest go to Google Benchmark):
//   --sy_smoke                 scaling cases at 1k and 100k live with few
//                              iterations (CI: proves that everything runs)
//   --sy_instructions[=REGEX]  no timing: run the kernels whose name matches
//                              REGEX (all by default) for a fixed number of
//                              iterations between callgrind client requests;
//                              run it under valgrind --tool=callgrind
//                              (bench/run.sh --callgrind)
#include <spdlog/logger.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <regex>
#include <string>
#include <switchyard/logging.hpp>

#include "bench_support.hpp"

namespace {

constexpr std::size_t counted_iterations = 100'000;

// Removes argv[i] when it is `--name` or starts with `--name=`, storing the
// value; returns whether the flag was there.
bool take_flag(int& argc, char** argv, const char* name, std::string* value) {
  const std::size_t length = std::strlen(name);
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (std::strncmp(arg, name, length) != 0 || (arg[length] != '\0' && arg[length] != '=')) continue;
    if (value != nullptr && arg[length] == '=') *value = arg + length + 1;
    for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
    --argc;
    return true;
  }
  return false;
}

int count_instructions(const std::string& pattern) {
  const std::regex filter(pattern.empty() ? std::string(".") : pattern);
  int ran = 0;
  for (const bench::Kernel& kernel : bench::kernels()) {
    if (!std::regex_search(kernel.name, filter)) continue;
    bench::CountLoop loop{kernel.name.c_str(), counted_iterations};
    kernel.run(loop);
    std::printf("%s: %zu iterations counted\n", kernel.name.c_str(), counted_iterations);
    ++ran;
  }
  if (ran == 0) std::fprintf(stderr, "no kernel matches '%s'\n", pattern.c_str());
  return ran == 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Level off for every switchyard case: what "logging compiled in, level
  // off" means (whatever SWITCHYARD_LOG_LEVEL says).
  switchyard::logger()->set_level(spdlog::level::off);

  std::string pattern;
  const bool smoke = take_flag(argc, argv, "--sy_smoke", nullptr);
  bench::register_scaling_benchmarks(smoke);
  if (take_flag(argc, argv, "--sy_instructions", &pattern)) {
    try {
      return count_instructions(pattern);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "switchyard_bench: %s\n", e.what());
      return 1;
    }
  }

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
