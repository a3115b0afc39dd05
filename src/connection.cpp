#include "rapyer/connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <algorithm>
#include <array>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <list>
#include <optional>

#include "rapyer/detail/ascii.hpp"
#include "rapyer/detail/blocking_command.hpp"
#include "rapyer/detail/pipeline.hpp"
#include "rapyer/detail/random.hpp"
#include "rapyer/detail/sentinel.hpp"
#include "rapyer/error.hpp"

namespace rapyer::detail {
template <class Handler>
struct first_reply_handler;
}  // namespace rapyer::detail

// first_reply_handler answers to asio's associated-object queries as the handler it wraps.
template <template <class, class> class Associator, class Handler, class DefaultCandidate>
struct boost::asio::associator<Associator, rapyer::detail::first_reply_handler<Handler>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
  static typename Associator<Handler, DefaultCandidate>::type get(
      const rapyer::detail::first_reply_handler<Handler>& h) noexcept {
    return Associator<Handler, DefaultCandidate>::get(h.handler);
  }
  static auto get(const rapyer::detail::first_reply_handler<Handler>& h, const DefaultCandidate& c) noexcept
      -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler, c)) {
    return Associator<Handler, DefaultCandidate>::get(h.handler, c);
  }
};

namespace rapyer {
namespace detail {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;
using reply_signature = void(std::exception_ptr, std::vector<reply>);
using socket_type = asio::generic::stream_protocol::socket;
using tls_stream = asio::ssl::stream<socket_type&>;

// Completes a caller that wants one reply from the pipeline's reply vector: the first reply, or
// the server error it holds as server_error naming the command. Associated executor, allocator
// and cancellation slot are the caller's (see the associator below).
template <class Handler>
struct first_reply_handler {
  Handler handler;
  const request* req;  // held by the operation until it completes

  void operator()(std::exception_ptr error, std::vector<reply> replies) {
    if (!error && !replies.empty() && replies.front().is_error()) {
      try {
        replies.front().throw_if_error(req->command_name(0));
      } catch (...) {
        error = std::current_exception();
      }
    }
    if (error || replies.empty()) return std::move(handler)(std::move(error), reply{});
    std::move(handler)(nullptr, std::move(replies.front()));
  }
};

// One context per connection, built from its config; bad files are reported at construction.
std::optional<asio::ssl::context> make_tls_context(const connection_config& config) {
  if (!config.tls.enabled || !config.unix_socket.empty()) return std::nullopt;
  const tls_config& tls = config.tls;
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  const auto load = [](const std::string& what, const std::string& path, auto&& step) {
    boost::system::error_code ec;
    step(ec);
    if (ec) throw config_error("TLS: cannot load " + what + " '" + path + "': " + ec.message());
  };
  if (tls.ca_file.empty()) {
    load("the system CA store", "", [&](auto& ec) { context.set_default_verify_paths(ec); });
  } else {
    load("CA file", tls.ca_file, [&](auto& ec) { context.load_verify_file(tls.ca_file, ec); });
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    throw config_error("TLS: a client certificate needs both cert_file and key_file");
  }
  if (!tls.cert_file.empty()) {
    load("client certificate", tls.cert_file, [&](auto& ec) { context.use_certificate_chain_file(tls.cert_file, ec); });
    load("client key", tls.key_file,
         [&](auto& ec) { context.use_private_key_file(tls.key_file, asio::ssl::context::pem, ec); });
  }
  context.set_verify_mode(tls.verify_peer ? asio::ssl::verify_peer : asio::ssl::verify_none);
  return context;
}

constexpr std::chrono::milliseconds no_limit{0};

std::exception_ptr cancelled_error() {
  return std::make_exception_ptr(boost::system::system_error(asio::error::operation_aborted));
}

bool is_unblocked_error(const reply& r) { return r.is_error() && r.error_message().starts_with("UNBLOCKED"); }

// A replica refusing a write: the primary we connected to was demoted.
bool is_readonly_error(const reply& r) { return r.is_error() && r.error_message().starts_with("READONLY"); }

// Commands whose pushes would interleave with other callers' replies on a shared connection.
const char* refused_command(const request& req) {
  static constexpr std::array<const char*, 4> refused{"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR"};
  for (std::size_t i = 0; i < req.size(); ++i) {
    const auto& name = req.command_name(i);
    for (const char* command : refused) {
      if (iequals(name, command)) return command;
    }
  }
  return nullptr;
}

// Built by move construction only: Boost 1.81's any_completion_handler move assignment recurses.
struct waiter {
  waiter(asio::any_completion_handler<reply_signature> h, clock::time_point d, std::uint64_t i, bool block,
         bool is_internal)
      : handler(std::move(h)), deadline(d), id(i), blocking(block), internal(is_internal) {}

  asio::any_completion_handler<reply_signature> handler;  // empty once its caller was answered
  clock::time_point deadline;
  std::uint64_t id = 0;
  asio::cancellation_slot slot;  // the caller's, connected while our cancellation handler is in it
  bool blocking = false;         // may hold the connection on the server until it answers
  bool cancelled = false;        // its caller gave up; a blocking one is being unblocked
  bool internal = false;         // a health-check PING: nobody awaits it
};

// A request that came while the connection was down, waiting for it to come back. The request
// lives in the caller's frame until the caller is answered.
struct parked_request {
  const request* req;
  waiter w;
};

class connection_impl : public std::enable_shared_from_this<connection_impl> {
 public:
  connection_impl(asio::any_io_executor executor, connection_config config, std::optional<push_handlers> push = {})
      : executor_(std::move(executor)),
        config_(std::move(config)),
        socket_(executor_),
        tls_context_(make_tls_context(config_)),
        deadline_timer_(executor_),
        reconnect_timer_(executor_),
        health_timer_(executor_),
        push_(std::move(push)) {
    if (config_.sentinel.enabled() && config_.sentinel.sentinels.empty()) {
      throw config_error("sentinel master '" + config_.sentinel.master_name + "' has no sentinel to ask");
    }
    if (!config_.sentinel.enabled()) node_ = host_port{config_.host, config_.port};
  }

  awaitable<void> connect();
  void close();

  // The request must outlive the initiation, which runs when the caller suspends on the result.
  template <class Token>
  auto async_submit(const request& req, bool handshake, Token&& token) {
    return asio::async_initiate<Token, reply_signature>(
        [this](auto handler, const request* r, bool hs) { submit(*r, std::move(handler), hs); }, token, &req,
        handshake);
  }

  // Submits `req`, kept with the connection in the operation until it completes: no coroutine
  // frame of our own on the hot path. The initiation takes them by reference from that operation.
  static awaitable<std::vector<reply>> execute(std::shared_ptr<connection_impl> self, request req) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, reply_signature>(
        [](auto handler, const std::shared_ptr<connection_impl>& impl, const request& r) {
          impl->submit(r, std::move(handler), false);
        },
        asio::use_awaitable, std::move(self), std::move(req));
  }

  // As execute, completing with the first reply (a server error reply as server_error).
  static awaitable<reply> execute_one(std::shared_ptr<connection_impl> self, request req) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, reply)>(
        [](auto handler, const std::shared_ptr<connection_impl>& impl, const request& r) {
          impl->submit(r, first_reply_handler<decltype(handler)>{std::move(handler), &r}, false);
        },
        asio::use_awaitable, std::move(self), std::move(req));
  }

  void send(const request& req);

  bool is_connected() const noexcept { return state_ == state::ready; }
  std::size_t load() const noexcept { return pipeline_.awaiting() - internal_awaiting_ + parked_.size(); }
  std::size_t reconnect_count() const noexcept { return stats_.reconnects; }
  connection_stats stats() const noexcept {
    connection_stats now = stats_;
    now.in_flight = load();
    return now;
  }
  const connection_config& config() const noexcept { return config_; }
  const asio::any_io_executor& executor() const noexcept { return executor_; }
  const host_port& node_address() const noexcept { return node_; }
  void follow_primary(const host_port& primary);

 private:
  enum class state { disconnected, connecting, ready, closed };

  void submit(const request& req, asio::any_completion_handler<reply_signature> handler, bool handshake);
  void stage(const request& req, waiter w);
  clock::time_point deadline_of(bool handshake, const std::optional<block_time>& block) const;
  void watch_cancellation(waiter& w);
  void cancel(std::uint64_t id);
  bool pending(std::uint64_t id);
  bool is_oldest(std::uint64_t id);
  awaitable<void> unblock(std::uint64_t id);
  void answer(waiter& w, std::exception_ptr error, std::vector<reply> replies = {});
  void on_reply(waiter&& w, std::vector<reply>&& replies);
  void start_write();
  void on_written(std::uint64_t generation, boost::system::error_code ec, std::size_t n);
  void start_read();
  void on_read(std::uint64_t generation, boost::system::error_code ec, std::size_t n);
  void arm_deadline_timer(clock::time_point deadline);
  void on_deadline();
  void arm_health_check();
  void on_health_check();
  void on_connection_lost(const std::string& reason);
  void fail_all(const std::string& reason);
  void fail_parked(const std::exception_ptr& error);
  void unpark();
  awaitable<void> open_socket();
  awaitable<void> open_and_handshake();
  awaitable<void> connect_through_sentinels();
  awaitable<std::vector<host_port>> ask_sentinel(const host_port& sentinel);
  void drop_socket(const std::string& reason);
  // Sentinel-managed and meant for the primary (not a replica read connection).
  bool tracks_primary() const noexcept { return config_.sentinel.enabled() && !config_.sentinel.read_from_replica; }
  awaitable<void> start_tls(asio::steady_timer& timer);
  void set_keepalive();
  // Calls `operation` with the TLS stream when there is one, else with the plain socket.
  template <class Operation>
  void with_stream(Operation&& operation) {
    if (tls_stream_) {
      operation(*tls_stream_);
    } else {
      operation(socket_);
    }
  }
  request handshake_request() const;
  void check_handshake(const request& req, const std::vector<reply>& replies);
  awaitable<void> reconnect_loop();
  // For messages: the configured endpoint, and the node found through the sentinels.
  std::string endpoint() const {
    if (!config_.sentinel.enabled() || node_.host.empty()) return config_.endpoint();
    return config_.endpoint() + " at " + to_string(node_);
  }
  void log(log_level level, const std::string& message) const {
    if (config_.logger) config_.logger(level, message);
  }

  void complete(asio::any_completion_handler<reply_signature>&& handler, std::exception_ptr error,
                std::vector<reply> replies = {}) {
    // Never invoked inline: the caller resumes once we are done with our state. One step
    // completes every request finished meanwhile (one read may finish hundreds), dispatching each
    // to its handler's own executor, in order: posted, or at the end of the read that finished them.
    completed_.push_back({std::move(handler), std::move(error), std::move(replies)});
    if (completed_.size() == 1 && !reading_) post_completions();
  }

  void post_completions() {
    asio::post(executor_, [self = shared_from_this()] { self->run_completions(); });
  }

  void run_completions() {
    std::swap(completing_, completed_);  // handlers that finish more requests queue them anew
    std::size_t next = 0;
    try {
      for (; next < completing_.size(); ++next) {
        auto& done = completing_[next];
        asio::dispatch(asio::append(std::move(done.handler), std::move(done.error), std::move(done.replies)));
      }
    } catch (...) {
      // A handler threw out of io_context::run: the others are completed by a later step, first.
      completed_.insert(completed_.begin(),
                        std::make_move_iterator(completing_.begin() + static_cast<std::ptrdiff_t>(next + 1)),
                        std::make_move_iterator(completing_.end()));
      completing_.clear();
      if (!completed_.empty()) post_completions();
      throw;
    }
    completing_.clear();  // keeps the capacity for the next batch
  }

  // A finished request: its handler and result, until the posted step completes it.
  struct completion {
    asio::any_completion_handler<reply_signature> handler;
    std::exception_ptr error;
    std::vector<reply> replies;
  };

  asio::any_io_executor executor_;
  connection_config config_;
  host_port node_;  // where the socket goes: host/port, or the node the sentinels named
  socket_type socket_;
  std::optional<asio::ssl::context> tls_context_;
  // Over socket_, renewed for every TLS connection; pending operations hold it until they finish.
  std::shared_ptr<tls_stream> tls_stream_;
  asio::steady_timer deadline_timer_;
  asio::steady_timer reconnect_timer_;
  asio::steady_timer health_timer_;
  bool deadline_timer_armed_ = false;
  pipeline<waiter> pipeline_;
  std::list<parked_request> parked_;  // a list: erasing never move-assigns a waiter
  std::optional<push_handlers> push_;
  std::vector<completion> completed_;   // waiting for the posted step of complete()
  std::vector<completion> completing_;  // being completed by it
  bool reading_ = false;                // in on_read, which completes what it finished at its end
  std::array<char, std::size_t{64} * 1024> read_buffer_{};
  state state_ = state::disconnected;
  bool reconnecting_ = false;     // a reconnect loop runs: new requests may wait for it
  std::uint64_t generation_ = 0;  // bumped per socket, so callbacks of an old socket are ignored
  std::uint64_t next_id_ = 0;
  long long client_id_ = 0;  // CLIENT ID of the current socket; 0 when the server refused to tell
  std::size_t internal_awaiting_ = 0;
  std::size_t blocking_awaiting_ = 0;
  bool demoted_ = false;  // a READONLY reply came from a primary found through the sentinels
  clock::time_point last_read_{};
  std::optional<clock::time_point> ping_sent_;
  connection_stats stats_;
};

clock::time_point connection_impl::deadline_of(bool handshake, const std::optional<block_time>& block) const {
  auto timeout = handshake ? config_.connect_timeout : config_.command_timeout;
  if (timeout <= no_limit || (block && block->forever)) return clock::time_point::max();
  if (block) timeout += block->limit;
  return clock::now() + timeout;
}

void connection_impl::submit(const request& req, asio::any_completion_handler<reply_signature> handler,
                             bool handshake) {
  if (const char* refused = push_ ? nullptr : refused_command(req)) {
    complete(std::move(handler),
             std::make_exception_ptr(usage_error(std::string(refused) +
                                                 " on a shared connection would mix its pushes with other replies: use "
                                                 "client::subscribe / client::psubscribe")));
    return;
  }
  if (req.empty()) {
    complete(std::move(handler), nullptr);
    return;
  }
  const auto block = handshake ? std::nullopt : block_time_of(req);
  waiter w(std::move(handler), deadline_of(handshake, block), ++next_id_, block.has_value(), false);
  if (state_ == state::ready || (handshake && state_ == state::connecting)) {
    stage(req, std::move(w));
    return;
  }
  if (!handshake && reconnecting_ && config_.wait_for_reconnect && state_ != state::closed) {
    watch_cancellation(w);
    if (w.deadline != clock::time_point::max()) arm_deadline_timer(w.deadline);
    parked_.emplace_back(parked_request{&req, std::move(w)});
    return;
  }
  const char* why = state_ == state::closed ? "connection is closed" : "not connected (reconnecting)";
  complete(std::move(w.handler), std::make_exception_ptr(not_connected(endpoint() + ": " + why)));
}

void connection_impl::stage(const request& req, waiter w) {
  if (!w.internal && !w.slot.is_connected()) watch_cancellation(w);
  if (w.blocking) ++blocking_awaiting_;
  if (w.internal) ++internal_awaiting_;
  stats_.commands += req.size();
  const auto deadline = w.deadline;
  pipeline_.stage(req, std::move(w));
  if (deadline != clock::time_point::max()) arm_deadline_timer(deadline);
  if (!pipeline_.writing()) start_write();
}

void connection_impl::send(const request& req) {
  if (state_ != state::ready) return;
  stats_.commands += req.size();
  pipeline_.stage_unanswered(req);
  if (!pipeline_.writing()) start_write();
}

void connection_impl::watch_cancellation(waiter& w) {
  w.slot = asio::get_associated_cancellation_slot(w.handler);
  if (!w.slot.is_connected()) return;
  w.slot.assign([weak = weak_from_this(), id = w.id](asio::cancellation_type) {
    if (auto self = weak.lock()) self->cancel(id);
  });
}

void connection_impl::answer(waiter& w, std::exception_ptr error, std::vector<reply> replies) {
  if (!w.handler) return;
  // The caller's slot may not outlive its answer: take our handler out of it first.
  if (w.slot.is_connected() && !w.cancelled) w.slot.clear();
  w.slot = {};
  complete(std::move(w.handler), std::move(error), std::move(replies));
  w.handler = {};
}

// Runs inside the caller's cancellation slot: it must not clear that slot.
void connection_impl::cancel(std::uint64_t id) {
  for (auto it = parked_.begin(); it != parked_.end(); ++it) {
    if (it->w.id != id) continue;
    ++stats_.cancellations;
    it->w.cancelled = true;
    answer(it->w, cancelled_error());
    parked_.erase(it);
    return;
  }
  bool unblock_needed = false;
  pipeline_.for_each_waiter([&](waiter& w) {
    if (w.id != id || !w.handler || w.cancelled) return;
    ++stats_.cancellations;
    w.cancelled = true;
    // A plain command's reply is read and discarded. A blocking one must not take an element
    // for nobody: its caller is answered once the server confirms it unblocked it.
    if (w.blocking) {
      unblock_needed = true;
    } else {
      answer(w, cancelled_error());
    }
  });
  if (unblock_needed) {
    log(log_level::debug, endpoint() + ": unblocking a cancelled blocking command");
    asio::co_spawn(
        executor_, [self = shared_from_this(), id] { return self->unblock(id); }, asio::detached);
  }
}

bool connection_impl::pending(std::uint64_t id) {
  bool found = false;
  pipeline_.for_each_waiter([&](waiter& w) { found = found || (w.id == id && w.handler); });
  return found;
}

bool connection_impl::is_oldest(std::uint64_t id) {
  bool first = true;
  bool oldest = false;
  pipeline_.for_each_waiter([&](waiter& w) {
    oldest = oldest || (first && w.id == id);
    first = false;
  });
  return oldest;
}

// CLIENT UNBLOCK … ERROR from a second connection makes the blocked command answer -UNBLOCKED.
// It unblocks whatever the connection is blocked in, so it is sent only once every older request
// was answered, and again while the command has not reached the server yet.
awaitable<void> connection_impl::unblock(std::uint64_t id) {
  auto self = shared_from_this();
  const auto generation = generation_;
  const auto still_ours = [&] { return generation_ == generation && pending(id); };
  if (client_id_ > 0) {
    connection_config side_config = config_;
    side_config.sentinel = {};  // the blocked command's node, not whichever the sentinels name now
    side_config.host = node_.host;
    side_config.port = node_.port;
    side_config.auto_reconnect = false;
    side_config.health_check_interval = no_limit;
    side_config.logger = {};
    auto side = std::make_shared<connection_impl>(executor_, std::move(side_config));
    bool done = false;
    try {
      co_await side->connect();
      asio::steady_timer pause(executor_);
      request unblock_request;
      unblock_request.push("CLIENT", "UNBLOCK", client_id_, "ERROR");
      while (still_ours()) {
        if (is_oldest(id)) {
          const auto replies = co_await side->async_submit(unblock_request, false, asio::use_awaitable);
          replies.front().throw_if_error("CLIENT UNBLOCK");
          if (replies.front().as_integer() == 1) break;
        }
        pause.expires_after(std::chrono::milliseconds(2));
        co_await pause.async_wait(asio::use_awaitable);
      }
      done = true;
    } catch (const std::exception& e) {
      log(log_level::warning, endpoint() + ": cannot unblock a cancelled command: " + e.what());
    }
    side->close();
    if (done) co_return;
  }
  // Without a second connection, closing this one is the only way to be sure it takes nothing.
  if (still_ours()) on_connection_lost("closed to abandon a cancelled blocking command");
}

void connection_impl::on_reply(waiter&& w, std::vector<reply>&& replies) {
  stats_.replies += replies.size();
  if (w.blocking) --blocking_awaiting_;
  if (w.internal) --internal_awaiting_;
  demoted_ = demoted_ || (tracks_primary() && std::ranges::any_of(replies, is_readonly_error));
  if (w.cancelled && std::ranges::any_of(replies, is_unblocked_error)) return answer(w, cancelled_error());
  answer(w, nullptr, std::move(replies));
}

void connection_impl::start_write() {
  const std::string_view bytes = pipeline_.start_write();
  // The handlers hold the TLS stream (if any) so that it outlives its pending operations.
  with_stream([&](auto& stream) {
    asio::async_write(stream, asio::buffer(bytes.data(), bytes.size()),
                      [self = shared_from_this(), generation = generation_, tls = tls_stream_](
                          boost::system::error_code ec, std::size_t n) { self->on_written(generation, ec, n); });
  });
}

void connection_impl::on_written(std::uint64_t generation, boost::system::error_code ec, std::size_t n) {
  if (generation != generation_) return;
  if (ec) return on_connection_lost("write failed: " + ec.message());
  stats_.bytes_written += n;
  pipeline_.finish_write();
  if (pipeline_.has_staged()) start_write();
}

void connection_impl::start_read() {
  with_stream([&](auto& stream) {
    stream.async_read_some(asio::buffer(read_buffer_),
                           [self = shared_from_this(), generation = generation_, tls = tls_stream_](
                               boost::system::error_code ec, std::size_t n) { self->on_read(generation, ec, n); });
  });
}

void connection_impl::on_read(std::uint64_t generation, boost::system::error_code ec, std::size_t n) {
  if (generation != generation_) return;
  if (ec) {
    return on_connection_lost(ec == asio::error::eof ? "server closed the connection" : "read failed: " + ec.message());
  }
  stats_.bytes_read += n;
  last_read_ = clock::now();
  // On every way out, the requests this read finished are completed: at the end, where the state
  // is consistent again (saves a post and a trip through the scheduler per read), else posted.
  reading_ = true;
  std::exception_ptr failed;  // out of memory, or a push handler's exception
  std::string lost;           // why the connection is dropped
  try {
    const auto on_complete = [this](waiter&& w, std::vector<reply>&& r) { on_reply(std::move(w), std::move(r)); };
    const std::string_view bytes(read_buffer_.data(), n);
    if (push_) {
      pipeline_.feed(bytes, on_complete, [this](reply&& r) {
        ++stats_.replies;
        push_->on_push(std::move(r));
      });
    } else {
      pipeline_.feed(bytes, on_complete);
    }
  } catch (const protocol_error& e) {
    lost = e.what();
  } catch (...) {
    failed = std::current_exception();
  }
  reading_ = false;
  if (lost.empty() && !failed && std::exchange(demoted_, false)) {
    lost = "the node is no longer the primary (READONLY); asking the sentinels again";
  }
  if (failed || !lost.empty()) {
    if (!completed_.empty()) post_completions();
    if (failed) std::rethrow_exception(failed);
    return on_connection_lost(lost);
  }
  if (generation == generation_) start_read();
  run_completions();
}

void connection_impl::arm_deadline_timer(clock::time_point deadline) {
  // One timer serves every waiter: it is set for the earliest pending deadline, and on_deadline
  // re-arms it for the next one still pending.
  if (deadline_timer_armed_ && deadline_timer_.expiry() <= deadline) return;
  deadline_timer_armed_ = true;
  deadline_timer_.expires_at(deadline);  // cancels a later wait, whose handler then does nothing
  deadline_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    self->deadline_timer_armed_ = false;
    if (self->state_ != state::closed) self->on_deadline();
  });
}

void connection_impl::on_deadline() {
  const auto now = clock::now();
  auto next = clock::time_point::max();
  const auto timed_out = [&](waiter& w, const char* what) {
    ++stats_.timeouts;
    const std::string message = endpoint() + ": " + what;
    log(log_level::warning, message);
    answer(w, std::make_exception_ptr(timeout_error(message)));
  };
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (it->w.deadline > now) {
      next = std::min(next, it->w.deadline);
      ++it;
    } else {
      timed_out(it->w, "not reconnected within the command timeout");
      it = parked_.erase(it);
    }
  }
  std::vector<std::uint64_t> abandoned_blocking;
  pipeline_.for_each_waiter([&](waiter& w) {
    if (!w.handler || w.cancelled) return;
    if (w.deadline <= now) {
      // The reply may still arrive; its entry stays queued so it is consumed, then discarded.
      // A blocking command is unblocked as if cancelled, so it takes no element for nobody.
      if (w.blocking) abandoned_blocking.push_back(w.id);
      timed_out(w, "no reply within the command timeout");
      w.cancelled = w.blocking;
    } else {
      next = std::min(next, w.deadline);
    }
  });
  for (const auto id : abandoned_blocking) {
    asio::co_spawn(
        executor_, [self = shared_from_this(), id] { return self->unblock(id); }, asio::detached);
  }
  if (next != clock::time_point::max()) arm_deadline_timer(next);
}

void connection_impl::arm_health_check() {
  if (config_.health_check_interval <= no_limit) return;
  health_timer_.expires_after(config_.health_check_interval);
  health_timer_.async_wait([self = shared_from_this(), generation = generation_](boost::system::error_code ec) {
    if (!ec && generation == self->generation_) self->on_health_check();
  });
}

// PING after an interval without reads; an unanswered PING an interval later means the server
// or the path to it is gone (a half-open socket, a stopped server): fail, and reconnect.
void connection_impl::on_health_check() {
  if (state_ != state::ready) return;
  const auto now = clock::now();
  const auto interval = config_.health_check_interval;
  if (ping_sent_ && last_read_ < *ping_sent_) {
    if (now - *ping_sent_ >= interval) {
      ++stats_.health_check_failures;
      const std::string reason =
          "health check failed: no reply to PING within " + std::to_string(interval.count()) + " ms";
      log(log_level::error, endpoint() + ": " + reason);
      return on_connection_lost(reason);
    }
  } else {
    ping_sent_.reset();
    // A blocking command holds the server's answers back: the PING would wait behind it.
    if (now - last_read_ >= interval && blocking_awaiting_ == 0) {
      request ping;
      ping.push("PING");
      ping_sent_ = now;
      if (push_) {
        send(ping);
      } else {
        stage(ping, waiter(asio::any_completion_handler<reply_signature>(
                               [](const std::exception_ptr&, const std::vector<reply>&) {}),
                           clock::time_point::max(), ++next_id_, false, true));
      }
    }
  }
  arm_health_check();
}

void connection_impl::fail_all(const std::string& reason) {
  const auto error = std::make_exception_ptr(connection_error(endpoint() + ": " + reason));
  pipeline_.fail_all([&](waiter&& w) { answer(w, w.cancelled ? cancelled_error() : error); });
  internal_awaiting_ = 0;
  blocking_awaiting_ = 0;
  ping_sent_.reset();
}

void connection_impl::fail_parked(const std::exception_ptr& error) {
  std::list<parked_request> failed;
  failed.swap(parked_);
  for (auto& p : failed) answer(p.w, error);
}

void connection_impl::unpark() {
  std::list<parked_request> ready;
  ready.swap(parked_);
  for (auto& p : ready) stage(*p.req, std::move(p.w));
}

void connection_impl::drop_socket(const std::string& reason) {
  ++generation_;
  boost::system::error_code ignored;
  socket_.close(ignored);
  health_timer_.cancel();
  fail_all(reason);
}

void connection_impl::on_connection_lost(const std::string& reason) {
  const bool was_ready = state_ == state::ready;
  if (state_ != state::closed) state_ = state::disconnected;
  drop_socket(reason);
  if (was_ready) {
    log(log_level::warning,
        endpoint() + ": connection lost: " + reason + (config_.auto_reconnect ? "; reconnecting" : ""));
    if (push_ && push_->on_lost) push_->on_lost(reason);
  }
  if (was_ready && config_.auto_reconnect) {
    reconnecting_ = true;
    asio::co_spawn(
        executor_, [self = shared_from_this()] { return self->reconnect_loop(); }, asio::detached);
  }
}

awaitable<void> connection_impl::open_socket() {
  asio::steady_timer timer(executor_);
  timer.expires_after(config_.connect_timeout);
  const auto timed_out = [&] { return timeout_error(endpoint() + ": connect timed out"); };
  if (!config_.unix_socket.empty()) {
    socket_ = socket_type(executor_);
    auto result = co_await (socket_.async_connect(asio::local::stream_protocol::endpoint(config_.unix_socket),
                                                  asio::as_tuple(asio::use_awaitable)) ||
                            timer.async_wait(asio::use_awaitable));
    if (result.index() == 1) throw timed_out();
    if (auto [ec] = std::get<0>(result); ec)
      throw connection_error("cannot connect to " + endpoint() + ": " + ec.message());
    co_return;
  }
  tls_stream_.reset();
  asio::ip::tcp::resolver resolver(executor_);
  auto resolved =
      co_await (resolver.async_resolve(node_.host, std::to_string(node_.port), asio::as_tuple(asio::use_awaitable)) ||
                timer.async_wait(asio::use_awaitable));
  if (resolved.index() == 1) throw timed_out();
  auto [resolve_ec, endpoints] = std::get<0>(std::move(resolved));
  if (resolve_ec) throw connection_error("cannot resolve " + endpoint() + ": " + resolve_ec.message());
  boost::system::error_code last_error = asio::error::host_not_found;
  for (const auto& entry : endpoints) {
    socket_ = socket_type(executor_);
    auto result = co_await (socket_.async_connect(asio::generic::stream_protocol::endpoint(entry.endpoint()),
                                                  asio::as_tuple(asio::use_awaitable)) ||
                            timer.async_wait(asio::use_awaitable));
    if (result.index() == 1) throw timed_out();
    last_error = std::get<0>(std::get<0>(result));
    if (!last_error) {
      socket_.set_option(asio::ip::tcp::no_delay(true));
      if (config_.tcp_keepalive) set_keepalive();
      if (tls_context_) co_await start_tls(timer);
      co_return;
    }
  }
  throw connection_error("cannot connect to " + endpoint() + ": " + last_error.message());
}

// Probes after 30 s of silence, every 10 s, 3 misses: the kernel notices a vanished peer in about a
// minute even with health checks off (Linux's default would take over two hours).
void connection_impl::set_keepalive() {
  socket_.set_option(asio::socket_base::keep_alive(true));
  const auto set = [&](int option, int value) {
    ::setsockopt(socket_.native_handle(), IPPROTO_TCP, option, &value, sizeof value);
  };
  set(TCP_KEEPIDLE, 30);
  set(TCP_KEEPINTVL, 10);
  set(TCP_KEEPCNT, 3);
}

awaitable<void> connection_impl::start_tls(asio::steady_timer& timer) {
  tls_stream_ = std::make_shared<tls_stream>(socket_, *tls_context_);
  const std::string& name = config_.tls.server_name.empty() ? node_.host : config_.tls.server_name;
  boost::system::error_code not_an_address;
  (void)asio::ip::make_address(name, not_an_address);
  // SNI carries host names only; the certificate check covers names and IP addresses alike.
  if (not_an_address && !SSL_set_tlsext_host_name(tls_stream_->native_handle(), name.c_str())) {
    throw tls_error(endpoint() + ": cannot set the TLS server name");
  }
  if (config_.tls.verify_peer) tls_stream_->set_verify_callback(asio::ssl::host_name_verification(name));
  auto result =
      co_await (tls_stream_->async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable)) ||
                timer.async_wait(asio::use_awaitable));
  if (result.index() == 1) throw timeout_error(endpoint() + ": TLS handshake timed out (does the port speak TLS?)");
  if (auto [ec] = std::get<0>(result); ec) {
    throw tls_error(endpoint() + ": TLS handshake failed: " + ec.message());
  }
}

request connection_impl::handshake_request() const {
  request req;
  if (!config_.password.empty()) {
    if (config_.username.empty()) {
      req.push("AUTH", config_.password);
    } else {
      req.push("AUTH", config_.username, config_.password);
    }
  }
  if (config_.database != 0) req.push("SELECT", config_.database);
  if (!config_.client_name.empty()) req.push("CLIENT", "SETNAME", config_.client_name);
  if (config_.readonly) req.push("READONLY");
  // The sentinels' answer may be outdated: the node must still have the role they named it for.
  if (config_.sentinel.enabled()) req.push("ROLE");
  req.push("CLIENT", "ID");  // what CLIENT UNBLOCK names when a blocking command is cancelled
  req.push("PING");          // reveals NOAUTH when the server wants a password we did not send
  return req;
}

void connection_impl::check_handshake(const request& req, const std::vector<reply>& replies) {
  client_id_ = 0;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const std::string& command = req.command_name(i);
    const bool client_id = command == "CLIENT" && i + 2 == replies.size();
    if (!replies[i].is_error()) {
      if (command == "ROLE") check_role(config_.sentinel, replies[i]);
      if (client_id && replies[i].is_integer()) client_id_ = replies[i].as_integer();
      continue;
    }
    const std::string& message = replies[i].error_message();
    // Redis's AUTH errors never echo the credentials, so its message is safe to pass on.
    if (command == "AUTH" || message.starts_with("NOAUTH") || message.starts_with("WRONGPASS")) {
      throw authentication_error(endpoint() + ": authentication failed: " + message);
    }
    // A user without rights to CLIENT ID still works; cancelling a blocking command then closes
    // the connection instead of unblocking it.
    if (client_id) continue;
    throw connection_error(endpoint() + ": " + command + " failed during connect: " + message);
  }
}

awaitable<void> connection_impl::connect() {
  if (state_ == state::ready) co_return;
  if (state_ == state::closed) throw connection_error(endpoint() + ": connection is closed");
  if (state_ == state::connecting) throw connection_error(endpoint() + ": connect already in progress");
  state_ = state::connecting;
  auto self = shared_from_this();  // keeps the state alive if the handle goes away meanwhile
  std::exception_ptr failure;
  try {
    if (config_.sentinel.enabled()) {
      co_await connect_through_sentinels();
    } else {
      co_await open_and_handshake();
    }
    if (state_ != state::connecting) throw connection_error(endpoint() + ": connection is closed");
    state_ = state::ready;
    if (!reconnecting_) log(log_level::info, endpoint() + ": connected");
    last_read_ = clock::now();
    arm_health_check();
    if (push_ && push_->on_connected) push_->on_connected();
    unpark();
    co_return;
  } catch (...) {
    failure = std::current_exception();
  }
  if (state_ != state::closed) {
    state_ = state::disconnected;
    on_connection_lost("connect failed");
  }
  std::rethrow_exception(failure);
}

awaitable<void> connection_impl::open_and_handshake() {
  co_await open_socket();
  ++generation_;
  start_read();
  const request handshake = handshake_request();
  const auto replies = co_await async_submit(handshake, true, asio::use_awaitable);
  check_handshake(handshake, replies);
}

// Sentinels are asked in order; each node one names is tried until one connects and has the
// wanted ROLE. While a failover is under way a sentinel may name a node that is not promoted yet:
// when some sentinel named a node, the round is repeated after a pause, within connect_timeout,
// unless the node refused our credentials (waiting will not change them).
awaitable<void> connection_impl::connect_through_sentinels() {
  constexpr std::chrono::milliseconds pause_between_rounds{100};
  const auto deadline = clock::now() + config_.connect_timeout;
  std::vector<std::pair<host_port, std::string>> attempts;
  bool credentials_refused = false;
  asio::steady_timer pause(executor_);
  while (true) {
    attempts.clear();
    bool some_node_named = false;
    for (const host_port& sentinel : config_.sentinel.sentinels) {
      std::vector<host_port> nodes;
      try {
        nodes = co_await ask_sentinel(sentinel);
      } catch (const error& e) {
        attempts.emplace_back(sentinel, e.what());
      }
      some_node_named = some_node_named || !nodes.empty();
      for (const host_port& node : nodes) {
        if (state_ != state::connecting) throw connection_error(endpoint() + ": connection is closed");
        node_ = node;
        try {
          co_await open_and_handshake();
          co_return;
        } catch (const error& e) {
          credentials_refused = dynamic_cast<const authentication_error*>(&e) != nullptr;
          attempts.emplace_back(sentinel, "named " + to_string(node) + ": " + e.what());
        }
        drop_socket("connect failed");
      }
    }
    if (!some_node_named || credentials_refused || clock::now() + pause_between_rounds >= deadline) break;
    pause.expires_after(pause_between_rounds);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    if (state_ != state::connecting) throw connection_error(endpoint() + ": connection is closed");
  }
  node_ = {};
  const std::string message = resolution_failure(config_.sentinel, attempts);
  if (credentials_refused) throw authentication_error(message);
  throw connection_error(message);
}

// One question to one sentinel, on a short-lived connection with the sentinel settings.
awaitable<std::vector<host_port>> connection_impl::ask_sentinel(const host_port& sentinel) {
  auto side = std::make_shared<connection_impl>(executor_, sentinel_node_config(config_, sentinel));
  std::exception_ptr failure;
  std::vector<host_port> nodes;
  try {
    co_await side->connect();
    const request lookup = node_lookup_request(config_.sentinel);
    const auto replies = co_await side->async_submit(lookup, false, asio::use_awaitable);
    nodes = offered_nodes(config_.sentinel, replies.front());
  } catch (...) {
    failure = std::current_exception();
  }
  side->close();
  if (failure) std::rethrow_exception(failure);
  co_return nodes;
}

// A +switch-master event: a connection to the old primary reconnects through the sentinels now,
// rather than when the old primary fails or is demoted.
void connection_impl::follow_primary(const host_port& primary) {
  if (state_ != state::ready || !tracks_primary() || node_ == primary) return;
  on_connection_lost("the primary moved to " + to_string(primary) + " (+switch-master)");
}

awaitable<void> connection_impl::reconnect_loop() {
  auto delay = config_.reconnect_min_delay;
  std::size_t attempts = 0;
  while (state_ == state::disconnected) {
    // Full jitter: many clients reconnecting after one outage do not retry in lockstep.
    const auto wait = random_between(delay / 2, std::max(delay, std::chrono::milliseconds(1)));
    reconnect_timer_.expires_after(wait);
    co_await reconnect_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (state_ != state::disconnected) break;
    ++attempts;
    try {
      co_await connect();
      ++stats_.reconnects;
      log(log_level::info, endpoint() + ": reconnected after " + std::to_string(attempts) + " attempt(s)");
      break;
    } catch (const error& e) {
      log(log_level::warning, endpoint() + ": reconnect attempt " + std::to_string(attempts) + " failed: " + e.what());
      delay = std::min(delay * 2, config_.reconnect_max_delay);
    }
  }
  reconnecting_ = false;
  // Requests that waited for a connection that is closed for good now fail.
  if (state_ != state::ready)
    fail_parked(std::make_exception_ptr(connection_error(endpoint() + ": connection is closed")));
}

void connection_impl::close() {
  if (state_ == state::closed) return;
  state_ = state::closed;
  ++generation_;
  boost::system::error_code ignored;
  socket_.close(ignored);
  deadline_timer_.cancel();
  reconnect_timer_.cancel();
  health_timer_.cancel();
  fail_all("connection closed");
  fail_parked(std::make_exception_ptr(connection_error(endpoint() + ": connection closed")));
}

}  // namespace detail

connection::connection(executor_type executor, connection_config config)
    : impl_(std::make_shared<detail::connection_impl>(std::move(executor), std::move(config))) {}

connection::connection(executor_type executor, connection_config config, detail::push_handlers handlers)
    : impl_(std::make_shared<detail::connection_impl>(std::move(executor), std::move(config), std::move(handlers))) {}

connection::~connection() {
  if (impl_) impl_->close();
}

connection::connection(connection&&) noexcept = default;

connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    if (impl_) impl_->close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

awaitable<void> connection::connect() { return impl_->connect(); }

awaitable<std::vector<reply>> connection::execute(request req) {
  // The operation holds the implementation: the connection object may be moved from meanwhile.
  return detail::connection_impl::execute(impl_, std::move(req));
}

awaitable<reply> connection::execute_one(request req) {
  return detail::connection_impl::execute_one(impl_, std::move(req));
}

void connection::close() { impl_->close(); }
bool connection::is_connected() const noexcept { return impl_->is_connected(); }
std::size_t connection::load() const noexcept { return impl_->load(); }
std::size_t connection::reconnect_count() const noexcept { return impl_->reconnect_count(); }
connection_stats connection::stats() const noexcept { return impl_->stats(); }
void connection::send(const request& req) { impl_->send(req); }

connection_stats& connection_stats::operator+=(const connection_stats& other) noexcept {
  commands += other.commands;
  bytes_written += other.bytes_written;
  bytes_read += other.bytes_read;
  replies += other.replies;
  reconnects += other.reconnects;
  timeouts += other.timeouts;
  cancellations += other.cancellations;
  health_check_failures += other.health_check_failures;
  in_flight += other.in_flight;
  return *this;
}
const connection_config& connection::config() const noexcept { return impl_->config(); }
const host_port& connection::node_address() const noexcept { return impl_->node_address(); }
void connection::follow_primary(const host_port& primary) { impl_->follow_primary(primary); }
connection::executor_type connection::get_executor() const noexcept { return impl_->executor(); }

}  // namespace rapyer
