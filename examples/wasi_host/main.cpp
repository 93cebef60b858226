// switchyard-host: a WASI-like host. It loads guest programs built as shared
// objects against <wasix/context.h>, runs each on a host thread of its own
// with its own switchyard environment, and reports how each ended.
//
//   switchyard-host [--parallel N | --executor] [--stack-size BYTES[K|M]] [--log-level LEVEL]
//                   GUEST.so[,ARG...]...
//
// --executor runs every guest on the main thread, each as a fiber of one
// switchyard::Executor: a guest blocked in a host call (switchyard_host_sleep_ms)
// parks and the others run meanwhile.
//
// Exit status: 0 when every guest exited 0; otherwise the exit code of the
// first guest (in command-line order) that did not, a failed guest counting
// as 1. Usage errors exit 2.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <semaphore>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>
#include <boost/fiber/protected_fixedsize_stack.hpp>
#include <spdlog/spdlog.h>
#include <switchyard/executor.hpp>
#include <switchyard/switchyard.hpp>

#include "guest.hpp"

namespace sy = switchyard;

namespace {

constexpr const char* usage_text =
    "usage: switchyard-host [options] GUEST.so[,ARG...]...\n"
    "Runs each guest's guest_main(argc, argv) on a host thread of its own with its own\n"
    "switchyard environment, and reports each guest's exit code.\n"
    "  --parallel N          run up to N guests at once (default 1)\n"
    "  --executor            run all guests on one thread as fibers of a switchyard::Executor\n"
    "  --stack-size BYTES    usable stack per guest context; K and M suffixes (default 1M)\n"
    "  --log-level LEVEL     switchyard log level: trace, debug, info, warn, err, critical, off\n"
    "                        (default warn, or $SWITCHYARD_LOG_LEVEL)\n"
    "A guest listed more than once gets a private copy per instance.\n"
    "A returned WASIX entrypoint ends that guest with exit code 129.\n";

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "switchyard-host: %s\n%s", message.c_str(), usage_text);
  std::exit(2);
}

std::size_t parse_size(const std::string& text) {
  std::size_t used = 0;
  unsigned long long value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    usage_error("--stack-size: not a size: " + text);
  }
  const std::string suffix = text.substr(used);
  unsigned shift = 0;
  if (suffix == "K" || suffix == "k") {
    shift = 10;
  } else if (suffix == "M" || suffix == "m") {
    shift = 20;
  } else if (!suffix.empty()) {
    usage_error("--stack-size: unknown suffix in " + text);
  }
  if (text[0] == '-' || value > (sy::max_stack_size >> shift)) {
    usage_error("--stack-size: " + text + " is out of range (at most " + std::to_string(sy::max_stack_size >> 20) + "M)");
  }
  value <<= shift;
  if (value == 0) usage_error("--stack-size must be positive");
  return static_cast<std::size_t>(value);
}

spdlog::level::level_enum parse_level(const std::string& text) {
  const spdlog::level::level_enum level = spdlog::level::from_str(text);
  if (level == spdlog::level::off && text != "off") usage_error("--log-level: unknown level " + text);
  return level;
}

host::GuestSpec parse_guest(const std::string& text) {
  host::GuestSpec spec;
  std::stringstream parts(text);
  std::string part;
  std::getline(parts, spec.path, ',');
  while (std::getline(parts, part, ',')) spec.args.push_back(part);
  if (spec.path.empty()) usage_error("empty guest path in " + text);
  return spec;
}

struct Command {
  unsigned parallel = 1;
  bool executor = false;
  sy::Options options;
  std::vector<host::GuestSpec> guests;
};

Command parse_command_line(int argc, char** argv) {
  Command command;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    auto takes_value = [&](const char* name) {
      const std::string option = name;
      if (arg == option) {
        if (i + 1 >= argc) usage_error(option + " needs a value");
        value = argv[++i];
        return true;
      }
      if (arg.rfind(option + "=", 0) == 0) {
        value = arg.substr(option.size() + 1);
        return true;
      }
      return false;
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage_text, stdout);
      std::exit(0);
    } else if (takes_value("--parallel")) {
      const int n = std::atoi(value.c_str());
      if (n < 1) usage_error("--parallel must be at least 1");
      command.parallel = static_cast<unsigned>(n);
    } else if (arg == "--executor") {
      command.executor = true;
    } else if (takes_value("--stack-size")) {
      command.options.stack_size = parse_size(value);
    } else if (takes_value("--log-level")) {
      sy::logger()->set_level(parse_level(value));
    } else if (arg.rfind("--", 0) == 0) {
      usage_error("unknown option " + arg);
    } else {
      command.guests.push_back(parse_guest(arg));
    }
  }
  if (command.guests.empty()) usage_error("no guest given");
  // Every instance after the first of a file gets its own copy of it.
  std::set<std::string> seen;
  for (host::GuestSpec& spec : command.guests) {
    std::error_code ignored;
    const std::string key = std::filesystem::weakly_canonical(spec.path, ignored).string();
    spec.private_copy = !seen.insert(key.empty() ? spec.path : key).second;
  }
  return command;
}

std::string display_name(const host::GuestSpec& spec) { return std::filesystem::path(spec.path).filename().string(); }

std::string describe(const host::GuestResult& result) {
  if (result.failed) return "failed: " + result.message;
  std::string text = "exit " + std::to_string(result.exit_code);
  if (!result.message.empty()) text += " (" + result.message + ")";
  return text;
}

}  // namespace

// A host call for guests: sleeps with Boost.Fiber, so under --executor only
// the calling guest parks (the others run); on a thread of its own it simply
// sleeps that thread.
extern "C" void switchyard_host_sleep_ms(unsigned milliseconds) {
  boost::this_fiber::sleep_for(std::chrono::milliseconds(milliseconds));
}

int main(int argc, char** argv) {
  const Command command = parse_command_line(argc, argv);
  const std::size_t count = command.guests.size();
  std::vector<host::GuestResult> results(count);
  std::mutex report_mutex;
  std::counting_semaphore<> slots(static_cast<std::ptrdiff_t>(command.parallel));
  auto report = [&](std::size_t i) {
    std::lock_guard<std::mutex> lock(report_mutex);
    std::fflush(stdout);  // the guest's own output first
    std::printf("[switchyard-host] guest %zu (%s): %s\n", i + 1, display_name(command.guests[i]).c_str(),
                describe(results[i]).c_str());
    std::fflush(stdout);
  };
  if (command.executor) {
    // Each guest on a fiber of this thread; run_guest's run_main makes its
    // environment there, and the executor's algorithm keeps it current.
    sy::Executor executor;
    std::vector<boost::fibers::fiber> fibers;
    for (std::size_t i = 0; i < count; ++i) {
      fibers.emplace_back(std::allocator_arg, boost::fibers::protected_fixedsize_stack(command.options.stack_size),
                          [&, i] {
                            results[i] = host::run_guest(command.guests[i], command.options);
                            report(i);
                          });
    }
    for (boost::fibers::fiber& fiber : fibers) fiber.join();  // runs them all
  }
  std::vector<std::thread> threads;
  threads.reserve(count);
  for (std::size_t i = 0; i < (command.executor ? 0 : count); ++i) {
    slots.acquire();
    threads.emplace_back([&, i] {
      const host::GuestSpec& spec = command.guests[i];
      sy::logger()->info("host: guest {} ({}) starts on a thread of its own", i + 1, spec.path);
      results[i] = host::run_guest(spec, command.options);
      report(i);
      slots.release();
    });
  }
  for (std::thread& thread : threads) thread.join();

  int status = 0;
  std::string summary;
  for (std::size_t i = 0; i < count; ++i) {
    const host::GuestResult& result = results[i];
    summary += " " + display_name(command.guests[i]) + "=" +
               (result.failed ? std::string("failed") : std::to_string(result.exit_code));
    if (status == 0 && (result.failed || result.exit_code != 0)) {
      // An exit status keeps 8 bits; never let a nonzero code become 0.
      status = result.failed || (result.exit_code & 0xff) == 0 ? 1 : result.exit_code & 0xff;
    }
  }
  std::printf("[switchyard-host] summary:%s\n", summary.c_str());
  return status;
}
