#pragma once
// The library log: one replaceable, process-wide hook for the few things
// cachekit reports on its own (a cached function that runs uncached because
// of a misconfiguration or a failing backend; later, a protocol downgrade).
//
// It is the one process-wide setting of the library (the README says why and
// what it costs): a misconfiguration must not go unnoticed, and a library
// that writes to stderr must let its user redirect or silence that. The
// state is a mutex and a shared pointer, touched only when something is
// logged; no get or set on the hot path reads it. Messages are rate-limited
// by their callers (once per cached function and kind of error), never per
// call.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "detail/function.hpp"
#include "error.hpp"

CACHEKIT_BEGIN_NAMESPACE

/// Severity of a log record.
enum class LogLevel : std::uint8_t { debug, info, warning, error };

/// "debug", "info", "warning" or "error".
inline const char* to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warning: return "warning";
    case LogLevel::error: return "error";
  }
  return "unknown";
}

/// One thing the library reports: its level, the part of the library that
/// reports it ("cache", "memcached", ...) and a one-line message.
struct LogRecord {
  LogLevel level = LogLevel::warning;
  std::string_view topic;
  std::string_view message;
};

/// A log hook. Called on the thread that met the event, possibly from
/// several threads at once; it must not throw.
using Logger = std::function<void(const LogRecord&)>;

/// The default hook: one line on stderr, "cachekit: <level>: <message>".
inline void log_to_stderr(const LogRecord& record) {
  std::string line = "cachekit: ";
  line += to_string(record.level);
  line += ": ";
  line += record.message;
  line += '\n';
  // One write of the whole line, so lines of concurrent threads do not mix.
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

/// Replaces the library's log hook for the whole process; an empty function
/// (set_logger(nullptr)) silences the library. Thread-safe; a call already
/// running the previous hook finishes with it. (A template only so that it
/// is compiled where it is used.)
template <class = void>
void set_logger(Logger logger);

/// Sends a record to the current hook (nothing when silenced). The hook runs
/// outside the library's lock, so it may itself call set_logger or log_message.
template <class = void>
void log_message(LogLevel level, std::string_view topic, std::string_view message);

CACHEKIT_END_NAMESPACE

#ifndef CACHEKIT_DETAIL_VIEW  // definitions: not in the declarations view (config.hpp)
#include <mutex>

CACHEKIT_BEGIN_NAMESPACE

namespace detail {
template <class = void>  // compiled where it is used
struct LoggerSlot {
  std::mutex mutex;
  std::shared_ptr<const Logger> logger = std::make_shared<const Logger>(log_to_stderr);
};
template <class = void>  // compiled where it is used
inline LoggerSlot<>& logger_slot() {
  static LoggerSlot<> slot;
  return slot;
}
}  // namespace detail

template <class>
inline void set_logger(Logger logger) {
  std::shared_ptr<const Logger> next;
  if (logger) next = std::make_shared<const Logger>(std::move(logger));
  detail::LoggerSlot<>& slot = detail::logger_slot();
  std::lock_guard<std::mutex> lock(slot.mutex);
  slot.logger.swap(next);
  // The previous hook is released here, after the lock, with `next`.
}

template <class>
inline void log_message(LogLevel level, std::string_view topic, std::string_view message) {
  std::shared_ptr<const Logger> current;
  {
    detail::LoggerSlot<>& slot = detail::logger_slot();
    std::lock_guard<std::mutex> lock(slot.mutex);
    current = slot.logger;
  }
  if (current && *current) (*current)(LogRecord{level, topic, message});
}

namespace detail {
CACHEKIT_COMPILE_ONCE(struct LoggerSlot<void>)  // see config.hpp
CACHEKIT_COMPILE_ONCE(LoggerSlot<>& logger_slot<void>())
}  // namespace detail

CACHEKIT_END_NAMESPACE
#endif  // CACHEKIT_DETAIL_VIEW

CACHEKIT_BEGIN_NAMESPACE
CACHEKIT_COMPILE_ONCE(void set_logger<void>(Logger))
CACHEKIT_COMPILE_ONCE(void log_message<void>(LogLevel, std::string_view, std::string_view))

CACHEKIT_END_NAMESPACE
