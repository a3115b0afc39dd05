#include "rapyer/connection.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
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
#include <optional>

#include "rapyer/detail/pipeline.hpp"
#include "rapyer/detail/random.hpp"
#include "rapyer/error.hpp"

namespace rapyer {
namespace detail {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;
using reply_signature = void(std::exception_ptr, std::vector<reply>);
using socket_type = asio::generic::stream_protocol::socket;
using tls_stream = asio::ssl::stream<socket_type&>;

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

struct waiter {
  asio::any_completion_handler<reply_signature> handler;  // empty once the caller timed out
  clock::time_point deadline;
};

class connection_impl : public std::enable_shared_from_this<connection_impl> {
 public:
  connection_impl(asio::any_io_executor executor, connection_config config)
      : executor_(std::move(executor)),
        config_(std::move(config)),
        socket_(executor_),
        tls_context_(make_tls_context(config_)),
        deadline_timer_(executor_),
        reconnect_timer_(executor_) {}

  awaitable<void> connect();
  void close();

  // The request must outlive the initiation, which runs when the caller suspends on the result.
  template <class Token>
  auto async_submit(const request& req, bool handshake, Token&& token) {
    return asio::async_initiate<Token, reply_signature>(
        [this](auto handler, const request* r, bool hs) { submit(*r, std::move(handler), hs); }, token, &req,
        handshake);
  }

  bool is_connected() const noexcept { return state_ == state::ready; }
  std::size_t load() const noexcept { return pipeline_.awaiting(); }
  std::size_t reconnect_count() const noexcept { return reconnects_; }
  const connection_config& config() const noexcept { return config_; }
  const asio::any_io_executor& executor() const noexcept { return executor_; }

 private:
  enum class state { disconnected, connecting, ready, closed };

  void submit(const request& req, asio::any_completion_handler<reply_signature> handler, bool handshake);
  void start_write();
  void on_written(std::uint64_t generation, boost::system::error_code ec);
  void start_read();
  void on_read(std::uint64_t generation, boost::system::error_code ec, std::size_t n);
  void arm_deadline_timer(clock::time_point deadline);
  void on_deadline();
  void on_connection_lost(const std::string& reason);
  void fail_all(const std::string& reason);
  awaitable<void> open_socket();
  awaitable<void> start_tls(asio::steady_timer& timer);
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
  void check_handshake(const request& req, const std::vector<reply>& replies) const;
  awaitable<void> reconnect_loop();

  void complete(asio::any_completion_handler<reply_signature>&& handler, std::exception_ptr error,
                std::vector<reply> replies = {}) {
    // Posted, never invoked inline: the caller resumes after the read loop is done with our state.
    // The posted step then dispatches to the handler's own executor.
    asio::post(executor_, [h = std::move(handler), e = std::move(error), r = std::move(replies)]() mutable {
      asio::dispatch(asio::append(std::move(h), std::move(e), std::move(r)));
    });
  }

  asio::any_io_executor executor_;
  connection_config config_;
  socket_type socket_;
  std::optional<asio::ssl::context> tls_context_;
  // Over socket_, renewed for every TLS connection; pending operations hold it until they finish.
  std::shared_ptr<tls_stream> tls_stream_;
  asio::steady_timer deadline_timer_;
  asio::steady_timer reconnect_timer_;
  bool deadline_timer_armed_ = false;
  pipeline<waiter> pipeline_;
  std::array<char, std::size_t{64} * 1024> read_buffer_{};
  state state_ = state::disconnected;
  std::uint64_t generation_ = 0;  // bumped per socket, so callbacks of an old socket are ignored
  std::size_t reconnects_ = 0;
};

void connection_impl::submit(const request& req, asio::any_completion_handler<reply_signature> handler,
                             bool handshake) {
  const bool accepting = state_ == state::ready || (handshake && state_ == state::connecting);
  if (!accepting) {
    const char* why = state_ == state::closed ? "connection is closed" : "not connected (reconnecting)";
    complete(std::move(handler), std::make_exception_ptr(connection_error(config_.endpoint() + ": " + why)));
    return;
  }
  if (req.empty()) {
    complete(std::move(handler), nullptr);
    return;
  }
  const auto timeout = handshake ? config_.connect_timeout : config_.command_timeout;
  const auto deadline = timeout.count() > 0 ? clock::now() + timeout : clock::time_point::max();
  pipeline_.stage(req, waiter{std::move(handler), deadline});
  if (deadline != clock::time_point::max()) arm_deadline_timer(deadline);
  if (!pipeline_.writing()) start_write();
}

void connection_impl::start_write() {
  const std::string_view bytes = pipeline_.start_write();
  // The handlers hold the TLS stream (if any) so that it outlives its pending operations.
  with_stream([&](auto& stream) {
    asio::async_write(stream, asio::buffer(bytes.data(), bytes.size()),
                      [self = shared_from_this(), generation = generation_, tls = tls_stream_](
                          boost::system::error_code ec, std::size_t) { self->on_written(generation, ec); });
  });
}

void connection_impl::on_written(std::uint64_t generation, boost::system::error_code ec) {
  if (generation != generation_) return;
  if (ec) return on_connection_lost("write failed: " + ec.message());
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
  try {
    pipeline_.feed(std::string_view(read_buffer_.data(), n), [this](waiter&& w, std::vector<reply>&& r) {
      if (w.handler) complete(std::move(w.handler), nullptr, std::move(r));
    });
  } catch (const protocol_error& e) {
    return on_connection_lost(e.what());
  }
  start_read();
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
  pipeline_.for_each_waiter([&](waiter& w) {
    if (!w.handler) return;
    if (w.deadline <= now) {
      // The reply may still arrive; its entry stays queued so it is consumed, then discarded.
      complete(std::move(w.handler),
               std::make_exception_ptr(timeout_error(config_.endpoint() + ": no reply within the command timeout")));
      w.handler = {};
    } else {
      next = std::min(next, w.deadline);
    }
  });
  if (next != clock::time_point::max()) arm_deadline_timer(next);
}

void connection_impl::fail_all(const std::string& reason) {
  const auto error = std::make_exception_ptr(connection_error(config_.endpoint() + ": " + reason));
  pipeline_.fail_all([&](waiter&& w) {
    if (w.handler) complete(std::move(w.handler), error);
  });
}

void connection_impl::on_connection_lost(const std::string& reason) {
  const bool was_ready = state_ == state::ready;
  ++generation_;
  boost::system::error_code ignored;
  socket_.close(ignored);
  if (state_ != state::closed) state_ = state::disconnected;
  fail_all(reason);
  if (was_ready && config_.auto_reconnect) {
    asio::co_spawn(
        executor_, [self = shared_from_this()] { return self->reconnect_loop(); }, asio::detached);
  }
}

awaitable<void> connection_impl::open_socket() {
  asio::steady_timer timer(executor_);
  timer.expires_after(config_.connect_timeout);
  const auto timed_out = [&] { return timeout_error(config_.endpoint() + ": connect timed out"); };
  if (!config_.unix_socket.empty()) {
    socket_ = socket_type(executor_);
    auto result = co_await (socket_.async_connect(asio::local::stream_protocol::endpoint(config_.unix_socket),
                                                  asio::as_tuple(asio::use_awaitable)) ||
                            timer.async_wait(asio::use_awaitable));
    if (result.index() == 1) throw timed_out();
    if (auto [ec] = std::get<0>(result); ec)
      throw connection_error("cannot connect to " + config_.endpoint() + ": " + ec.message());
    co_return;
  }
  tls_stream_.reset();
  asio::ip::tcp::resolver resolver(executor_);
  auto resolved = co_await (
      resolver.async_resolve(config_.host, std::to_string(config_.port), asio::as_tuple(asio::use_awaitable)) ||
      timer.async_wait(asio::use_awaitable));
  if (resolved.index() == 1) throw timed_out();
  auto [resolve_ec, endpoints] = std::get<0>(std::move(resolved));
  if (resolve_ec) throw connection_error("cannot resolve " + config_.endpoint() + ": " + resolve_ec.message());
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
      if (tls_context_) co_await start_tls(timer);
      co_return;
    }
  }
  throw connection_error("cannot connect to " + config_.endpoint() + ": " + last_error.message());
}

awaitable<void> connection_impl::start_tls(asio::steady_timer& timer) {
  tls_stream_ = std::make_shared<tls_stream>(socket_, *tls_context_);
  const std::string& name = config_.tls.server_name.empty() ? config_.host : config_.tls.server_name;
  boost::system::error_code not_an_address;
  (void)asio::ip::make_address(name, not_an_address);
  // SNI carries host names only; the certificate check covers names and IP addresses alike.
  if (not_an_address && !SSL_set_tlsext_host_name(tls_stream_->native_handle(), name.c_str())) {
    throw tls_error(config_.endpoint() + ": cannot set the TLS server name");
  }
  if (config_.tls.verify_peer) tls_stream_->set_verify_callback(asio::ssl::host_name_verification(name));
  auto result =
      co_await (tls_stream_->async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable)) ||
                timer.async_wait(asio::use_awaitable));
  if (result.index() == 1)
    throw timeout_error(config_.endpoint() + ": TLS handshake timed out (does the port speak TLS?)");
  if (auto [ec] = std::get<0>(result); ec) {
    throw tls_error(config_.endpoint() + ": TLS handshake failed: " + ec.message());
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
  req.push("PING");  // reveals NOAUTH when the server wants a password we did not send
  return req;
}

void connection_impl::check_handshake(const request& req, const std::vector<reply>& replies) const {
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (!replies[i].is_error()) continue;
    const std::string& message = replies[i].error_message();
    const std::string& command = req.command_name(i);
    // Redis's AUTH errors never echo the credentials, so its message is safe to pass on.
    if (command == "AUTH" || message.starts_with("NOAUTH") || message.starts_with("WRONGPASS")) {
      throw authentication_error(config_.endpoint() + ": authentication failed: " + message);
    }
    throw connection_error(config_.endpoint() + ": " + command + " failed during connect: " + message);
  }
}

awaitable<void> connection_impl::connect() {
  if (state_ == state::ready) co_return;
  if (state_ == state::closed) throw connection_error(config_.endpoint() + ": connection is closed");
  if (state_ == state::connecting) throw connection_error(config_.endpoint() + ": connect already in progress");
  state_ = state::connecting;
  auto self = shared_from_this();  // keeps the state alive if the handle goes away meanwhile
  std::exception_ptr failure;
  try {
    co_await open_socket();
    ++generation_;
    start_read();
    const request handshake = handshake_request();
    const auto replies = co_await async_submit(handshake, true, asio::use_awaitable);
    check_handshake(handshake, replies);
    if (state_ != state::connecting) throw connection_error(config_.endpoint() + ": connection is closed");
    state_ = state::ready;
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

awaitable<void> connection_impl::reconnect_loop() {
  auto delay = config_.reconnect_min_delay;
  while (state_ == state::disconnected) {
    // Full jitter: many clients reconnecting after one outage do not retry in lockstep.
    const auto wait = random_between(delay / 2, std::max(delay, std::chrono::milliseconds(1)));
    reconnect_timer_.expires_after(wait);
    co_await reconnect_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (state_ != state::disconnected) co_return;
    try {
      co_await connect();
      ++reconnects_;
      co_return;
    } catch (const error&) {
      delay = std::min(delay * 2, config_.reconnect_max_delay);
    }
  }
}

void connection_impl::close() {
  if (state_ == state::closed) return;
  state_ = state::closed;
  ++generation_;
  boost::system::error_code ignored;
  socket_.close(ignored);
  deadline_timer_.cancel();
  reconnect_timer_.cancel();
  fail_all("connection closed");
}

}  // namespace detail

connection::connection(executor_type executor, connection_config config)
    : impl_(std::make_shared<detail::connection_impl>(std::move(executor), std::move(config))) {}

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
  auto impl = impl_;  // the connection object may be moved from while we wait
  co_return co_await impl->async_submit(req, false, boost::asio::use_awaitable);
}

awaitable<reply> connection::execute_one(request req) {
  auto impl = impl_;
  auto replies = co_await impl->async_submit(req, false, boost::asio::use_awaitable);
  reply result = std::move(replies.front());
  result.throw_if_error(req.command_name(0));
  co_return result;
}

void connection::close() { impl_->close(); }
bool connection::is_connected() const noexcept { return impl_->is_connected(); }
std::size_t connection::load() const noexcept { return impl_->load(); }
std::size_t connection::reconnect_count() const noexcept { return impl_->reconnect_count(); }
const connection_config& connection::config() const noexcept { return impl_->config(); }
connection::executor_type connection::get_executor() const noexcept { return impl_->executor(); }

}  // namespace rapyer
