#pragma once
// Test harness: a real twemproxy (nutcracker) started by the test from a
// YAML configuration written to a temporary directory, and stopped by PID.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cktest {

/// Path of the nutcracker binary (Debian package nutcracker).
inline constexpr const char* kNutcrackerBinary = "/usr/sbin/nutcracker";

/// One nutcracker process. A test that constructs one fails (with install
/// instructions) when nutcracker is missing, or when it does not listen on
/// every pool port within 10 s; it never skips.
class NutcrackerProcess {
 public:
  /// yaml is nutcracker's pool configuration; listen_ports are the pools'
  /// ports, waited for before the constructor returns.
  NutcrackerProcess(const std::string& yaml, const std::vector<std::uint16_t>& listen_ports);
  ~NutcrackerProcess();
  NutcrackerProcess(const NutcrackerProcess&) = delete;
  NutcrackerProcess& operator=(const NutcrackerProcess&) = delete;

  pid_t pid() const { return pid_; }
  /// nutcracker's log file (kept until destruction, for failure messages).
  const std::string& log_path() const { return log_; }

 private:
  std::string dir_, conf_, log_;
  pid_t pid_ = -1;
};

}  // namespace cktest
