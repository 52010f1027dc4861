#pragma once
// Runs a script with Debian's /usr/bin/python3 (the interpreter that has
// python3-msgpack and python3-pymemcache), for cross-language checks.

#include <string>

#include <cachekit/cachekit.hpp>

namespace cktest {

/// Runs script with stdin_data on standard input; its standard output, or an
/// Error carrying the exit status and standard error (for example when
/// python3-msgpack is missing: apt-get install python3-msgpack).
cachekit::Result<std::string> run_python(const std::string& script, const std::string& stdin_data = {});

}  // namespace cktest
