// The local executor: environments as fibers on one thread, blocking host
// calls that park a whole environment, submission from other threads, and a
// shutdown that releases environments still suspended.
#include <boost/fiber/all.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include <switchyard/executor.hpp>
#include <wasix/context.h>

#include "support.hpp"

using namespace std::chrono_literals;
using test::Tracked;

namespace {

sy::Options small_stacks() {
  sy::Options options;
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  options.stack_size = 512 << 10;  // sanitizer frames are several times larger
#else
  options.stack_size = 64 << 10;
#endif
  return options;
}

/// Checks, after a host call that parked the environment, that the thread
/// state came back: the same environment, the same context.
void check_resumed(sy::Environment* env, sy::ContextId context) {
  REQUIRE(sy::Environment::try_current() == env);
  CHECK(env->active() == context);
}

}  // namespace

TEST_SUITE("executor.basics") {
  // 1,000 environments on one thread; each ping-pongs with two contexts and
  // sleeps (a host call) in every context between switches. Interleaving is
  // real: all of them are alive at once while the others sleep.
  TEST_CASE("a thousand environments with sleeps and context switches") {
    constexpr int environments = 1000;
    constexpr int rounds = 3;
    Tracked::reset();
    std::atomic<int> alive_at_once{0};
    int peak = 0;
    {
      sy::Executor ex;
      std::vector<sy::EnvironmentHandle<long>> handles;
      for (int i = 0; i < environments; ++i) {
        handles.push_back(ex.spawn(
            [i, &alive_at_once, &peak]() -> long {
              sy::Environment& env = sy::Environment::current();
              peak = std::max(peak, ++alive_at_once);
              long sum = 0;
              sy::ContextId a = 0, b = 0;
              a = env.create([&] {
                Tracked on_stack(i);
                for (;;) {
                  boost::this_fiber::sleep_for(std::chrono::microseconds(100 * (i % 7)));
                  check_resumed(&env, a);
                  sum += i;
                  env.switch_to(b);
                }
              });
              b = env.create([&] {
                Tracked on_stack(-i);
                for (;;) {
                  boost::this_fiber::yield();
                  check_resumed(&env, b);
                  sum += 1;
                  env.switch_to(sy::main_context_id);
                }
              });
              for (int r = 0; r < rounds; ++r) {
                env.switch_to(a);
                check_resumed(&env, sy::main_context_id);
                boost::this_fiber::sleep_for(1ms);
                check_resumed(&env, sy::main_context_id);
              }
              CHECK(env.live_contexts() == 2);
              --alive_at_once;
              return sum;  // the contexts are destroyed at teardown
            },
            small_stacks()));
      }
      CHECK(ex.pending() == environments);
      ex.run();
      CHECK(ex.pending() == 0);
      for (int i = 0; i < environments; ++i) {
        REQUIRE(handles[i].ready());
        CHECK(handles[i].get() == static_cast<long>(rounds) * (i + 1));
      }
    }
    CHECK(peak == environments);
    CHECK(Tracked::alive == 0);
    CHECK(Tracked::destroyed == 2 * environments);
    CHECK(sy::mapped_stacks() == 0);
    CHECK(sy::Environment::try_current() == nullptr);
  }

  TEST_CASE("each environment has its own IDs, errors and exception state") {
    sy::Executor ex;
    auto failing = ex.spawn([] {
      sy::Environment& env = sy::Environment::current();
      sy::ContextId id = env.create([] {
        boost::this_fiber::sleep_for(2ms);
        throw std::runtime_error("context failed");
      });
      CHECK(id == 1);
      env.switch_to(id);  // rethrows the failure here, in main
    });
    auto catching = ex.spawn([] {
      sy::Environment& env = sy::Environment::current();
      CHECK(env.create([] { throw 1; }) == 1);  // IDs are per environment
      try {
        throw std::logic_error("held");
      } catch (const std::logic_error&) {
        // Park inside the handler while the other environment throws.
        boost::this_fiber::sleep_for(5ms);
        CHECK(std::uncaught_exceptions() == 0);
        try {
          throw;
        } catch (const std::logic_error& again) {
          CHECK(std::string(again.what()) == "held");
        }
      }
      CHECK(std::current_exception() == nullptr);
      return env.live_contexts();
    });
    ex.run();
    CHECK_THROWS_WITH_AS(failing.get(), "context failed", std::runtime_error);
    CHECK(catching.get() == 1);
    CHECK(sy::mapped_stacks() == 0);
  }

  TEST_CASE("run inside run_main restores the outer environment") {
    sy::run_main([] {
      sy::Environment* outer = &sy::Environment::current();
      sy::Executor ex;
      sy::Environment* inner = nullptr;
      auto h = ex.spawn([&] {
        inner = &sy::Environment::current();
        boost::this_fiber::sleep_for(1ms);
        return inner == &sy::Environment::current();
      });
      ex.run();
      CHECK(h.get());
      CHECK(inner != outer);
      CHECK(&sy::Environment::current() == outer);
      CHECK(outer->active() == sy::main_context_id);
    });
  }

  // The implicit WASIX environment belongs to the fiber that made it, as the
  // executor sees it; at thread exit it is released from whatever fiber runs
  // then. Teardown used to throw wrong_thread there and retry it forever.
  TEST_CASE("a WASIX call from a plain fiber makes an implicit environment that thread exit releases") {
    auto body = [] {
      ::alarm(30);  // the old teardown spun at 100% CPU: die of SIGALRM instead of hanging the suite
      int code = 0;
      std::thread([&code] {
        sy::Executor ex;
        auto environment = ex.spawn([] { return sy::Environment::current().live_contexts(); });
        wasix_context_id_t in_a = 0;
        int b_result = 0, b_errno = 0;
        sy::Environment* a_env = nullptr;
        sy::Environment* seen_by_b = reinterpret_cast<sy::Environment*>(1);
        boost::fibers::fiber a([&] {
          static auto parks = [] {
            for (;;) wasix_context_switch(wasix_context_main);
          };
          if (wasix_context_create(&in_a, +parks) != 0 || wasix_context_switch(in_a) != 0) code = 1;
          a_env = sy::Environment::try_current();
          boost::this_fiber::yield();  // b runs meanwhile, outside any environment
          if (sy::Environment::try_current() != a_env) code = 2;
        });
        boost::fibers::fiber b([&] {
          seen_by_b = sy::Environment::try_current();
          wasix_context_id_t id = 0;
          errno = 0;
          b_result = wasix_context_create(&id, [] {});
          b_errno = errno;
        });
        a.join();
        b.join();
        ex.run();
        if (environment.get() != 0) code = 3;
        if (a_env == nullptr || seen_by_b != nullptr) code = 4;
        if (b_result != -1 || b_errno != EBUSY) code = 5;
        if (sy::mapped_stacks() != 1) code = 6;  // the parked context of the implicit environment
      }).join();  // thread exit releases the implicit environment
      if (code == 0 && sy::mapped_stacks() != 0) code = 7;
      ::alarm(0);
      return code;
    };
    if (test::under_tsan) {  // no threads in a forked child there
      CHECK(body() == 0);
      return;
    }
    test::ChildResult child = test::run_in_child([&] { std::_Exit(body()); });
    CHECK(child.signal == 0);
    CHECK(child.exited);
    CHECK(child.exit_code == 0);
    if (!child.stderr_text.empty()) MESSAGE(child.stderr_text);
  }

  TEST_CASE("an environment waiting for itself, or running its own executor, is invalid_argument") {
    // Both used to park the environment forever, silently; in a child with a
    // timer so that a regression fails instead of hanging the suite.
    auto body = [] {
      ::alarm(30);
      sy::Executor ex;
      sy::EnvironmentHandle<int> self;
      int code = 0;
      self = ex.spawn([&] {
        sy::Environment& env = sy::Environment::current();
        auto expect_invalid = [&](auto&& call, int failure) {
          try {
            call();
            code = failure;
          } catch (const sy::Error& e) {
            if (e.code() != sy::errc::invalid_argument) code = failure + 1;
          }
        };
        expect_invalid([&] { self.wait(); }, 10);
        sy::ContextId id = env.create([&] {
          expect_invalid([&] { self.wait(); }, 20);  // from a context of the environment too
          for (;;) env.switch_to(sy::main_context_id);
        });
        env.switch_to(id);
        expect_invalid([&] { ex.run(); }, 30);
        expect_invalid([&] { ex.run_until_idle(); }, 40);
        expect_invalid([&] { ex.shutdown(); }, 50);
        return 7;
      });
      ex.run();
      if (code == 0 && self.get() != 7) code = 60;
      ::alarm(0);
      return code;
    };
    if (test::under_tsan) {
      CHECK(body() == 0);
      return;
    }
    test::ChildResult child = test::run_in_child([&] { std::_Exit(body()); });
    CHECK(child.signal == 0);
    CHECK(child.exit_code == 0);
  }

  TEST_CASE("~Executor inside one of its environments aborts with a message, also when the owner only yields") {
    if (test::under_tsan) return;  // a death test needs a forked child
    test::ChildResult child = test::run_in_child([] {
      ::alarm(30);  // it used to spin at 100% CPU here
      auto* ex = new sy::Executor;
      ex->spawn([ex] { delete ex; });
      for (;;) boost::this_fiber::yield();  // the owner drives the fibers without run()
    });
    CHECK(child.signal == SIGABRT);
    CHECK(child.stderr_text.find("Executor destroyed inside one of its own environments") != std::string::npos);
  }

  TEST_CASE("misuse is an error") {
    sy::Executor ex;
    CHECK_THROWS_AS(sy::Executor(), sy::Error);  // one per thread
    auto h = ex.spawn([] { return 5; });
    // Waiting on the owner thread outside the executor would never return.
    CHECK_THROWS_AS(h.wait(), sy::Error);
    ex.run();
    CHECK(h.get() == 5);
    CHECK_THROWS_AS(h.get(), sy::Error);  // moved out
    std::thread other([&] {
      try {
        ex.spawn([] {});
        FAIL("spawn from another thread must throw");
      } catch (const sy::Error& e) {
        CHECK(e.code() == sy::errc::wrong_thread);
      }
      CHECK_THROWS_AS(ex.run(), sy::Error);
    });
    other.join();
    ex.close();
    CHECK_THROWS_AS(ex.spawn([] {}), sy::Error);
  }

  TEST_CASE("spawn with an unmappable stack size is resource_exhausted, and the executor goes on") {
    sy::Executor ex;
    for (std::size_t size : {SIZE_MAX, SIZE_MAX - 4095, sy::max_stack_size + 1}) {
      CAPTURE(size);
      sy::Options options;
      options.stack_size = size;
      try {
        ex.spawn([] { return 1; }, options);
        FAIL("spawn accepted an unmappable stack size");
      } catch (const sy::Error& e) {
        CHECK(e.code() == sy::errc::resource_exhausted);
      }
    }
    auto h = ex.spawn([] { return 3; });
    ex.run();
    CHECK(h.get() == 3);
  }

  TEST_CASE("error texts state the facts of the call") {
    sy::Executor ex;
    try {
      sy::Executor second;
      FAIL("a second executor on the thread must throw");
    } catch (const sy::Error& e) {
      CHECK(e.code() == sy::errc::already_running);
      const std::string text = e.what();
      CHECK(text.find("already has an executor (one per thread)") != std::string::npos);
      CHECK(text.find("environment") == std::string::npos);  // was ": an environment is already running ..."
    }
    ex.close();
    for (int submit = 0; submit < 2; ++submit) {
      try {
        if (submit != 0) {
          ex.submit([] {});
        } else {
          ex.spawn([] {});
        }
        FAIL("a closed executor must refuse");
      } catch (const sy::Error& e) {
        CHECK(e.code() == sy::errc::unsupported);
        const std::string text = e.what();
        CHECK(text.find("the executor is closed (close() or shutdown() was called)") != std::string::npos);
        CHECK(text.find("disabled") == std::string::npos);  // was ": unsupported (contexts are disabled)"
      }
    }
  }
}

TEST_SUITE("executor.blocking") {
  TEST_CASE("channel, future and mutex between environments, from contexts") {
    sy::Executor ex;
    boost::fibers::buffered_channel<int> channel(2);
    boost::fibers::promise<int> promise;
    boost::fibers::future<int> future = promise.get_future();
    boost::fibers::mutex mutex;
    int guarded = 0;
    auto producer = ex.spawn([&] {
      sy::Environment& env = sy::Environment::current();
      sy::ContextId id = 0;
      id = env.create([&] {
        for (int i = 1; i <= 10; ++i) {
          channel.push(i);  // blocks when full: the environment parks in context `id`
          check_resumed(&env, id);
        }
        channel.close();
        std::unique_lock<boost::fibers::mutex> lock(mutex);
        boost::this_fiber::sleep_for(1ms);  // hold it while parked
        guarded += 1;
        lock.unlock();
        env.switch_to(sy::main_context_id);
      });
      env.switch_to(id);
      promise.set_value(42);
      return env.stats().switches;
    });
    auto consumer = ex.spawn([&] {
      sy::Environment& env = sy::Environment::current();
      int sum = 0;
      sy::ContextId id = 0;
      id = env.create([&] {
        int value;
        while (channel.pop(value) == boost::fibers::channel_op_status::success) {
          check_resumed(&env, id);
          sum += value;
        }
        sum += future.get();  // parks until the producer's main sets it
        check_resumed(&env, id);
        std::lock_guard<boost::fibers::mutex> lock(mutex);
        guarded += 10;
        env.switch_to(sy::main_context_id);
      });
      env.switch_to(id);
      return sum;
    });
    auto waiter = ex.spawn([&] {
      // Waiting for another environment's handle parks this one.
      sy::Environment* env = &sy::Environment::current();
      int sum = consumer.get();
      check_resumed(env, sy::main_context_id);
      return sum;
    });
    ex.run();
    CHECK(producer.get() == 2);
    CHECK(waiter.get() == 55 + 42);
    CHECK(guarded == 11);
    CHECK(sy::mapped_stacks() == 0);
  }

  TEST_CASE("run_until_idle returns while environments sleep") {
    sy::Executor ex;
    std::atomic<int> stage{0};
    auto h = ex.spawn([&] {
      stage = 1;
      boost::this_fiber::sleep_for(20ms);
      stage = 2;
    });
    ex.run_until_idle();
    CHECK(stage == 1);
    CHECK_FALSE(h.ready());
    ex.run();
    CHECK(stage == 2);
    CHECK(h.ready());
  }
}

namespace {

// Environments parked in a context (not main) on three kinds of host calls,
// with objects on every context stack, plus one spawned and one submitted
// that never started. Shutdown (explicit or by ~Executor) must end them
// all: counters back to zero, no stack mapped, every object destroyed.
void park_and_shut_down(bool via_destructor) {
  Tracked::reset();
  constexpr int environments = 30;
  std::vector<sy::EnvironmentHandle<void>> handles;
  sy::EnvironmentHandle<int> never_started, queued;
  std::vector<std::unique_ptr<boost::fibers::promise<void>>> promises;
  std::vector<std::unique_ptr<boost::fibers::buffered_channel<int>>> channels;
  // Declared before the executor: they must still be registered when
  // ~Executor requests the stop.
  std::vector<std::unique_ptr<std::stop_callback<std::function<void()>>>> callbacks;
  {
    sy::Executor ex;
    for (int i = 0; i < environments; ++i) {
      auto* promise = promises.emplace_back(std::make_unique<boost::fibers::promise<void>>()).get();
      auto* channel = channels.emplace_back(std::make_unique<boost::fibers::buffered_channel<int>>(2)).get();
      // A host whose calls wait on its own primitives breaks them on stop.
      callbacks.push_back(std::make_unique<std::stop_callback<std::function<void()>>>(
          ex.stop_token(), std::function<void()>([promise, channel] {
            promise->set_exception(std::make_exception_ptr(std::runtime_error("stopped")));
            channel->close();
          })));
      handles.push_back(ex.spawn(
          [i, promise, channel, &ex] {
            sy::Environment& env = sy::Environment::current();
            Tracked in_main(i);
            for (int c = 0; c < 3; ++c) {
              sy::ContextId id = env.create([&env, c] {
                Tracked in_context(c);
                for (;;) env.switch_to(sy::main_context_id);
              });
              env.switch_to(id);  // started: a real stack to unwind at teardown
            }
            sy::ContextId parked = env.create([&, i] {
              Tracked in_parked(i);
              if (i % 3 == 0) {
                if (!ex.sleep_for(std::chrono::hours(1))) throw std::runtime_error("stopped");
              } else if (i % 3 == 1) {
                promise->get_future().get();
              } else {
                int value;
                if (channel->pop(value) != boost::fibers::channel_op_status::success) {
                  throw std::runtime_error("stopped");
                }
              }
              for (;;) env.switch_to(sy::main_context_id);
            });
            env.switch_to(parked);  // rethrows the parked context's failure
          },
          small_stacks()));
    }
    ex.run_until_idle();
    CHECK(ex.pending() == environments);
    CHECK(Tracked::alive == environments * 5);
    CHECK(sy::mapped_stacks() > 0);
    never_started = ex.spawn([] { return 1; });
    std::thread([&] { queued = ex.submit([] { return 2; }); }).join();
    CHECK(ex.pending() == environments + 2);
    if (!via_destructor) {
      ex.shutdown();
      CHECK(ex.pending() == 0);
      CHECK(ex.stop_requested());
      CHECK_THROWS_AS(ex.spawn([] {}), sy::Error);
      ex.shutdown();  // idempotent
    }
  }
  CHECK(Tracked::alive == 0);
  CHECK(Tracked::destroyed == environments * 5);
  CHECK(sy::mapped_stacks() == 0);
  for (auto& h : handles) {
    REQUIRE(h.ready());
    CHECK_THROWS_WITH_AS(h.get(), "stopped", std::runtime_error);
  }
  // The handles outlive the executor; get() is an error, not UB.
  for (auto* h : {&never_started, &queued}) {
    REQUIRE(h->ready());
    try {
      h->get();
      FAIL("a released environment has no result");
    } catch (const sy::Error& e) {
      CHECK(e.code() == sy::errc::no_environment);
    }
  }
}

}  // namespace

TEST_SUITE("executor.shutdown") {
  TEST_CASE("shutdown releases environments parked in host calls") { park_and_shut_down(false); }
  TEST_CASE("the destructor shuts down too") { park_and_shut_down(true); }
}

TEST_SUITE("executor.threads") {
  TEST_CASE("using an environment from another thread is an error") {
    sy::Executor ex;
    auto h = ex.spawn([] {
      sy::Environment& env = sy::Environment::current();
      sy::ContextId id = env.create([&] { for (;;) env.switch_to(sy::main_context_id); });
      int errors = 0;
      std::thread other([&] {
        auto expect = [&](auto&& call, sy::errc code) {
          try {
            call();
          } catch (const sy::Error& e) {
            if (e.code() == code) ++errors;
          }
        };
        expect([&] { (void)env.active(); }, sy::errc::wrong_thread);
        expect([&] { env.switch_to(id); }, sy::errc::wrong_thread);
        expect([&] { env.destroy(id); }, sy::errc::wrong_thread);
        expect([&] { (void)sy::Environment::current(); }, sy::errc::no_environment);
      });
      other.join();
      // Nothing changed.
      CHECK(env.active() == sy::main_context_id);
      CHECK(env.state(id) == sy::ContextState::created);
      return errors;
    });
    ex.run();
    CHECK(h.get() == 4);
  }

  // Four threads submit at once while the owner serves; each waits for its
  // own results (a blocking get() on a non-owner thread). Run under TSan.
  TEST_CASE("submission from four threads at once") {
    constexpr int threads = 4;
    constexpr int per_thread = 100;
    sy::Executor ex;
    std::atomic<int> correct{0};
    std::vector<std::thread> submitters;
    for (int t = 0; t < threads; ++t) {
      submitters.emplace_back([&, t] {
        std::vector<sy::EnvironmentHandle<int>> handles;
        for (int k = 0; k < per_thread; ++k) {
          int n = t * per_thread + k;
          handles.push_back(ex.submit(
              [n] {
                sy::Environment& env = sy::Environment::current();
                int value = 0;
                sy::ContextId id = env.create([&] {
                  boost::this_fiber::sleep_for(std::chrono::microseconds(50));
                  value = n * 2;
                  for (;;) env.switch_to(sy::main_context_id);
                });
                env.switch_to(id);
                return value + 1;
              },
              small_stacks()));
        }
        for (int k = 0; k < per_thread; ++k) {
          if (handles[k].get() == (t * per_thread + k) * 2 + 1) ++correct;
        }
      });
    }
    std::thread closer([&] {
      for (auto& s : submitters) s.join();
      ex.close();
    });
    ex.serve();  // returns once closed and everything has ended
    closer.join();
    CHECK(correct == threads * per_thread);
    CHECK(ex.pending() == 0);
    CHECK(sy::mapped_stacks() == 0);
  }
}
