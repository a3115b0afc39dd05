#include "rapyer/config.hpp"

#include <charconv>

#include "rapyer/error.hpp"

namespace rapyer {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) throw config_error("bad percent-encoding in URL credentials");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

template <class Int>
Int parse_number(std::string_view text, std::string_view what) {
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
    throw config_error("invalid " + std::string(what) + " in Redis URL: '" + std::string(text) + "'");
  }
  return value;
}

int parse_database(std::string_view text) {
  const int db = parse_number<int>(text, "database number");
  if (db < 0) throw config_error("invalid database number in Redis URL: '" + std::string(text) + "'");
  return db;
}

// Applies `name=value&…` parameters; which names are allowed depends on the scheme.
void apply_query(connection_config& cfg, std::string_view params, bool unix_socket) {
  while (!params.empty()) {
    const auto amp = params.find('&');
    const std::string_view param = params.substr(0, amp);
    params = amp == std::string_view::npos ? std::string_view{} : params.substr(amp + 1);
    const auto eq = param.find('=');
    const std::string_view name = param.substr(0, eq);
    const std::string value = percent_decode(eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1));
    const bool tls = cfg.tls.enabled;
    if (name == "db") {
      cfg.database = parse_database(value);
    } else if (unix_socket && name == "user") {
      cfg.username = value;
    } else if (unix_socket && name == "password") {
      cfg.password = value;
    } else if (tls && name == "ssl_ca_certs") {
      cfg.tls.ca_file = value;
    } else if (tls && name == "ssl_certfile") {
      cfg.tls.cert_file = value;
    } else if (tls && name == "ssl_keyfile") {
      cfg.tls.key_file = value;
    } else if (tls && name == "ssl_server_hostname") {
      cfg.tls.server_name = value;
    } else if (tls && name == "ssl_cert_reqs") {
      if (value != "none" && value != "required") {
        throw config_error("ssl_cert_reqs must be none or required, not '" + value + "'");
      }
      cfg.tls.verify_peer = value == "required";
    } else {
      throw config_error("unknown parameter in Redis URL: '" + std::string(name) + "'" +
                         (name.starts_with("ssl_") ? " (TLS parameters need a rediss:// URL)" : ""));
    }
  }
}

}  // namespace

connection_config connection_config::from_url(std::string_view url) {
  connection_config cfg;
  constexpr std::string_view redis_scheme = "redis://";
  constexpr std::string_view tls_scheme = "rediss://";
  constexpr std::string_view unix_scheme = "unix://";
  const auto split_query = [](std::string_view& rest) {
    const auto query = rest.find('?');
    const std::string_view params = query == std::string_view::npos ? std::string_view{} : rest.substr(query + 1);
    rest = rest.substr(0, query);
    return params;
  };
  if (url.starts_with(unix_scheme)) {
    std::string_view path = url.substr(unix_scheme.size());
    const std::string_view params = split_query(path);
    if (path.empty() || path.front() != '/')
      throw config_error("unix URL needs an absolute socket path: unix:///path/to.sock");
    cfg.unix_socket = std::string(path);
    apply_query(cfg, params, true);
    return cfg;
  }
  std::string_view rest;
  if (url.starts_with(redis_scheme)) {
    rest = url.substr(redis_scheme.size());
  } else if (url.starts_with(tls_scheme)) {
    rest = url.substr(tls_scheme.size());
    cfg.tls.enabled = true;
  } else {
    throw config_error("Redis URL must start with redis://, rediss:// or unix://");
  }
  const std::string_view params = split_query(rest);
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) cfg.database = parse_database(db);
  }
  const auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view credentials = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto colon = credentials.find(':');
    if (colon == std::string_view::npos) {
      // redis://password@host is the common legacy form; redis://user:@host names a user only.
      cfg.password = percent_decode(credentials);
    } else {
      cfg.username = percent_decode(credentials.substr(0, colon));
      cfg.password = percent_decode(credentials.substr(colon + 1));
    }
  }
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {  // IPv6 literal
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw config_error("unterminated IPv6 address in Redis URL");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw config_error("invalid text after IPv6 address in Redis URL");
      cfg.port = parse_number<std::uint16_t>(after.substr(1), "port");
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    cfg.port = parse_number<std::uint16_t>(authority.substr(colon + 1), "port");
  }
  if (!host.empty()) cfg.host = std::string(host);
  apply_query(cfg, params, false);
  return cfg;
}

std::string connection_config::endpoint() const {
  if (!unix_socket.empty()) return "unix:" + unix_socket;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace rapyer
