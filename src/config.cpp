#include "rapyer/config.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

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
    if (hi < 0 || lo < 0) throw config_error("bad percent-encoding in Redis URL");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

[[noreturn]] void throw_invalid(std::string_view what, std::string_view text, std::string_view expected = {}) {
  throw config_error("invalid " + std::string(what) + " in Redis URL: '" + std::string(text) + "'" +
                     (expected.empty() ? "" : " (" + std::string(expected) + ")"));
}

// The whole of `text` as a number, or nothing.
template <class Int>
std::optional<Int> to_number(std::string_view text) {
  Int value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

template <class Int>
Int parse_number(std::string_view text, std::string_view what, std::string_view expected = {}) {
  const auto value = to_number<Int>(text);
  if (!value) throw_invalid(what, text, expected);
  return *value;
}

int parse_non_negative(std::string_view text, std::string_view what) {
  constexpr std::string_view expected = "a whole number, at least 0";
  const int value = parse_number<int>(text, what, expected);
  if (value < 0) throw_invalid(what, text, expected);
  return value;
}

std::size_t parse_positive(std::string_view text, std::string_view what) {
  constexpr std::string_view expected = "a whole number, at least 1";
  const auto value = parse_number<std::size_t>(text, what, expected);
  if (value == 0) throw_invalid(what, text, expected);
  return value;
}

// A plain number is milliseconds; "250ms" and "5s" name their unit.
std::chrono::milliseconds parse_duration(std::string_view text, std::string_view what) {
  constexpr std::string_view expected = "milliseconds, or a whole number followed by ms or s";
  std::int64_t scale = 1;
  std::string_view digits = text;
  if (digits.ends_with("ms")) {
    digits.remove_suffix(2);
  } else if (digits.ends_with('s')) {
    digits.remove_suffix(1);
    scale = 1000;
  }
  // Unsigned, so that a sign is malformed rather than a negative duration. The bound keeps
  // deadlines computed from it on the steady clock (nanoseconds) from overflowing.
  constexpr auto longest =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::duration::max()).count() / 4;
  const auto count = to_number<std::uint64_t>(digits);
  if (!count || *count > static_cast<std::uint64_t>(longest / scale)) {
    throw_invalid(what, text, expected);
  }
  return std::chrono::milliseconds{static_cast<std::int64_t>(*count) * scale};
}

bool parse_bool(std::string_view text, std::string_view what) {
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  throw_invalid(what, text, "true, false, 1, 0, yes or no");
}

std::string parse_text(std::string_view text, std::string_view /*what*/) { return std::string(text); }

// redis-py's ssl_cert_reqs: whether the server's certificate is verified.
bool parse_cert_reqs(std::string_view text, std::string_view what) {
  if (text != "none" && text != "required") throw_invalid(what, text, "none or required");
  return text == "required";
}

// Where a URL parameter is accepted.
enum class option_scope {
  any_url,       // every scheme, connection_config::from_url included
  unix_url,      // unix:// only: the other schemes carry credentials before the host
  tls_url,       // rediss:// and rediss-sentinel:// only
  sentinel_url,  // redis-sentinel:// and rediss-sentinel:// only
  client_url,    // every scheme, but only client_config::from_url: it sets up the client's pool
};

using option_setter = void (*)(client_config& cfg, std::string_view name, std::string_view value);

template <auto member, auto parse>
void set_connection(client_config& cfg, std::string_view name, std::string_view value) {
  cfg.connection.*member = parse(value, name);
}

template <auto member, auto parse>
void set_tls(client_config& cfg, std::string_view name, std::string_view value) {
  cfg.connection.tls.*member = parse(value, name);
}

template <auto member, auto parse>
void set_sentinel(client_config& cfg, std::string_view name, std::string_view value) {
  cfg.connection.sentinel.*member = parse(value, name);
}

template <auto member, auto parse>
void set_client(client_config& cfg, std::string_view name, std::string_view value) {
  cfg.*member = parse(value, name);
}

template <auto member, auto parse>
void set_cluster(client_config& cfg, std::string_view name, std::string_view value) {
  cfg.cluster.*member = parse(value, name);
}

struct url_option {
  std::string_view name;
  option_scope scope;
  option_setter apply;
};

// Every parameter a Redis URL may carry; the ssl_* names are redis-py's.
constexpr url_option url_options[] = {
    {"db", option_scope::any_url, set_connection<&connection_config::database, parse_non_negative>},
    {"user", option_scope::unix_url, set_connection<&connection_config::username, parse_text>},
    {"password", option_scope::unix_url, set_connection<&connection_config::password, parse_text>},
    {"client_name", option_scope::any_url, set_connection<&connection_config::client_name, parse_text>},
    {"connect_timeout", option_scope::any_url, set_connection<&connection_config::connect_timeout, parse_duration>},
    {"command_timeout", option_scope::any_url, set_connection<&connection_config::command_timeout, parse_duration>},
    {"health_check_interval", option_scope::any_url,
     set_connection<&connection_config::health_check_interval, parse_duration>},
    {"auto_reconnect", option_scope::any_url, set_connection<&connection_config::auto_reconnect, parse_bool>},
    {"reconnect_min_delay", option_scope::any_url,
     set_connection<&connection_config::reconnect_min_delay, parse_duration>},
    {"reconnect_max_delay", option_scope::any_url,
     set_connection<&connection_config::reconnect_max_delay, parse_duration>},
    {"wait_for_reconnect", option_scope::any_url, set_connection<&connection_config::wait_for_reconnect, parse_bool>},
    {"tcp_keepalive", option_scope::any_url, set_connection<&connection_config::tcp_keepalive, parse_bool>},
    {"ssl_ca_certs", option_scope::tls_url, set_tls<&tls_config::ca_file, parse_text>},
    {"ssl_certfile", option_scope::tls_url, set_tls<&tls_config::cert_file, parse_text>},
    {"ssl_keyfile", option_scope::tls_url, set_tls<&tls_config::key_file, parse_text>},
    {"ssl_server_hostname", option_scope::tls_url, set_tls<&tls_config::server_name, parse_text>},
    {"ssl_cert_reqs", option_scope::tls_url, set_tls<&tls_config::verify_peer, parse_cert_reqs>},
    {"sentinel_username", option_scope::sentinel_url, set_sentinel<&sentinel_config::username, parse_text>},
    {"sentinel_password", option_scope::sentinel_url, set_sentinel<&sentinel_config::password, parse_text>},
    {"read_from_replica", option_scope::sentinel_url, set_sentinel<&sentinel_config::read_from_replica, parse_bool>},
    {"pool_size", option_scope::client_url, set_client<&client_config::pool_size, parse_positive>},
    {"max_leases", option_scope::client_url, set_client<&client_config::max_leases, parse_positive>},
    {"lease_wait_timeout", option_scope::client_url, set_client<&client_config::lease_wait_timeout, parse_duration>},
    {"lease_idle_timeout", option_scope::client_url, set_client<&client_config::lease_idle_timeout, parse_duration>},
    {"wait_replicas", option_scope::client_url, set_client<&client_config::wait_replicas, parse_non_negative>},
    {"wait_timeout", option_scope::client_url, set_client<&client_config::wait_timeout, parse_duration>},
    {"cluster_max_redirects", option_scope::client_url,
     set_cluster<&cluster_config::max_redirects, parse_non_negative>},
    {"cluster_refresh_interval", option_scope::client_url,
     set_cluster<&cluster_config::refresh_interval, parse_duration>},
    {"read_from_replicas", option_scope::client_url, set_cluster<&cluster_config::read_from_replicas, parse_bool>},
};

// Which config the URL is parsed for: connection_config::from_url has no pool to size.
enum class url_target { connection, client };

void check_scope(const url_option& option, const connection_config& cfg, url_target target) {
  const std::string name(option.name);
  switch (option.scope) {
    case option_scope::any_url:
      return;
    case option_scope::unix_url:
      if (cfg.unix_socket.empty()) {
        throw config_error("parameter '" + name + "' is for unix:// URLs; other URLs give it before the host");
      }
      return;
    case option_scope::tls_url:
      if (!cfg.tls.enabled)
        throw config_error("parameter '" + name + "' needs a rediss:// or rediss-sentinel:// URL (TLS)");
      return;
    case option_scope::sentinel_url:
      if (!cfg.sentinel.enabled()) throw config_error("parameter '" + name + "' needs a redis-sentinel:// URL");
      return;
    case option_scope::client_url:
      if (target != url_target::client) {
        throw config_error("parameter '" + name + "' is a client option: use client_config::from_url");
      }
      return;
  }
}

// Applies `name=value&…` parameters; the scheme and the authority are parsed already.
void apply_query(client_config& cfg, std::string_view params, url_target target) {
  while (!params.empty()) {
    const auto amp = params.find('&');
    const std::string_view param = params.substr(0, amp);
    params = amp == std::string_view::npos ? std::string_view{} : params.substr(amp + 1);
    const auto eq = param.find('=');
    const std::string_view name = param.substr(0, eq);
    const auto* option = std::find_if(std::begin(url_options), std::end(url_options),
                                      [&](const url_option& o) { return o.name == name; });
    if (option == std::end(url_options)) {
      throw config_error("unknown parameter in Redis URL: '" + std::string(name) + "'");
    }
    check_scope(*option, cfg.connection, target);
    option->apply(cfg, name, percent_decode(eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1)));
  }
}

// One `host[:port]` or `[ipv6][:port]`; what it leaves out keeps its default.
host_port parse_host_port(std::string_view text, host_port address) {
  std::string_view host = text;
  if (!text.empty() && text.front() == '[') {  // IPv6 literal
    const auto close = text.find(']');
    if (close == std::string_view::npos) throw config_error("unterminated IPv6 address in Redis URL");
    host = text.substr(1, close - 1);
    const std::string_view after = text.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw config_error("invalid text after IPv6 address in Redis URL");
      address.port = parse_number<std::uint16_t>(after.substr(1), "port");
    }
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    address.port = parse_number<std::uint16_t>(text.substr(colon + 1), "port");
  }
  if (!host.empty()) address.host = std::string(host);
  return address;
}

// `host[:port][,host[:port]…]`. A lone host may be empty (the default host); in a list, none.
std::vector<host_port> parse_host_list(std::string_view text, const host_port& defaults) {
  std::vector<host_port> hosts;
  const bool single = text.find(',') == std::string_view::npos;
  while (true) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    if (item.empty() && !single) throw config_error("empty host in the Redis URL's host list");
    hosts.push_back(parse_host_port(item, defaults));
    if (comma == std::string_view::npos) return hosts;
    text = text.substr(comma + 1);
  }
}

// `[user[:password]@]hosts`: sets the credentials, returns the hosts' text.
std::string_view parse_credentials(std::string_view authority, connection_config& cfg) {
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) return authority;
  const std::string_view credentials = authority.substr(0, at);
  const auto colon = credentials.find(':');
  if (colon == std::string_view::npos) {
    // redis://password@host is the common legacy form; redis://user:@host names a user only.
    cfg.password = percent_decode(credentials);
  } else {
    cfg.username = percent_decode(credentials.substr(0, colon));
    cfg.password = percent_decode(credentials.substr(colon + 1));
  }
  return authority.substr(at + 1);
}

enum class url_kind { tcp, unix_socket, sentinel };

struct url_scheme {
  std::string_view prefix;
  url_kind kind;
  bool tls;
};

constexpr url_scheme url_schemes[] = {
    {"redis://", url_kind::tcp, false},
    {"rediss://", url_kind::tcp, true},
    {"unix://", url_kind::unix_socket, false},
    {"redis-sentinel://", url_kind::sentinel, false},
    {"rediss-sentinel://", url_kind::sentinel, true},
};

constexpr std::uint16_t default_sentinel_port = 26379;

client_config parse_url(std::string_view url, url_target target) {
  client_config cfg;
  connection_config& connection = cfg.connection;
  const auto* scheme = std::find_if(std::begin(url_schemes), std::end(url_schemes),
                                    [&](const url_scheme& s) { return url.starts_with(s.prefix); });
  if (scheme == std::end(url_schemes)) {
    throw config_error(
        "Redis URL must start with redis://, rediss://, unix://, redis-sentinel:// or rediss-sentinel://");
  }
  std::string_view rest = url.substr(scheme->prefix.size());
  connection.tls.enabled = scheme->tls;
  const auto hash = rest.find('#');
  if (scheme->kind == url_kind::sentinel) {
    if (hash == std::string_view::npos || hash + 1 == rest.size()) {
      throw config_error("redis-sentinel:// URL needs the master's name at its end: …#mymaster");
    }
    connection.sentinel.master_name = percent_decode(rest.substr(hash + 1));
  } else if (hash != std::string_view::npos) {
    throw config_error("a #master name belongs to redis-sentinel:// URLs only");
  }
  rest = rest.substr(0, hash);
  const auto query = rest.find('?');
  const std::string_view params = query == std::string_view::npos ? std::string_view{} : rest.substr(query + 1);
  rest = rest.substr(0, query);
  if (scheme->kind == url_kind::unix_socket) {
    if (rest.empty() || rest.front() != '/') {
      throw config_error("unix URL needs an absolute socket path: unix:///path/to.sock");
    }
    connection.unix_socket = std::string(rest);
  } else {
    const auto slash = rest.find('/');
    const std::string_view hosts = parse_credentials(rest.substr(0, slash), connection);
    if (scheme->kind == url_kind::sentinel) {
      if (hosts.empty()) throw config_error("redis-sentinel:// URL names no sentinel");
      connection.sentinel.sentinels = parse_host_list(hosts, host_port{"127.0.0.1", default_sentinel_port});
    } else {
      auto nodes = parse_host_list(hosts, host_port{connection.host, connection.port});
      connection.host = nodes.front().host;
      connection.port = nodes.front().port;
      connection.seeds.assign(nodes.begin() + 1, nodes.end());
    }
    if (slash != std::string_view::npos && slash + 1 < rest.size()) {
      connection.database = parse_non_negative(rest.substr(slash + 1), "database number");
    }
  }
  apply_query(cfg, params, target);
  // rediss-sentinel:// speaks TLS, with the same settings, to the sentinels and the data nodes.
  if (scheme->kind == url_kind::sentinel) connection.sentinel.tls = connection.tls;
  return cfg;
}

}  // namespace

connection_config connection_config::from_url(std::string_view url) {
  return parse_url(url, url_target::connection).connection;
}

client_config client_config::from_url(std::string_view url) { return parse_url(url, url_target::client); }

std::string to_string(const host_port& address) {
  if (address.host.find(':') != std::string::npos) return "[" + address.host + "]:" + std::to_string(address.port);
  return address.host + ":" + std::to_string(address.port);
}

std::string connection_config::endpoint() const {
  if (sentinel.enabled()) {
    std::string text = "sentinel " + sentinel.master_name + " (";
    for (const auto& address : sentinel.sentinels) {
      if (&address != &sentinel.sentinels.front()) text += ',';
      text += to_string(address);
    }
    return text + ")";
  }
  if (!unix_socket.empty()) return "unix:" + unix_socket;
  return to_string(host_port{host, port});
}

}  // namespace rapyer
