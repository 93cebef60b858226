#include "model_driver.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <switchyard/switchyard.hpp>

namespace sy = switchyard;

namespace model {
namespace {

constexpr std::size_t max_contexts = 48;  // live at once; bounds memory
constexpr int max_depth = 6;              // nested frames per context

// Thrown by the `throw` operation; main must receive it from switch_to.
struct Failure {
  sy::ContextId id;
};
// Unwinds a context to its entry, which then returns normally.
struct ReturnNow {};

enum class St { created, running, suspended, destroying, gone };
// What a context must see when it next gets control back.
enum class Outcome { none, start, resumed, canceled, failure, returned };

struct Ctx {
  St st = St::created;
  int objects = 0;  // model: objects alive on its stack
  bool canceled = false;
  Outcome outcome = Outcome::none;
  sy::ContextId from = 0;  // for failure/returned: which context ended
};

class Driver {
 public:
  Driver(const std::uint8_t* data, std::size_t size, const char* label) : data_(data), size_(size), label_(label) {}

  void run() {
    sy::Options options;
    options.stack_size = 128 * 1024;
    options.stack_cache = 4;
    sy::run_main(
        [this] {
          env_ = &sy::Environment::current();
          ctx_.resize(1);
          actual_.assign(1, 0);
          ctx_[0].st = St::running;
          body(0, 0);
          if (std::getenv("SWITCHYARD_MODEL_VERBOSE") != nullptr) {
            const sy::Stats stats = env_->stats();
            std::fprintf(stderr, "%s: %llu creates, %llu switches, %llu destroys, %d unwinding actions, %d delivered\n",
                         label_, (unsigned long long)stats.creates, (unsigned long long)stats.switches,
                         (unsigned long long)stats.destroys, unwinding_actions_, delivered_);
          }
          tearing_down_ = true;
        },
        options);
    for (std::size_t id = 0; id < actual_.size(); ++id) {
      if (actual_[id] != 0) fail("after run_main: %d objects still alive on context %zu", actual_[id], id);
    }
    if (sy::mapped_stacks() != 0) fail("after run_main: %zu stacks still mapped", sy::mapped_stacks());
    if (delivered_ != expected_delivered_) {
      fail("main received %d failures, the model expected %d", delivered_, expected_delivered_);
    }
  }

 private:
  // Counts its life on the actual side, per context.
  struct Tracked {
    Driver& driver;
    sy::ContextId id;
    Tracked(Driver& d, sy::ContextId i) : driver(d), id(i) { ++driver.actual_[id]; }
    ~Tracked() { --driver.actual_[id]; }
    Tracked(const Tracked&) = delete;
    Tracked& operator=(const Tracked&) = delete;
  };

  [[noreturn]] void fail(const char* format, ...) {
    std::fprintf(stderr, "model mismatch (%s) at byte %zu of %zu: ", label_, cursor_, size_);
    va_list args;
    va_start(args, format);
    std::vfprintf(stderr, format, args);
    va_end(args);
    std::fputc('\n', stderr);
    std::abort();
  }

  bool more() const { return cursor_ < size_; }
  std::uint8_t next() { return more() ? data_[cursor_++] : 0; }
  bool live(sy::ContextId id) const { return id < ctx_.size() && ctx_[id].st != St::gone; }

  // Any ID ever handed out, main, or one never created.
  sy::ContextId pick() { return next() % (ctx_.size() + 1); }

  void check(sy::ContextId self) {
    if (env_->active() != self)
      fail("active() is %llu, expected %llu", (unsigned long long)env_->active(), (unsigned long long)self);
    std::size_t live_count = 0;
    for (sy::ContextId id = 0; id < ctx_.size(); ++id) {
      const bool alive = live(id);
      if (id != 0 && alive) ++live_count;
      if (env_->state(id).has_value() != alive) {
        fail("context %llu is %s in the runtime, the model says %s", (unsigned long long)id,
             alive ? "unknown" : "alive", alive ? "alive" : "gone");
      }
      // A context being unwound has objects in flight; all others are exact.
      const int expected = alive ? ctx_[id].objects : 0;
      if (!ctx_[id].canceled && actual_[id] != expected) {
        fail("context %llu has %d objects on its stack, expected %d", (unsigned long long)id, actual_[id], expected);
      }
    }
    if (env_->live_contexts() != live_count)
      fail("live_contexts() is %zu, expected %zu", env_->live_contexts(), live_count);
  }

  // Called when `self` gets control back: the model said what it must see.
  void expect_outcome(sy::ContextId self, Outcome seen, sy::ContextId from = 0) {
    if (tearing_down_) return;
    Ctx& c = ctx_[self];
    if (c.outcome != seen || ((seen == Outcome::failure || seen == Outcome::returned) && c.from != from)) {
      fail("context %llu resumed with outcome %d (from %llu), expected %d (from %llu)", (unsigned long long)self,
           (int)seen, (unsigned long long)from, (int)c.outcome, (unsigned long long)c.from);
    }
    c.outcome = Outcome::none;
    c.st = St::running;
    active_ = self;
  }

  // A context's entry, on its own stack.
  void entry(sy::ContextId self) {
    expect_outcome(self, Outcome::start);
    check(self);
    try {
      body(self, 0);
      // The stream is over: hand control back to main for good; teardown
      // cancels this switch_to.
      for (;;) do_switch(self, 0);
    } catch (ReturnNow&) {
      ctx_[self].st = St::gone;
      ctx_[self].objects = 0;
      Ctx& main = ctx_[0];
      main.outcome = Outcome::returned;
      main.from = self;
      ++expected_delivered_;
    }
  }

  void body(sy::ContextId self, int depth) {
    while (more()) {
      const std::uint8_t op = next() % 13;
      switch (op) {
        case 0:
        case 1:
          do_create();
          break;
        case 2:
        case 3:
        case 4:
          do_switch(self, pick());
          break;
        case 5:
        case 6:
          do_destroy(self, pick());
          break;
        case 7:
          if (self != 0 && next() % 4 == 0) do_throw(self);
          break;
        case 8:
          if (self != 0 && next() % 4 == 0) do_return(self);
          break;
        case 9:
          if (depth < max_depth) frame(self, depth, false);
          break;
        case 10:
          if (depth < max_depth) frame(self, depth, true);
          break;
        case 11:
          if (depth > 0) return;  // pop a frame
          break;
        case 12:
          do_refused_create();
          break;
      }
      check(self);
    }
  }

  // A nested frame with an object on it; `guarded` catches the cancellation
  // and acts while unwinding before it rethrows.
  void frame(sy::ContextId self, int depth, bool guarded) {
    Tracked object(*this, self);
    ++ctx_[self].objects;
    check(self);
    if (!guarded || self == 0) {
      body(self, depth + 1);
    } else {
      try {
        body(self, depth + 1);
      } catch (sy::ContextCanceled&) {
        unwinding(self);
        throw;
      }
    }
    --ctx_[self].objects;
  }

  // Cancellation while unwinding: a switch must raise ContextCanceled again
  // (defused, the first one still propagates); destroying another context
  // works as from anywhere else.
  void unwinding(sy::ContextId self) {
    ++unwinding_actions_;
    if (!tearing_down_ && !ctx_[self].canceled)
      fail("context %llu caught ContextCanceled without being destroyed", (unsigned long long)self);
    try {
      env_->switch_to(pick());
      fail("switch_to from canceled context %llu returned", (unsigned long long)self);
    } catch (sy::ContextCanceled& again) {
      again.defuse();
    } catch (sy::Error& e) {
      fail("switch_to from canceled context %llu threw Error: %s", (unsigned long long)self, e.what());
    }
    if (!tearing_down_ && more() && next() % 2 == 0) do_destroy(self, pick());
  }

  void do_create() {
    std::size_t live_count = 0;
    for (const Ctx& c : ctx_) live_count += c.st != St::gone;
    if (live_count > max_contexts) return;
    const sy::ContextId expected = ctx_.size();
    ctx_.emplace_back();
    ctx_.back().outcome = Outcome::start;
    actual_.push_back(0);
    const sy::ContextId id = env_->create([this, expected] { entry(expected); });
    if (id != expected)
      fail("create returned %llu, expected %llu", (unsigned long long)id, (unsigned long long)expected);
  }

  // Creates that must be refused and change nothing, not even the next ID:
  // a null entry (invalid_argument). Unmappable sizes are an environment
  // option, checked by tests/stack_test.cpp.
  void do_refused_create() {
    void (*null_entry)() = nullptr;
    try {
      env_->create(null_entry);
      fail("create with a null entry succeeded");
    } catch (sy::Error& e) {
      if (e.code() != sy::errc::invalid_argument) fail("create with a null entry: %s", e.what());
    }
  }

  void do_switch(sy::ContextId self, sy::ContextId target) {
    if (target == self) {
      env_->switch_to(target);  // no-op
      return;
    }
    if (!live(target) || (ctx_[target].st != St::created && ctx_[target].st != St::suspended)) {
      try {
        env_->switch_to(target);
      } catch (sy::Error& e) {
        if (e.code() != sy::errc::switch_target_missing)
          fail("switch_to %llu: %s", (unsigned long long)target, e.what());
        return;
      }
      fail("switch_to %llu (not suspended) succeeded", (unsigned long long)target);
    }
    Ctx& t = ctx_[target];
    if (t.st == St::suspended) t.outcome = Outcome::resumed;
    t.st = St::running;
    ctx_[self].st = St::suspended;
    active_ = target;
    try {
      env_->switch_to(target);
    } catch (sy::ContextCanceled&) {
      expect_outcome(self, Outcome::canceled);
      throw;
    } catch (Failure& f) {
      if (self != 0) fail("context %llu received a failure", (unsigned long long)self);
      ++delivered_;
      expect_outcome(self, Outcome::failure, f.id);
      return;
    } catch (sy::EntrypointReturned& r) {
      if (self != 0) fail("context %llu received EntrypointReturned", (unsigned long long)self);
      ++delivered_;
      expect_outcome(self, Outcome::returned, r.id());
      return;
    }
    expect_outcome(self, Outcome::resumed);
  }

  void do_destroy(sy::ContextId self, sy::ContextId target) {
    const bool invalid = target == 0 || target == self || (live(target) && ctx_[target].st == St::destroying);
    if (invalid) {
      try {
        env_->destroy(target);
      } catch (sy::Error& e) {
        if (e.code() != sy::errc::invalid_argument) fail("destroy %llu: %s", (unsigned long long)target, e.what());
        return;
      }
      fail("destroy %llu succeeded, expected invalid_argument", (unsigned long long)target);
    }
    if (!live(target)) {
      if (env_->destroy(target)) fail("destroy %llu of a gone context returned true", (unsigned long long)target);
      return;
    }
    Ctx& t = ctx_[target];
    const bool started = t.st == St::suspended;
    if (started) {
      t.outcome = Outcome::canceled;
      t.canceled = true;
      t.st = St::running;
      ctx_[self].st = St::destroying;
      active_ = target;
    }
    if (!env_->destroy(target)) fail("destroy %llu of a live context returned false", (unsigned long long)target);
    t.st = St::gone;
    t.objects = 0;
    t.canceled = false;
    if (actual_[target] != 0)
      fail("destroy %llu left %d objects on its stack", (unsigned long long)target, actual_[target]);
    ctx_[self].st = St::running;
    active_ = self;
  }

  [[noreturn]] void do_throw(sy::ContextId self) {
    ctx_[self].st = St::gone;
    ctx_[self].objects = 0;
    ctx_[0].outcome = Outcome::failure;
    ctx_[0].from = self;
    ++expected_delivered_;
    throw Failure{self};
  }

  [[noreturn]] void do_return(sy::ContextId) { throw ReturnNow{}; }

  const std::uint8_t* data_;
  std::size_t size_;
  const char* label_;
  std::size_t cursor_ = 0;
  sy::Environment* env_ = nullptr;
  std::vector<Ctx> ctx_;     // model, by ID
  std::vector<int> actual_;  // objects really alive, by ID
  sy::ContextId active_ = 0;
  int delivered_ = 0;
  int unwinding_actions_ = 0;
  int expected_delivered_ = 0;
  bool tearing_down_ = false;
};

}  // namespace

void run(const std::uint8_t* data, std::size_t size, const char* label) {
  Driver driver(data, size, label);
  driver.run();
}

std::vector<std::uint8_t> bytes_for_seed(std::uint64_t seed, std::size_t size) {
  std::vector<std::uint8_t> bytes(size);
  std::uint64_t state = seed;
  for (std::uint8_t& byte : bytes) {
    state += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    byte = static_cast<std::uint8_t>(z ^ (z >> 31));
  }
  return bytes;
}

}  // namespace model
