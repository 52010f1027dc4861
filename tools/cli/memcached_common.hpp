#pragma once
// Shared by the memcached subcommands: building a backend from --servers
// (or the CACHEKIT_MEMCACHED_* environment) and mapping errors to exit codes.

#include <memory>
#include <string>

#include <cachekit/cachekit.hpp>

#include "commands.hpp"

namespace cli {

/// Options every memcached subcommand takes (they consume a value).
inline const std::vector<std::string> kBackendOptions{"servers", "timeout", "connect-timeout", "prefix",
                                                      "distribution", "ttl", "retries"};

/// A backend from the command line over the environment; null (after
/// printing why) when the configuration is invalid.
std::unique_ptr<cachekit::MemcachedBackend> make_backend(const Args& args);

/// Prints the error and returns its exit code: kUsage for permanent
/// errors (bad input), kServerError for the rest.
int report(const cachekit::Error& e);

/// Parses --ttl (seconds, may be negative); false after printing a usage error.
bool ttl_option(const Args& args, std::chrono::seconds& ttl);

}  // namespace cli
