// Exception hierarchy: every failure rapyer reports derives from rapyer::error.
#pragma once

#include <stdexcept>
#include <string>

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

/// The server rejected the credentials (wrong password, unknown user, NOAUTH).
/// The message never contains the credentials themselves.
class authentication_error : public connection_error {
 public:
  using connection_error::connection_error;
};

/// An operation did not complete within its configured time.
class timeout_error : public error {
 public:
  using error::error;
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

/// A URL or configuration value is malformed.
class config_error : public error {
 public:
  using error::error;
};

}  // namespace rapyer
