// The library log (cachekit::set_logger): a cached function's first error of
// each kind is logged once, never per call; the hook can be replaced and
// silenced; the default writes one line to stderr.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/memcached_process.hpp"
#include "support/test_backends.hpp"

using namespace std::chrono_literals;

namespace {
struct Captured {
  cachekit::LogLevel level;
  std::string topic;
  std::string message;
};

/// Installs a capturing logger for the test's lifetime, then restores the
/// default.
class CaptureLog {
 public:
  CaptureLog() {
    cachekit::set_logger([this](const cachekit::LogRecord& r) {
      std::lock_guard<std::mutex> lock(mutex_);
      records_.push_back(Captured{r.level, std::string(r.topic), std::string(r.message)});
    });
  }
  ~CaptureLog() { cachekit::set_logger(cachekit::log_to_stderr); }
  CaptureLog(const CaptureLog&) = delete;
  CaptureLog& operator=(const CaptureLog&) = delete;
  std::vector<Captured> records() {
    std::lock_guard<std::mutex> lock(mutex_);
    return records_;
  }

 private:
  std::mutex mutex_;
  std::vector<Captured> records_;
};

cachekit::CacheOptions named(const char* ns, const char* op) {
  cachekit::CacheOptions o;
  o.ns = ns;
  o.operation = op;
  return o;
}

/// Runs fn with stderr (fd 2) sent to a temporary file; returns what was written.
template <class Fn>
std::string capture_stderr(Fn&& fn) {
  char path[] = "/tmp/cachekit-log-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  std::fflush(stderr);
  const int saved = ::dup(2);
  REQUIRE(saved >= 0);
  REQUIRE(::dup2(fd, 2) == 2);
  fn();
  std::fflush(stderr);
  REQUIRE(::dup2(saved, 2) == 2);
  ::close(saved);
  std::string out;
  char buf[4096];
  ::lseek(fd, 0, SEEK_SET);
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  ::unlink(path);
  return out;
}

std::size_t count_lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}
}  // namespace

TEST_CASE("log: a failing backend is logged once per cached function and kind of error") {
  CaptureLog log;
  auto backend = std::make_shared<cktest::CountingBackend>();
  backend->failing = true;
  int calls = 0;
  auto f = cachekit::cache(backend, named("users", "get_user"), [&](int x) {
    ++calls;
    return x;
  });
  for (int i = 0; i < 50; ++i) CHECK(f(i) == i);
  CHECK(calls == 50);
  CHECK(f.stats().errors == 100);  // a get and a set per call
  auto records = log.records();
  REQUIRE(records.size() == 1);
  CHECK(records[0].level == cachekit::LogLevel::warning);
  CHECK(records[0].topic == "cache");
  CHECK(records[0].message.find("users:get_user") != std::string::npos);
  CHECK(records[0].message.find("injected failure") != std::string::npos);
  CHECK(records[0].message.find("transient") != std::string::npos);

  // Another kind of error of the same function: logged once more.
  auto nan = cachekit::cache(backend, named("users", "half"), [&](double x) { return x / 2; });
  CHECK(std::isnan(nan(std::nan(""))));  // the key cannot be made (permanent)
  CHECK(std::isnan(nan(std::nan(""))));
  records = log.records();
  REQUIRE(records.size() == 2);
  CHECK(records[1].message.find("users:half") != std::string::npos);
  CHECK(records[1].message.find("permanent") != std::string::npos);
  (void)nan(1.0);  // now a transient error for this function: its first of that kind
  (void)nan(2.0);
  CHECK(log.records().size() == 3);

  // A second cached function reports its own first error; copies share the first's.
  auto g = cachekit::cache(backend, named("users", "other"), [](int x) { return x; });
  (void)g(1);
  (void)g(2);
  auto f_copy = f;
  (void)f_copy(3);
  CHECK(log.records().size() == 4);
  CHECK(log.records()[3].message.find("users:other") != std::string::npos);
}

TEST_CASE("log: a namespace the interop rules refuse is logged once, naming the cause") {
  CaptureLog log;
  auto backend = std::make_shared<cachekit::MemoryBackend>();
  auto f = cachekit::cache(backend, named("Users", "get_user"), [](int x) { return x; });
  for (int i = 0; i < 10; ++i) (void)f(i);
  auto records = log.records();
  REQUIRE(records.size() == 1);
  CHECK(records[0].message.find("namespace 'Users'") != std::string::npos);
  CHECK(records[0].message.find("not logged") != std::string::npos);  // says that it is rate-limited
}

TEST_CASE("log: undecodable values and Cache<T> errors are logged once each") {
  CaptureLog log;
  auto backend = std::make_shared<cachekit::MemoryBackend>();
  cachekit::Cache<int> ints(backend, named("ints", ""));
  REQUIRE(backend->set("ints:a", std::string("\xc1", 1), 0s));
  REQUIRE(backend->set("ints:b", std::string("\xc1", 1), 0s));
  CHECK_FALSE(ints.get("a"));
  CHECK_FALSE(ints.get("b"));
  auto records = log.records();
  REQUIRE(records.size() == 1);
  CHECK(records[0].message.find("Cache<T> ints:") != std::string::npos);
  CHECK(records[0].message.find("decode") != std::string::npos);
}

TEST_CASE("log: set_logger replaces and silences the hook") {
  auto backend = std::make_shared<cktest::CountingBackend>();
  backend->failing = true;
  int first = 0;
  int second = 0;
  cachekit::set_logger([&](const cachekit::LogRecord&) { ++first; });
  auto f = cachekit::cache(backend, named("a", "f"), [](int x) { return x; });
  (void)f(1);
  cachekit::set_logger([&](const cachekit::LogRecord&) { ++second; });
  auto g = cachekit::cache(backend, named("a", "g"), [](int x) { return x; });
  (void)g(1);
  cachekit::set_logger(nullptr);  // silenced: nothing is called, nothing is printed
  auto h = cachekit::cache(backend, named("a", "h"), [](int x) { return x; });
  const std::string printed = capture_stderr([&] { (void)h(1); });
  cachekit::set_logger(cachekit::log_to_stderr);
  CHECK(first == 1);
  CHECK(second == 1);
  CHECK(printed.empty());
  CHECK(h.stats().errors == 2);  // still counted
}

TEST_CASE("log: the default hook writes one line to stderr") {
  cachekit::set_logger(cachekit::log_to_stderr);
  auto backend = std::make_shared<cktest::CountingBackend>();
  backend->failing = true;
  auto f = cachekit::cache(backend, named("default", "hook"), [](int x) { return x; });
  const std::string printed = capture_stderr([&] {
    for (int i = 0; i < 20; ++i) (void)f(i);
  });
  CHECK(count_lines(printed) == 1);
  CHECK(printed.rfind("cachekit: warning: cache default:hook: transient: injected failure", 0) == 0);
}

TEST_CASE("log: set_logger and logging from many threads" * doctest::test_suite("concurrency")) {
  std::atomic<int> seen{0};
  std::atomic<bool> stop{false};
  cachekit::set_logger([](const cachekit::LogRecord&) {});
  std::vector<std::thread> loggers;
  for (int t = 0; t < 3; ++t) {
    loggers.emplace_back([&] {
      while (!stop.load()) cachekit::log_message(cachekit::LogLevel::info, "test", "message");
    });
  }
  for (int i = 0; i < 2000; ++i) {
    cachekit::set_logger([&seen](const cachekit::LogRecord& r) {
      if (r.topic == "test") seen.fetch_add(1);
    });
  }
  CHECK(cktest::wait_until([&] { return seen.load() > 0; }, std::chrono::milliseconds(5000)));
  stop = true;
  for (auto& t : loggers) t.join();
  cachekit::set_logger(cachekit::log_to_stderr);
}
