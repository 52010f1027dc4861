#pragma once
// A sasldb with one user (alice / secret-pw) in a temporary directory,
// readable by the user memcached runs as; removed when destroyed. For
// memcached -S with SASL_CONF_PATH pointing at dir.

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace cktest {

struct SaslDb {
  std::string dir;
  SaslDb() {
    char tmpl[] = "/tmp/cachekit-sasl-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    ::chmod(dir.c_str(), 0755);
    FILE* conf = std::fopen((dir + "/memcached.conf").c_str(), "w");
    REQUIRE(conf != nullptr);
    std::fprintf(conf, "mech_list: plain\nsasldb_path: %s/sasldb2\n", dir.c_str());
    std::fclose(conf);
    const std::string cmd = "printf secret-pw | saslpasswd2 -a memcached -c -p -f " + dir + "/sasldb2 alice";
    REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "saslpasswd2 failed; install it with: apt-get install sasl2-bin");
    ::chmod((dir + "/sasldb2").c_str(), 0644);
  }
  ~SaslDb() {
    const std::string cmd = "rm -rf " + dir;
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", dir.c_str());
  }
  SaslDb(const SaslDb&) = delete;
  SaslDb& operator=(const SaslDb&) = delete;
};

}  // namespace cktest
