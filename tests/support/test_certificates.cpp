#include "test_certificates.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace rapyer::test {
namespace {

void run_openssl(const std::string& arguments) {
  const std::string command = "openssl " + arguments + " >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("certificate generation failed: " + command);
}

// A P-256 key and a certificate for `subject`, signed by the CA at ca (or self-signed when empty).
void make_certificate(const std::string& dir, const std::string& name, const std::string& subject,
                      const std::string& ca, const std::string& extensions) {
  const std::string key = dir + "/" + name + ".key";
  const std::string cert = dir + "/" + name + ".crt";
  const std::string curve = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + key;
  if (ca.empty()) {
    run_openssl("req -x509 " + curve + " -out " + cert + " -days 2 -subj " + subject);
    return;
  }
  const std::string ext_file = dir + "/" + name + ".ext";
  std::ofstream(ext_file) << extensions << "\n";
  run_openssl("req " + curve + " -out " + dir + "/" + name + ".csr -subj " + subject);
  run_openssl("x509 -req -in " + dir + "/" + name + ".csr -CA " + dir + "/" + ca + ".crt -CAkey " + dir + "/" + ca +
              ".key -CAcreateserial -out " + cert + " -days 2 -extfile " + ext_file);
}

struct certificate_directory {
  std::string path;
  test_certificates files;

  certificate_directory() {
    char templ[] = "/tmp/rapyer-tls-XXXXXX";
    if (::mkdtemp(templ) == nullptr) throw std::runtime_error("cannot create a temporary directory");
    path = templ;
    make_certificate(path, "ca", "/CN=rapyer-test-ca", "", "");
    make_certificate(path, "unrelated-ca", "/CN=rapyer-unrelated-ca", "", "");
    make_certificate(path, "server", "/CN=localhost", "ca", "subjectAltName=DNS:localhost,IP:127.0.0.1");
    make_certificate(path, "client", "/CN=rapyer-client", "ca", "extendedKeyUsage=clientAuth");
    files = {path + "/ca.crt",     path + "/server.crt", path + "/server.key",
             path + "/client.crt", path + "/client.key", path + "/unrelated-ca.crt"};
  }
  ~certificate_directory() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace

const test_certificates& certificates() {
  static const certificate_directory directory;
  return directory.files;
}

}  // namespace rapyer::test
