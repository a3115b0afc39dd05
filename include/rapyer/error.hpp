// Exception hierarchy: every failure rapyer reports derives from rapyer::error.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace rapyer {

/// Base of every exception thrown by rapyer.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The connection could not be established, was lost, or is not connected now.
class connection_error : public error {
 public:
  using error::error;
};

/// The request was not sent: its connection was down (reconnecting without waiting, or closed).
/// Unlike other connection errors it is safe to retry.
class not_connected : public connection_error {
 public:
  using connection_error::connection_error;
};

/// The server rejected the credentials (wrong password, unknown user, NOAUTH).
/// The message never contains the credentials themselves.
class authentication_error : public connection_error {
 public:
  using connection_error::connection_error;
};

/// The TLS handshake failed: the certificate did not verify, did not name the server, the server
/// wanted a client certificate, or the peer does not speak TLS. The message carries OpenSSL's reason.
class tls_error : public connection_error {
 public:
  using connection_error::connection_error;
};

/// An operation did not complete within its configured time.
class timeout_error : public error {
 public:
  using error::error;
};

/// lease() found max_leases connections in use and none came back within lease_wait_timeout.
class pool_exhausted : public timeout_error {
 public:
  using timeout_error::timeout_error;
};

/// The bytes received from the server are not valid RESP2.
class protocol_error : public error {
 public:
  using error::error;
};

/// A reply had another type than the caller asked for (e.g. as_integer() on a string).
class reply_type_error : public error {
 public:
  using error::error;
};

/// The server answered a command with an error reply; carries Redis's message.
class server_error : public error {
 public:
  server_error(std::string command, std::string message)
      : error(command + ": " + message), command_(std::move(command)), message_(std::move(message)) {}
  /// The command's name, e.g. "HINCRBY".
  const std::string& command() const noexcept { return command_; }
  /// Redis's own error text, e.g. "WRONGTYPE Operation against a key holding the wrong kind of value".
  const std::string& server_message() const noexcept { return message_; }

 private:
  std::string command_;
  std::string message_;
};

/// No model is stored at the key (or it expired).
class key_not_found : public error {
 public:
  explicit key_not_found(std::string key) : error("key not found: " + key), key_(std::move(key)) {}
  const std::string& key() const noexcept { return key_; }

 private:
  std::string key_;
};

/// Stored data does not fit the model: a value that does not parse as the field's type, a missing
/// required field, invalid JSON, a key of another model or of another Redis type.
class decode_error : public error {
 public:
  decode_error(std::string key, std::string field, const std::string& reason)
      : error("cannot decode " + key + (field.empty() ? "" : " field '" + field + "'") + ": " + reason),
        key_(std::move(key)),
        field_(std::move(field)),
        reason_(reason) {}
  const std::string& key() const noexcept { return key_; }
  /// The field path, e.g. "address.city"; empty when the key as a whole is wrong.
  const std::string& field() const noexcept { return field_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string key_;
  std::string field_;
  std::string reason_;
};

/// A value cannot be written: e.g. text inside a JSON element that is not valid UTF-8.
class encode_error : public error {
 public:
  using error::error;
};

/// The API was used in a way that cannot work: a field proxy outside a model, a model without a
/// key, no client configured (call rapyer::init first).
class usage_error : public error {
 public:
  using error::error;
};

/// One or more commands of an apipeline() failed; each failure names its operation.
class pipeline_error : public error {
 public:
  struct failure {
    std::size_t index;      // position of the operation in the pipeline
    std::string operation;  // e.g. "HINCRBY User:{...} age"
    std::string message;    // Redis's error
  };
  explicit pipeline_error(std::vector<failure> failures) : error(describe(failures)), failures_(std::move(failures)) {}
  const std::vector<failure>& failures() const noexcept { return failures_; }

 private:
  static std::string describe(const std::vector<failure>& failures) {
    std::string text = "pipeline: " + std::to_string(failures.size()) + " operation(s) failed";
    for (const auto& f : failures) text += "; #" + std::to_string(f.index) + " " + f.operation + ": " + f.message;
    return text;
  }
  std::vector<failure> failures_;
};

/// A lock could not be acquired within its acquire timeout.
class lock_timeout : public timeout_error {
 public:
  using timeout_error::timeout_error;
};

/// A lock expired or was taken by another holder while held (its extension failed, or its
/// release found another token): the critical section was not exclusive to the end.
class lock_lost : public error {
 public:
  using error::error;
};

/// An optimistic transaction met a concurrent change on every one of its attempts.
class transaction_conflict : public error {
 public:
  using error::error;
};

/// A versioned model's save found another version on the server (someone saved in between).
class version_conflict : public error {
 public:
  using error::error;
};

/// A cluster request could not be completed: still redirected (MOVED, ASK, TRYAGAIN,
/// CLUSTERDOWN) after max_redirects or past its deadline, or its slot's primary unreachable.
/// The message names the slot and the nodes tried.
class cluster_error : public error {
 public:
  using error::error;
};

/// A write was applied by the primary, but fewer replicas than client_config::wait_replicas
/// acknowledged it within wait_timeout: it may or may not survive a failover.
class replication_error : public error {
 public:
  replication_error(const std::string& message, long long acknowledged) : error(message), acknowledged_(acknowledged) {}
  /// How many replicas acknowledged the write.
  long long acknowledged() const noexcept { return acknowledged_; }

 private:
  long long acknowledged_;
};

/// A URL or configuration value is malformed.
class config_error : public error {
 public:
  using error::error;
};

}  // namespace rapyer
