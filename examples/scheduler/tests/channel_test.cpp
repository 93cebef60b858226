// Channel: FIFO, blocking when full or empty, close, and cancel of waiters.
#include <memory>

#include "support.hpp"

using test::Log;
using test::Tracked;

TEST_CASE("values arrive in order; send blocks while the channel is full") {
  Log log;
  test::run([&] {
    green::Channel<int> channel(2);
    green::spawn([&] {
      for (int i = 1; i <= 4; ++i) {
        channel.send(i);
        log("sent " + std::to_string(i));
      }
      channel.close();
    });
    green::yield();  // the sender fills both slots and blocks on the third
    log("receiving");
    while (std::optional<int> value = channel.recv()) log("got " + std::to_string(*value));
  });
  CHECK(log.lines == std::vector<std::string>{"sent 1", "sent 2", "receiving", "got 1", "got 2", "sent 3", "sent 4",
                                              "got 3", "got 4"});
}

TEST_CASE("recv blocks while the channel is empty") {
  test::run([] {
    green::Channel<std::unique_ptr<int>> channel(1);  // move-only values
    auto receiver = green::spawn([&] { return *channel.recv().value(); });
    green::yield();
    CHECK_FALSE(receiver.done());
    channel.send(std::make_unique<int>(5));
    CHECK(green::join(receiver) == 5);
  });
}

TEST_CASE("close: the buffer drains, then recv gives nullopt and send throws") {
  test::run([] {
    green::Channel<int> channel(3);
    channel.send(1);
    channel.send(2);
    channel.close();
    channel.close();  // idempotent
    CHECK(channel.closed());
    CHECK_THROWS_AS(channel.send(3), green::ChannelClosed);
    CHECK(channel.recv() == 1);
    CHECK(channel.recv() == 2);
    CHECK(channel.recv() == std::nullopt);
    CHECK(channel.recv() == std::nullopt);
  });
  CHECK_THROWS_AS(green::Channel<int>(0), std::invalid_argument);
}

TEST_CASE("close wakes blocked receivers and senders") {
  test::run([] {
    green::Channel<int> empty(1);
    green::Channel<int> full(1);
    full.send(0);
    auto receiver = green::spawn([&] { return empty.recv(); });
    auto sender = green::spawn([&] { full.send(1); });
    green::yield();  // both block
    empty.close();
    full.close();
    CHECK(green::join(receiver) == std::nullopt);
    CHECK_THROWS_AS(green::join(sender), green::ChannelClosed);
    CHECK(full.recv() == 0);  // what was sent before close is kept
  });
}

TEST_CASE("cancel a thread blocked in send or recv") {
  test::run([] {
    green::Channel<int> channel(1);
    channel.send(0);
    auto sender = green::spawn([&] {
      Tracked guard;
      channel.send(1);
    });
    green::Channel<int> silent(1);
    auto receiver = green::spawn([&] {
      Tracked guard;
      silent.recv();
    });
    green::yield();
    CHECK(green::cancel(sender));
    CHECK(green::cancel(receiver));
    CHECK(Tracked::destroyed == 2);
    // The canceled waiters are gone from the queues: these wake nobody.
    CHECK(channel.recv() == 0);
    silent.send(2);
    CHECK(channel.size() == 0);
  });
}

TEST_CASE("a canceled receiver passes its wake-up on") {
  test::run([] {
    green::Channel<int> channel(1);
    auto first = green::spawn([&] { return channel.recv(); });
    auto second = green::spawn([&] { return channel.recv(); });
    green::yield();        // both block, first in line
    channel.send(7);       // wakes the first receiver ...
    green::cancel(first);  // ... which is canceled before it runs
    CHECK(green::join(second) == 7);  // without the pass-on: Deadlock
  });
}
