#include "fault_proxy.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace rapyer::test {

namespace asio = boost::asio;
using asio::ip::tcp;

struct fault_proxy::session {
  tcp::socket client;
  tcp::socket server;
  explicit session(const asio::any_io_executor& executor) : client(executor), server(executor) {}
  void close() {
    boost::system::error_code ignored;
    client.close(ignored);
    server.close(ignored);
  }
};

fault_proxy::fault_proxy(asio::any_io_executor executor, std::uint16_t upstream_port)
    : executor_(std::move(executor)), upstream_port_(upstream_port) {
  open_acceptor();
  start_accepting();
}

fault_proxy::~fault_proxy() {
  *alive_ = false;
  if (acceptor_) acceptor_->close();
  cut_all();
}

std::string fault_proxy::url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

void fault_proxy::open_acceptor() {
  acceptor_ = std::make_unique<tcp::acceptor>(executor_);
  const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port_);
  acceptor_->open(endpoint.protocol());
  acceptor_->set_option(tcp::acceptor::reuse_address(true));
  acceptor_->bind(endpoint);
  acceptor_->listen();
  port_ = acceptor_->local_endpoint().port();
}

void fault_proxy::start_accepting() {
  asio::co_spawn(
      executor_,
      [this, alive = alive_, acceptor = acceptor_.get()]() -> asio::awaitable<void> {
        for (;;) {
          auto s = std::make_shared<session>(executor_);
          auto [ec] = co_await acceptor->async_accept(s->client, asio::as_tuple(asio::use_awaitable));
          if (!*alive || ec) co_return;  // closed: refusing, or the proxy is gone
          ++accepted_;
          auto [connect_ec] = co_await s->server.async_connect(
              tcp::endpoint(asio::ip::address_v4::loopback(), upstream_port_), asio::as_tuple(asio::use_awaitable));
          if (!*alive) co_return;
          if (connect_ec) {
            s->close();
            continue;
          }
          std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
          sessions_.push_back(s);
          forward(s, direction::to_server);
          forward(s, direction::to_client);
        }
      },
      asio::detached);
}

void fault_proxy::forward(std::shared_ptr<session> s, direction dir) {
  asio::co_spawn(
      executor_,
      [this, alive = alive_, s, dir]() -> asio::awaitable<void> {
        tcp::socket& from = dir == direction::to_server ? s->client : s->server;
        tcp::socket& to = dir == direction::to_server ? s->server : s->client;
        std::array<char, 16 * 1024> buffer{};
        asio::steady_timer timer(executor_);
        for (;;) {
          auto [read_ec, n] = co_await from.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
          if (!*alive) co_return;
          if (read_ec) break;
          if (delay_.count() > 0) {
            timer.expires_after(delay_);
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
          }
          while (*alive && stalled_ && from.is_open()) {
            timer.expires_after(std::chrono::milliseconds(2));
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
          }
          if (!*alive) co_return;
          bool cut_now = false;
          if (cut_plan_ && cut_plan_->dir == dir) {
            n = std::min(n, cut_plan_->remaining);
            cut_plan_->remaining -= n;
            cut_now = cut_plan_->remaining == 0;
          }
          auto [write_ec, written] =
              co_await asio::async_write(to, asio::buffer(buffer.data(), n), asio::as_tuple(asio::use_awaitable));
          if (!*alive) co_return;
          if (cut_now) {
            cut_plan_.reset();
            cut_all();
            co_return;
          }
          if (write_ec) break;
        }
        s->close();  // one side ended: end the other, as a TCP connection through a middlebox would
      },
      asio::detached);
}

void fault_proxy::cut_after(direction dir, std::size_t bytes) {
  if (bytes == 0) {
    cut_all();
    return;
  }
  cut_plan_ = cut_plan{dir, bytes};
}

void fault_proxy::cut_all() {
  for (const auto& w : sessions_) {
    if (auto s = w.lock(); s && s->client.is_open()) {
      s->close();
      ++cut_;
    }
  }
  sessions_.clear();
}

void fault_proxy::set_refusing(bool refusing) {
  if (refusing == refusing_) return;
  refusing_ = refusing;
  if (refusing) {
    acceptor_->close();
    cut_all();
  } else {
    open_acceptor();
    start_accepting();
  }
}

}  // namespace rapyer::test
