// wasix_expect: runs a test program and checks how it ended.
//
//   wasix_expect [--exit CODE | --signal SIG] [--stdout TEXT]... [--stderr TEXT]...
//                [--absent TEXT]... -- PROGRAM [ARGS...]
//
// stdout and stderr go to files, not a terminal, so stdout is fully buffered
// in the program: text it printed shows up only if something flushed it
// (exit(), or our 129 path). Passes (exit 0) when the program exited with
// CODE (default 0) or died of SIG, every --stdout / --stderr TEXT occurs in
// that stream and no --absent TEXT occurs in either. Otherwise prints what
// differed and both streams, and exits 1.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::string read_all(std::FILE* file) {
  std::string text;
  std::rewind(file);
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
  return text;
}

[[noreturn]] void usage() {
  std::fputs("usage: wasix_expect [--exit CODE | --signal SIG] [--stdout TEXT]... [--stderr TEXT]... "
             "[--absent TEXT]... -- PROGRAM [ARGS...]\n",
             stderr);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int expected_exit = 0;
  int expected_signal = 0;
  std::vector<std::string> in_stdout, in_stderr, absent;
  int i = 1;
  for (; i < argc; ++i) {
    std::string option = argv[i];
    if (option == "--") break;
    if (i + 1 >= argc) usage();
    const char* value = argv[++i];
    if (option == "--exit") {
      expected_exit = std::atoi(value);
    } else if (option == "--signal") {
      expected_signal = std::atoi(value);
    } else if (option == "--stdout") {
      in_stdout.emplace_back(value);
    } else if (option == "--stderr") {
      in_stderr.emplace_back(value);
    } else if (option == "--absent") {
      absent.emplace_back(value);
    } else {
      usage();
    }
  }
  if (i + 1 >= argc) usage();
  char** program = argv + i + 1;

  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  if (out == nullptr || err == nullptr) {
    std::perror("wasix_expect: tmpfile");
    return 2;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("wasix_expect: fork");
    return 2;
  }
  if (pid == 0) {
    ::dup2(::fileno(out), 1);
    ::dup2(::fileno(err), 2);
    ::execv(program[0], program);
    std::perror("wasix_expect: execv");
    std::_Exit(127);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) {
    std::perror("wasix_expect: waitpid");
    return 2;
  }
  const std::string out_text = read_all(out);
  const std::string err_text = read_all(err);

  std::vector<std::string> problems;
  if (expected_signal != 0) {
    if (!WIFSIGNALED(status) || WTERMSIG(status) != expected_signal) {
      problems.push_back("expected death by signal " + std::to_string(expected_signal));
    }
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != expected_exit) {
    problems.push_back("expected exit code " + std::to_string(expected_exit));
  }
  for (const std::string& text : in_stdout) {
    if (out_text.find(text) == std::string::npos) problems.push_back("stdout lacks \"" + text + "\"");
  }
  for (const std::string& text : in_stderr) {
    if (err_text.find(text) == std::string::npos) problems.push_back("stderr lacks \"" + text + "\"");
  }
  for (const std::string& text : absent) {
    if (out_text.find(text) != std::string::npos || err_text.find(text) != std::string::npos) {
      problems.push_back("output contains \"" + text + "\"");
    }
  }
  if (WIFEXITED(status)) {
    std::printf("%s exited with code %d\n", program[0], WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    std::printf("%s died of signal %d\n", program[0], WTERMSIG(status));
  }
  if (problems.empty()) return 0;
  for (const std::string& problem : problems) std::printf("FAILED: %s\n", problem.c_str());
  std::printf("---- stdout ----\n%s\n---- stderr ----\n%s\n", out_text.c_str(), err_text.c_str());
  return 1;
}
