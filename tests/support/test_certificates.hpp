// Certificates for the TLS tests, made with the openssl command in a private temporary directory:
// a CA, a server certificate for localhost and 127.0.0.1 signed by it, a client certificate signed
// by it, and a second CA that signed nothing of ours.
#pragma once

#include <string>

namespace rapyer::test {

struct test_certificates {
  std::string ca_file;
  std::string server_cert_file;
  std::string server_key_file;
  std::string client_cert_file;
  std::string client_key_file;
  std::string unrelated_ca_file;
};

/// Made on the first call, removed at exit.
const test_certificates& certificates();

}  // namespace rapyer::test
