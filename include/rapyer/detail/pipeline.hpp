// Sans-IO state of one pipelined connection: requests staged for the next write, requests
// awaiting replies in wire order, and the reply parser. The connection does the I/O; this class
// decides which bytes to write next and which request each reply belongs to.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rapyer/detail/reply_reader.hpp"
#include "rapyer/request.hpp"

namespace rapyer::detail {

[[noreturn]] void throw_unexpected_reply(const reply& r);

template <class Waiter>
class pipeline {
 public:
  /// Queues a request; its bytes go out with the next write, coalesced with every other request
  /// staged before that write starts.
  void stage(const request& req, Waiter waiter) {
    staged_ += req.payload();
    awaiting_.push_back(entry{req.size(), {}, std::move(waiter)});
    awaiting_.back().replies.reserve(req.size());
  }

  /// Queues bytes whose replies nobody awaits (on a pub/sub connection, every reply is a push).
  void stage_unanswered(const request& req) { staged_ += req.payload(); }

  bool writing() const noexcept { return !writing_.empty(); }
  bool has_staged() const noexcept { return !staged_.empty(); }

  /// Takes every staged byte for one write. Call only when !writing().
  std::string_view start_write() {
    writing_.swap(staged_);
    return writing_;
  }
  void finish_write() noexcept { writing_.clear(); }

  /// Feeds bytes read from the socket; calls on_complete(Waiter&&, std::vector<reply>&&) for each
  /// request whose last reply arrived, oldest first. Throws protocol_error on garbage, and also on
  /// a reply that no request is waiting for.
  template <class OnComplete>
  void feed(std::string_view bytes, OnComplete&& on_complete) {
    feed(bytes, on_complete, [](reply&& r) { throw_unexpected_reply(r); });
  }

  /// As above, but a reply that no request is waiting for (a pub/sub push) goes to
  /// on_unsolicited(reply&&).
  template <class OnComplete, class OnUnsolicited>
  void feed(std::string_view bytes, OnComplete&& on_complete, OnUnsolicited&& on_unsolicited) {
    reader_.feed(bytes);
    while (auto next = reader_.next()) {
      if (awaiting_.empty()) {
        on_unsolicited(std::move(*next));
        continue;
      }
      entry& front = awaiting_.front();
      front.replies.push_back(std::move(*next));
      if (front.replies.size() == front.expected) {
        entry done = std::move(front);
        awaiting_.pop_front();
        on_complete(std::move(done.waiter), std::move(done.replies));
      }
    }
  }

  /// Ends every request (after the connection is lost): on_fail(Waiter&&) for each, oldest first,
  /// and forgets all buffered bytes so that a new connection starts clean.
  template <class OnFail>
  void fail_all(OnFail&& on_fail) {
    std::deque<entry> failed;
    failed.swap(awaiting_);
    staged_.clear();
    writing_.clear();
    reader_.reset();
    for (auto& e : failed) on_fail(std::move(e.waiter));
  }

  /// Visits the waiter of every request still awaiting replies, oldest first.
  template <class Visit>
  void for_each_waiter(Visit&& visit) {
    for (auto& e : awaiting_) visit(e.waiter);
  }

  /// Requests written or staged whose replies have not all arrived.
  std::size_t awaiting() const noexcept { return awaiting_.size(); }

 private:
  struct entry {
    std::size_t expected;
    std::vector<reply> replies;
    Waiter waiter;
  };

  reply_reader reader_;
  std::deque<entry> awaiting_;
  std::string staged_;
  std::string writing_;
};

}  // namespace rapyer::detail
