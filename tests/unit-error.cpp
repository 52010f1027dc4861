#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

using cachekit::Error;
using cachekit::ErrorKind;
using cachekit::Result;

namespace {
Result<int> half(int x) {
  if (x % 2 != 0) return Error(ErrorKind::permanent, "odd");
  return x / 2;
}
Result<void> check_positive(int x) {
  if (x <= 0) return Error(ErrorKind::permanent, "not positive");
  return {};
}
}  // namespace

TEST_CASE("Result carries a value or an error") {
  auto ok = half(8);
  REQUIRE(ok);
  CHECK(ok.value() == 4);
  CHECK(*ok == 4);
  auto bad = half(3);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind() == ErrorKind::permanent);
  CHECK(bad.error().message() == "odd");
  CHECK(bad.value_or(-1) == -1);
  CHECK(check_positive(1));
  CHECK_FALSE(check_positive(0));
  CHECK(check_positive(0).error().message() == "not positive");
}

TEST_CASE("Error names its kind, operation, key and server") {
  Error e(ErrorKind::timeout, "no reply within 1000 ms");
  e.with_operation("get").with_key("k1").with_server("127.0.0.1:1");
  CHECK(e.to_string() == "timeout: no reply within 1000 ms (op=get, key=k1, server=127.0.0.1:1)");
  CHECK(std::string(cachekit::to_string(ErrorKind::authentication)) == "authentication");
}

TEST_CASE("TTLs are normalized: zero or negative never expire, long ones clamp to 30 days") {
  using std::chrono::seconds;
  CHECK(cachekit::detail::normalize_ttl(seconds(0)) == 0);
  CHECK(cachekit::detail::normalize_ttl(seconds(-5)) == 0);
  CHECK(cachekit::detail::normalize_ttl(seconds(60)) == 60);
  CHECK(cachekit::detail::normalize_ttl(seconds(40 * 86400)) == 2592000);
}
