#pragma once
// cachekit-cli subcommands. Each returns the process exit code:
// 0 success, 1 a miss / negative answer, 2 bad usage or input, 3 server error.

#include <string>
#include <vector>

namespace cli {

using Args = std::vector<std::string>;

inline constexpr int kOk = 0;
inline constexpr int kNegative = 1;
inline constexpr int kUsage = 2;
inline constexpr int kServerError = 3;

/// Value of "--name VALUE" or "--name=VALUE" in args, or fallback.
std::string option(const Args& args, const std::string& name, const std::string& fallback = "");
/// Whether the bare flag "--name" is present.
bool flag(const Args& args, const std::string& name);
/// Arguments that are neither options nor their values.
Args positionals(const Args& args, const std::vector<std::string>& options_with_values);
/// Why args do not fit a command taking the options with_values ("--name
/// VALUE" or "--name=VALUE") and the bare flags: names the first unknown
/// option or a missing value; empty when they fit.
std::string check_options(const Args& args, const std::vector<std::string>& with_values,
                          const std::vector<std::string>& flags);

// memcached subcommands (tools/cli/<name>.cpp).
int run_get(const Args& args);
int run_set(const Args& args);
int run_delete(const Args& args);
int run_touch(const Args& args);
int run_stats(const Args& args);
int run_version(const Args& args);
int run_health(const Args& args);
/// `config`: the configuration the other commands would use; connects nowhere.
int run_config(const Args& args);
/// `ring`: prints the server of each key read from stdin (tools/cli/ring.cpp).
int run_ring(const Args& args);

}  // namespace cli
