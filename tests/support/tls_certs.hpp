#pragma once
// Throwaway certificates for the TLS tests, made with the `openssl` command
// (Debian package openssl) in a temporary directory that memcached (running
// as nobody) can read; removed when destroyed. P-256 keys: quick to make.
//
//   ca.crt              the test CA
//   server.crt/.key     signed by it, subjectAltName IP:127.0.0.1, DNS:localhost
//   client.crt/.key     signed by it (for ssl_verify_mode=2)
//   other-ca.crt        a CA nobody trusts
//   stranger.crt/.key   a client certificate signed by other-ca

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace cktest {

struct TlsCerts {
  std::string dir;
  TlsCerts() {
    char tmpl[] = "/tmp/cachekit-tls-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    ::chmod(dir.c_str(), 0755);
    const std::string d = dir + "/";
    FILE* ext = std::fopen((d + "server.ext").c_str(), "w");
    REQUIRE(ext != nullptr);
    std::fputs("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n", ext);
    std::fclose(ext);
    ext = std::fopen((d + "client.ext").c_str(), "w");
    REQUIRE(ext != nullptr);
    std::fputs("extendedKeyUsage=clientAuth\n", ext);
    std::fclose(ext);
    const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    auto ca = [&](const std::string& name) {
      return "openssl req -x509" + key + " -keyout " + d + name + ".key -out " + d + name +
             ".crt -days 2 -subj /CN=cachekit-" + name;
    };
    auto leaf = [&](const std::string& name, const std::string& cn, const std::string& issuer, const std::string& ext_file) {
      return "openssl req" + key + " -keyout " + d + name + ".key -out " + d + name + ".csr -subj /CN=" + cn +
             " && openssl x509 -req -in " + d + name + ".csr -CA " + d + issuer + ".crt -CAkey " + d + issuer +
             ".key -CAcreateserial -days 2 -extfile " + d + ext_file + " -out " + d + name + ".crt";
    };
    const std::string cmd = "( " + ca("ca") + " && " + ca("other-ca") + " && " +
                            leaf("server", "localhost", "ca", "server.ext") + " && " +
                            leaf("client", "cachekit-client", "ca", "client.ext") + " && " +
                            leaf("stranger", "cachekit-stranger", "other-ca", "client.ext") + " ) >" + d +
                            "openssl.log 2>&1 && chmod 0644 " + d + "*";
    const std::string fail = "making test certificates with openssl failed (see " + d +
                             "openssl.log); install it with: apt-get install openssl";
    REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, fail);
  }
  ~TlsCerts() {
    const std::string cmd = "rm -rf " + dir;
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", dir.c_str());
  }
  TlsCerts(const TlsCerts&) = delete;
  TlsCerts& operator=(const TlsCerts&) = delete;

  std::string path(const std::string& file) const { return dir + "/" + file; }

  /// memcached arguments for a TLS listener with the server certificate;
  /// verify_mode 2 requires a client certificate signed by the test CA.
  std::vector<std::string> server_args(int verify_mode = 0) const {
    return {"-Z", "-o",
            "ssl_chain_cert=" + path("server.crt") + ",ssl_key=" + path("server.key") + ",ssl_ca_cert=" +
                path("ca.crt") + ",ssl_verify_mode=" + std::to_string(verify_mode)};
  }
};

}  // namespace cktest
