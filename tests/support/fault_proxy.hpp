// A loopback TCP proxy for fault-injection tests, between rapyer and redis-server, running on the
// test's own executor. It forwards bytes both ways and, on request, delays them, holds them
// (stall), cuts every connection after a given number of bytes (mid-request or mid-reply), or
// refuses connections altogether (its listening socket closed, as a server that is down).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rapyer::test {

enum class direction { to_server, to_client };

class fault_proxy {
 public:
  /// Listens on a free loopback port and forwards to 127.0.0.1:upstream_port.
  fault_proxy(boost::asio::any_io_executor executor, std::uint16_t upstream_port);
  ~fault_proxy();
  fault_proxy(const fault_proxy&) = delete;
  fault_proxy& operator=(const fault_proxy&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  /// redis://127.0.0.1:<proxy port>
  std::string url() const;

  /// Every chunk waits this long before it is forwarded (zero: none).
  void set_delay(std::chrono::milliseconds delay) { delay_ = delay; }
  /// While stalled, bytes read are held and forwarded only after the stall ends.
  void set_stalled(bool stalled) { stalled_ = stalled; }
  /// Forwards `bytes` more bytes in `dir` (summed over connections), then cuts every connection.
  void cut_after(direction dir, std::size_t bytes);
  /// Closes every connection now.
  void cut_all();
  /// While refusing, the listening socket is closed (connects fail with "connection refused")
  /// and every connection is cut; afterwards it listens again on the same port.
  void set_refusing(bool refusing);

  std::size_t connections_accepted() const noexcept { return accepted_; }
  std::size_t connections_cut() const noexcept { return cut_; }

 private:
  struct session;
  void open_acceptor();
  void start_accepting();
  void forward(std::shared_ptr<session> s, direction dir);

  boost::asio::any_io_executor executor_;
  std::uint16_t upstream_port_;
  std::uint16_t port_ = 0;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::vector<std::weak_ptr<session>> sessions_;
  std::chrono::milliseconds delay_{0};
  bool stalled_ = false;
  bool refusing_ = false;
  struct cut_plan {
    direction dir;
    std::size_t remaining;
  };
  std::optional<cut_plan> cut_plan_;
  std::size_t accepted_ = 0;
  std::size_t cut_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // coroutines stop once it is false
};

}  // namespace rapyer::test
