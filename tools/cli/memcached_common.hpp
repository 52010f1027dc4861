#pragma once
// Shared by the memcached subcommands: building a backend from --servers
// (or the CACHEKIT_MEMCACHED_* environment) and mapping errors to exit codes.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "commands.hpp"

namespace cli {

/// Options every memcached subcommand takes (each consumes a value).
inline const std::vector<std::string> kBackendOptions{"servers",     "timeout",       "connect-timeout", "prefix",
                                                      "distribution", "retries",      "protocol",        "tls-ca-file",
                                                      "tls-cert-file", "tls-key-file", "tls-server-name"};
/// Bare flags every memcached subcommand takes.
inline const std::vector<std::string> kBackendFlags{"tls"};
/// Every option that consumes a value, for positionals(): the above and --ttl.
inline const std::vector<std::string> kValueOptions{"servers",      "timeout",       "connect-timeout", "prefix",
                                                    "distribution", "retries",       "protocol",        "tls-ca-file",
                                                    "tls-cert-file", "tls-key-file", "tls-server-name", "ttl"};

/// The memcached server a client uses when nothing names one.
inline constexpr const char* kDefaultServer = "127.0.0.1:11211";

/// Where the servers of the configuration came from.
enum class ServersFrom { option, environment, fallback };

/// The configuration from the command line over the environment; nullopt
/// (after printing why) when it is invalid.
std::optional<cachekit::MemcachedBackendConfig> make_config(const Args& args);

/// A backend from make_config(); null (after printing why) when the
/// configuration is invalid.
std::unique_ptr<cachekit::MemcachedBackend> make_backend(const Args& args);

/// Where the last make_config() took its servers from.
ServersFrom servers_from();

/// Servers from --servers: "a:1,b:2" or a JSON array of strings.
cachekit::Result<std::vector<std::string>> parse_servers_option(const std::string& text);

/// Prints the error and returns its exit code: kUsage for permanent
/// errors (bad input), kServerError for the rest. Adds that the default
/// server was used when nothing configured one.
int report(const cachekit::Error& e);

/// After an error: when no server was configured, says on stderr that the
/// default 127.0.0.1:11211 was used.
void note_default_servers();

/// Parses --ttl (seconds, may be negative); false after printing a usage error.
bool ttl_option(const Args& args, std::chrono::seconds& ttl);

}  // namespace cli
