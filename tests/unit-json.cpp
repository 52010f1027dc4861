// The strict JSON reader used for CACHEKIT_MEMCACHED_SERVERS.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

using cachekit::detail::parse_json_string_array;

TEST_CASE("json: arrays of strings") {
  auto r = parse_json_string_array(R"( [ "mc1:11211" , "mc2:11211"] )");
  REQUIRE(r);
  REQUIRE(r->size() == 2);
  CHECK((*r)[0] == "mc1:11211");
  CHECK((*r)[1] == "mc2:11211");
  CHECK(parse_json_string_array("[]")->empty());
  auto esc = parse_json_string_array(R"(["a\"b\\c\/d\n\u00e9\ud83d\ude00"])");
  REQUIRE(esc);
  CHECK((*esc)[0] == "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80");
  CHECK((*parse_json_string_array("[\"\xc3\xa9\"]"))[0] == "\xc3\xa9");
}

TEST_CASE("json: malformed input is an error") {
  for (const char* bad : {"", "[", "]", "[\"a\",]", "[\"a\" \"b\"]", "[\"a\"] x", "{}", "[1]", "[\"a]",
                          "[\"\\x\"]", "[\"\\u12\"]", "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"a\tb\"]",
                          "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]", "[\"\xff\"]", "[\"\xe2\x82\"]", "[null]",
                          "mc1:11211", "[[\"a\"]]"}) {
    CAPTURE(bad);
    auto r = parse_json_string_array(bad);
    CHECK_FALSE(r);
    if (!r) CHECK(r.error().kind() == cachekit::ErrorKind::permanent);
  }
}
