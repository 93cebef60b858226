// switchyard-wasm: runs wasm32-wasi programs with WASIX contexts backed by
// switchyard (SPEC "WebAssembly host"; README "WebAssembly guests").
//
//   switchyard-wasm [--engine interp|aot] [--dir HOST[::GUEST]]... [--env NAME=VALUE]...
//                   [--stack-size SIZE] [--instances N] GUEST.wasm [ARGS...]
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "executor_host.hpp"
#include "guest.hpp"
#include "switchyard/switchyard.h"

namespace sw = switchyard_wasm;

namespace {

const char* const kUsage =
    "usage: switchyard-wasm [--engine interp|aot] [--dir HOST[::GUEST]]... [--env NAME=VALUE]...\n"
    "                       [--stack-size SIZE] [--instances N] GUEST.wasm [ARGS...]\n"
    "  --engine      interp (wabt's interpreter, the default) or aot (wasm2c + cc, cached)\n"
    "  --dir         preopen HOST as GUEST (default: the same path); nothing else is visible\n"
    "  --env         set an environment variable of the guest\n"
    "  --stack-size  native stack of each context, e.g. 256k or 1m (default 1m)\n"
    "  --instances   run N instances of the guest on one thread (an Executor), default 1\n"
    "exit status: the guest's; 129 entrypoint returned; 134 trap; 2 usage or module error\n";

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "switchyard-wasm: %s\n%s", message.c_str(), kUsage);
  std::exit(2);
}

bool parse_size(const char* text, size_t& out) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (end == text || errno != 0) return false;
  unsigned long long scale = 1;
  if (*end == 'k' || *end == 'K')
    scale = 1024, ++end;
  else if (*end == 'm' || *end == 'M')
    scale = 1024 * 1024, ++end;
  else if (*end == 'g' || *end == 'G')
    scale = 1024ull * 1024 * 1024, ++end;
  if (*end != '\0' || value == 0) return false;
  out = size_t(value * scale);
  return true;
}

struct RunArgs {
  sw::Guest* guest;
};

int run_one(void* argument) {
  return static_cast<RunArgs*>(argument)->guest->run();
}

}  // namespace

int main(int argc, char** argv) {
  sw::GuestOptions options;
  int instances = 1;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') break;
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    // Options take a value, as the next argument or after '='.
    std::string name = arg, value;
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else {
      if (i + 1 >= argc) usage_error("option " + arg + " needs a value");
      value = argv[++i];
    }
    if (name == "--engine") {
      if (value != "interp" && value != "aot") usage_error("unknown engine '" + value + "' (interp or aot)");
      options.engine = value;
    } else if (name == "--dir") {
      const size_t sep = value.find("::");
      sw::Preopen dir{value.substr(0, sep), sep == std::string::npos ? value : value.substr(sep + 2)};
      if (dir.host.empty() || dir.guest.empty()) usage_error("bad --dir '" + value + "'");
      options.dirs.push_back(dir);
    } else if (name == "--env") {
      if (value.find('=') == std::string::npos || value[0] == '=')
        usage_error("bad --env '" + value + "' (NAME=VALUE)");
      options.env.push_back(value);
    } else if (name == "--stack-size") {
      if (!parse_size(value.c_str(), options.stack_size) || options.stack_size < 16 * 1024) {
        usage_error("bad --stack-size '" + value + "' (a size of at least 16k, e.g. 256k or 1m)");
      }
    } else if (name == "--instances") {
      char* end = nullptr;
      const long n = std::strtol(value.c_str(), &end, 10);
      if (*end != '\0' || n < 1 || n > 10000) usage_error("bad --instances '" + value + "' (1 to 10000)");
      instances = int(n);
    } else {
      usage_error("unknown option " + arg);
    }
  }
  if (i >= argc) usage_error("no guest module given");
  options.module_path = argv[i];
  for (int k = i; k < argc; ++k) options.args.emplace_back(argv[k]);

  std::vector<std::unique_ptr<sw::Guest>> guests;
  for (int n = 0; n < instances; ++n) {
    auto guest = std::make_unique<sw::Guest>(options);
    std::string error;
    if (!guest->load(error)) usage_error(error);
    guests.push_back(std::move(guest));
  }
  std::fflush(nullptr);

  if (instances > 1) return sw::run_on_executor(guests, options.stack_size);

  sy_options sy;
  sy_options_init(&sy);
  if (options.stack_size != 0) sy.stack_size = options.stack_size;
  RunArgs args{guests[0].get()};
  int status = 0;
  const sy_status run = sy_run_main(run_one, &args, &sy, &status);
  if (run != SY_OK) {
    std::fprintf(stderr, "switchyard-wasm: %s: %s\n", sy_status_str(run), sy_last_error());
    return 134;
  }
  guests.clear();
  return status;
}
