// A bounded channel between green threads of one scheduler.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <stdexcept>
#include <utility>

#include "green/scheduler.hpp"

namespace green {

/// Thrown by Channel::send once the channel is closed.
class ChannelClosed : public std::runtime_error {
 public:
  ChannelClosed() : std::runtime_error("green::Channel: send on a closed channel") {}
};

/// A FIFO of at most `capacity` values. send() blocks while it is full,
/// recv() while it is empty; close() ends it for senders at once and for
/// receivers once the buffer is drained. Blocking calls must come from
/// green threads of the scheduler on this thread; the channel must outlive
/// every call on it.
template <class T>
class Channel {
 public:
  /// Throws std::invalid_argument for capacity 0.
  explicit Channel(std::size_t capacity) : capacity_(capacity) {
    if (capacity == 0) throw std::invalid_argument("green::Channel: capacity must be at least 1");
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  /// Appends `value`, waiting while the channel is full. Throws
  /// ChannelClosed if it is closed, before or during the wait (the value
  /// is dropped then).
  void send(T value) {
    while (buffer_.size() >= capacity_ && !closed_) senders_.wait();
    if (closed_) throw ChannelClosed();
    buffer_.push_back(std::move(value));
    receivers_.notify_one();
  }

  /// The oldest value, waiting while the channel is empty and open.
  /// std::nullopt once it is closed and drained.
  std::optional<T> recv() {
    while (buffer_.empty() && !closed_) receivers_.wait();
    if (buffer_.empty()) return std::nullopt;
    std::optional<T> value(std::move(buffer_.front()));
    buffer_.pop_front();
    senders_.notify_one();
    return value;
  }

  /// Wakes every waiter. Values already sent can still be received.
  /// Idempotent; never blocks, so it may run in a destructor.
  void close() {
    closed_ = true;
    senders_.notify_all();
    receivers_.notify_all();
  }

  bool closed() const noexcept { return closed_; }
  std::size_t size() const noexcept { return buffer_.size(); }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::deque<T> buffer_;
  std::size_t capacity_;
  bool closed_ = false;
  detail::WaitQueue senders_;
  detail::WaitQueue receivers_;
};

}  // namespace green
