// Interop keys: the cachekit interop/v1 conformance vectors (all of them),
// typed C++ arguments producing the same keys, and segment validation.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "support/python.hpp"
#include "support/tagged_json.hpp"

namespace {

const cktest::Json& vectors() {
  static const cktest::Json doc = [] {
    const std::string path = std::string(CACHEKIT_SOURCE_DIR) + "/tests/data/cachekit-interop-mode.json";
    auto parsed = cktest::parse_json(cktest::read_file(path));
    REQUIRE_MESSAGE(parsed, "cannot parse " << path);
    return *parsed;
  }();
  return doc;
}

const cktest::Json& group(const char* name) {
  const cktest::Json* g = vectors().find(name);
  REQUIRE_MESSAGE(g != nullptr, "missing group " << name);
  return *g;
}

const cktest::Json& vector_named(const char* group_name, std::string_view name) {
  for (const auto& v : group(group_name).items) {
    if (v.find("name")->text == name) return v;
  }
  FAIL("no vector named " << name);
  return vectors();
}

std::string expected_key(std::string_view name) { return vector_named("key_vectors", name).find("expected_key")->text; }

cachekit::Result<std::vector<cktest::Tagged>> args_of(const cktest::Json& v) {
  std::vector<cktest::Tagged> args;
  for (const auto& a : v.find("args")->items) {
    auto t = cktest::tagged_from_json(a);
    if (!t) return std::move(t).error();
    args.push_back(std::move(*t));
  }
  return args;
}

cachekit::Result<std::string> key_of(const cktest::Json& v) {
  auto args = args_of(v);
  if (!args) return std::move(args).error();
  auto canonical = cktest::canonical_args_of(*args);
  if (!canonical) return std::move(canonical).error();
  const cktest::Json* ns = v.find("namespace");
  const cktest::Json* op = v.find("operation");
  return cachekit::interop_key_from_canonical(ns ? ns->text : "t", op ? op->text : "op", *canonical);
}

std::chrono::system_clock::time_point at(const char* iso) { return *cachekit::detail::parse_iso8601(iso); }

struct Nested {
  std::map<std::string, int> z;
  std::vector<int> a;
};
CACHEKIT_FIELDS(Nested, z, a)

struct Person {
  std::int32_t age = 0;
  std::string name;
};
CACHEKIT_FIELDS(Person, age, name)

}  // namespace

TEST_CASE("interop vectors: the file has the published counts") {
  CHECK(group("key_vectors").items.size() == 33);
  CHECK(group("value_vectors").items.size() == 4);
  CHECK(group("error_vectors").items.size() == 9);
  CHECK(vectors().find("segment_pattern")->text == "^[a-z0-9][a-z0-9._-]{0,63}$");
}

TEST_CASE("interop vectors: every key vector gives its canonical bytes, hash and key") {
  for (const auto& v : group("key_vectors").items) {
    const std::string name = v.find("name")->text;
    CAPTURE(name);
    auto args = args_of(v);
    REQUIRE_MESSAGE(args, (args ? "" : args.error().message()));
    auto canonical = cktest::canonical_args_of(*args);
    REQUIRE_MESSAGE(canonical, (canonical ? "" : canonical.error().message()));
    CHECK(cktest::to_hex(*canonical) == v.find("canonical_args_hex")->text);
    CHECK(cachekit::blake2b_hex(*canonical) == v.find("args_hash")->text);
    auto key = key_of(v);
    REQUIRE(key);
    CHECK(*key == v.find("expected_key")->text);
  }
}

TEST_CASE("interop vectors: every error vector is rejected") {
  for (const auto& v : group("error_vectors").items) {
    const std::string name = v.find("name")->text;
    CAPTURE(name);
    auto key = key_of(v);
    CHECK_FALSE(key);
    if (!key) CHECK_FALSE(key.error().message().empty());
  }
}

TEST_CASE("interop vectors: value vectors are the plain MessagePack of the typed values") {
  using cktest::from_hex;
  using cktest::to_hex;
  const Person alice{30, "alice"};
  const std::string person_hex = vector_named("value_vectors", "issue_example_object").find("canonical_msgpack_hex")->text;
  CHECK(to_hex(cachekit::to_msgpack(alice)) == person_hex);
  auto back = cachekit::from_msgpack<Person>(from_hex(person_hex));
  REQUIRE(back);
  CHECK(back->age == 30);
  CHECK(back->name == "alice");

  const std::string two_hex = vector_named("value_vectors", "float_value_stays_float64").find("canonical_msgpack_hex")->text;
  CHECK(to_hex(cachekit::to_msgpack(2.0)) == two_hex);
  CHECK(cachekit::from_msgpack<double>(from_hex(two_hex)).value() == 2.0);

  using Mixed = std::tuple<int, std::string, double, std::optional<int>, bool>;
  const Mixed mixed{1, "two", 3.5, std::nullopt, true};
  const std::string mixed_hex = vector_named("value_vectors", "mixed_array").find("canonical_msgpack_hex")->text;
  CHECK(to_hex(cachekit::to_msgpack(mixed)) == mixed_hex);
  CHECK(cachekit::from_msgpack<Mixed>(from_hex(mixed_hex)).value() == mixed);

  const auto tp = at("2024-01-01T12:30:45.123456+00:00");
  const std::string tp_hex = vector_named("value_vectors", "datetime_sentinel_value").find("canonical_msgpack_hex")->text;
  CHECK(to_hex(cachekit::to_msgpack(tp)) == tp_hex);
  CHECK(cachekit::from_msgpack<std::chrono::system_clock::time_point>(from_hex(tp_hex)).value() == tp);
}

TEST_CASE("interop_key with typed C++ arguments matches the vectors") {
  CHECK(cachekit::interop_key("users", "get_user", 42).value() ==
        "users:get_user:61598716255080080f6456eb065c2e51badfaa4320b0efe97469c29cffee8875");
  CHECK(cachekit::interop_key("users", "get_user", std::int64_t{42}).value() == expected_key("single_int"));
  CHECK(cachekit::interop_key("users", "get_user", std::uint8_t{42}).value() == expected_key("single_int"));
  CHECK(cachekit::interop_key("users", "get_all").value() == expected_key("empty_args"));
  CHECK(cachekit::interop_key("users", "get_user", std::numeric_limits<std::uint64_t>::max()).value() ==
        expected_key("uint64_max"));
  CHECK(cachekit::interop_key("t", "op", std::numeric_limits<std::int64_t>::min()).value() == expected_key("int64_min"));
  CHECK(cachekit::interop_key("t", "op", 127, 128u, std::uint8_t{255}, short{256}, 65535, 65536L, 4294967295ULL,
                              std::int64_t{4294967296})
            .value() == expected_key("uint_width_ladder"));
  CHECK(cachekit::interop_key("t", "op", -32, std::int8_t{-33}, -128, -129, -32768, -32769, -2147483647 - 1,
                              -2147483649LL)
            .value() == expected_key("int_width_ladder"));
  CHECK(cachekit::interop_key("t", "op", std::string("h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93")).value() ==
        expected_key("unicode_string"));
  CHECK(cachekit::interop_key("t", "op", std::string(31, 'a'), std::string(32, 'b'), std::string(255, 'c'),
                              std::string(256, 'd'))
            .value() == expected_key("str_width_ladder"));
  CHECK(cachekit::interop_key("t", "op", cachekit::bytes(std::string(255, '\xab')),
                              cachekit::bytes(std::string(256, '\xcd')))
            .value() == expected_key("bin_width_ladder"));
  std::vector<int> fifteen;
  std::array<std::int64_t, 16> sixteen{};
  for (int i = 0; i < 16; ++i) {
    if (i < 15) fifteen.push_back(i);
    sixteen[static_cast<std::size_t>(i)] = i;
  }
  CHECK(cachekit::interop_key("t", "op", fifteen, sixteen).value() == expected_key("array_width_boundary"));
  std::map<std::string, int> m15, m16;
  for (int i = 0; i < 16; ++i) {
    const std::string k = std::string(i < 10 ? "k0" : "k1") + std::to_string(i % 10);
    if (i < 15) m15[k] = i;
    m16[k] = i;
  }
  CHECK(cachekit::interop_key("t", "op", m15, m16).value() == expected_key("map_width_boundary"));
  CHECK(cachekit::interop_key("t", "op", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15).value() ==
        expected_key("root_array16"));
  CHECK(cachekit::interop_key("t", "op", true, false, std::optional<int>()).value() == expected_key("bool_null"));
  CHECK(cachekit::interop_key("t", "op", 3.14).value() == expected_key("float_fractional"));
  CHECK(cachekit::interop_key("t", "op", 2.0).value() == expected_key("float_integral_collapse"));
  CHECK(cachekit::interop_key("t", "op", 2.0f).value() == expected_key("single_int_two"));
  CHECK(cachekit::interop_key("t", "op", -0.0).value() == expected_key("negative_zero"));
  CHECK(cachekit::interop_key("t", "op", 18446744073709551616.0).value() ==
        expected_key("float_large_integral_out_of_range"));
  CHECK(cachekit::interop_key("t", "op", -9223372036854775808.0).value() == expected_key("float_collapse_lower_bound"));
  CHECK(cachekit::interop_key("t", "op", std::unordered_map<std::string, int>{{"b", 2}, {"a", 1}, {"A", 3}}).value() ==
        expected_key("map_key_sort_ascii"));
  CHECK(cachekit::interop_key("t", "op",
                              std::unordered_map<std::string, int>{{"\xf0\x90\x80\x80", 1}, {"\xef\xbd\xa1", 2}})
            .value() == expected_key("map_key_sort_supplementary"));
  CHECK(cachekit::interop_key("t", "op", Nested{{{"b", 1}, {"a", 2}}, {1, 2}}).value() ==
        expected_key("nested_map_recursive_sort"));
  CHECK(cachekit::interop_key("t", "op", std::set<int>{3, 1, 2}).value() == expected_key("set_int_sorted"));
  CHECK(cachekit::interop_key("t", "op", std::unordered_set<int>{2, 3, 1}).value() == expected_key("set_int_sorted"));
  CHECK(cachekit::interop_key("t", "op", std::set<double>{2.0}).value() == expected_key("set_dedupe_canonicalization"));
  CHECK(cachekit::interop_key("events", "get_by_time", at("2024-01-01T12:30:45.123456+00:00")).value() ==
        expected_key("datetime_fractional"));
  CHECK(cachekit::interop_key("events", "get_by_time", at("2024-01-01T00:00:00Z")).value() ==
        expected_key("datetime_whole_second"));
  CHECK(cachekit::interop_key("events", "get_by_time", at("2024-01-01T18:00:45.123456+05:30")).value() ==
        expected_key("datetime_non_utc_offset"));
  // Nanoseconds below the microsecond are floored away; pre-epoch floors toward -inf.
  CHECK(cachekit::interop_key("events", "get_by_time", at("1969-12-31T23:59:59.1234569Z")).value() ==
        expected_key("datetime_pre_epoch"));
  CHECK(cachekit::interop_key("users", "get_by_uuid", cachekit::uuid::parse("550E8400-E29B-41D4-A716-446655440000").value())
            .value() == expected_key("uuid_lowercased"));
  CHECK(cachekit::interop_key("t", "op", cachekit::bytes(std::string("\xde\xad\xbe\xef"))).value() ==
        expected_key("bytes_bin"));
  CHECK(cachekit::interop_key("t", "op", 42, "hello", std::map<std::string, int>{{"b", 2}, {"a", 1}}).value() ==
        expected_key("issue_example_mixed"));
  CHECK(cachekit::interop_key("t", "op", 42, std::string_view("hello"), std::map<std::string, int>{{"b", 2}, {"a", 1}})
            .value() == expected_key("issue_example_mixed"));
}

TEST_CASE("interop_key rejects what the data model excludes") {
  CHECK_FALSE(cachekit::interop_key("t", "op", std::nan("")));
  CHECK_FALSE(cachekit::interop_key("t", "op", std::numeric_limits<double>::infinity()));
  CHECK_FALSE(cachekit::interop_key("t", "op", -std::numeric_limits<double>::infinity()));
  CHECK_FALSE(cachekit::interop_key("t", "op", std::vector<float>{1.0f, std::numeric_limits<float>::quiet_NaN()}));
  CHECK_FALSE(cachekit::interop_key("t", "op", std::map<int, int>{{1, 2}}));  // non-string map key
  CHECK_FALSE(cachekit::interop_key("t", "op", std::string("\xff")));          // malformed UTF-8
  CHECK_FALSE(cachekit::interop_key("t", "op", std::string("\xed\xa0\x80")));  // encoded surrogate
  auto nan_key = cachekit::interop_key("t", "op", std::nan(""));
  CHECK(nan_key.error().kind() == cachekit::ErrorKind::permanent);
  // Values are not canonicalized: NaN is a valid value.
  CHECK(cachekit::to_msgpack(std::nan("")).size() == 9);
}

TEST_CASE("interop segments must fully match ^[a-z0-9][a-z0-9._-]{0,63}$") {
  using cachekit::is_valid_interop_segment;
  CHECK(is_valid_interop_segment("users"));
  CHECK(is_valid_interop_segment("0"));
  CHECK(is_valid_interop_segment("a.b_c-d9"));
  CHECK(is_valid_interop_segment(std::string(64, 'a')));
  CHECK_FALSE(is_valid_interop_segment(std::string(65, 'a')));
  CHECK_FALSE(is_valid_interop_segment(""));
  CHECK_FALSE(is_valid_interop_segment("Users"));
  CHECK_FALSE(is_valid_interop_segment("_users"));
  CHECK_FALSE(is_valid_interop_segment("-users"));
  CHECK_FALSE(is_valid_interop_segment(".users"));
  CHECK_FALSE(is_valid_interop_segment("users\n"));
  CHECK_FALSE(is_valid_interop_segment("get:user"));
  CHECK_FALSE(is_valid_interop_segment("get user"));
  CHECK_FALSE(is_valid_interop_segment(std::string("us\0er", 6)));
  auto bad = cachekit::interop_key("Users", "get_user", 42);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("namespace") != std::string::npos);
  auto bad_op = cachekit::interop_key("users", "get:user", 42);
  REQUIRE_FALSE(bad_op);
  CHECK(bad_op.error().message().find("operation") != std::string::npos);
}

TEST_CASE("canonical_args: the bytes interop keys hash") {
  CHECK(cktest::to_hex(cachekit::canonical_args().value()) == "90");
  CHECK(cktest::to_hex(cachekit::canonical_args(42).value()) == "912a");
  CHECK(cktest::to_hex(cachekit::canonical_args(std::optional<std::string>("a")).value()) == "91a161");
  // Sets: encoded-byte order, not numeric: 'a' (a1..), 1.5 (cb..), -5 (fb).
  CHECK(cktest::to_hex(cachekit::canonical_args(std::set<double>{-5.0, 1.5}).value()) == "9192cb3ff8000000000000fb");
  // Struct fields are sorted by name in the canonical profile.
  CHECK(cktest::to_hex(cachekit::canonical_args(Person{30, "alice"}).value()) ==
        "9182a36167651ea46e616d65a5616c696365");
}

TEST_CASE("canonical encoding agrees with Python msgpack + hashlib.blake2b on random arguments") {
  // Python's packb writes ints, strings, lists and (pre-sorted) dicts the canonical way.
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  std::string expected_lines;
  std::string script =
      "import sys, msgpack, hashlib\n"
      "for line in sys.stdin.read().split():\n"
      "    b = bytes.fromhex(line)\n"
      "    v = msgpack.unpackb(b, raw=False, strict_map_key=False)\n"
      "    c = msgpack.packb(v if not isinstance(v, dict) else dict(sorted(v.items())), use_bin_type=True)\n"
      "    print(hashlib.blake2b(c, digest_size=32).hexdigest())\n";
  std::string input;
  for (int i = 0; i < 300; ++i) {
    const std::uint64_t r = next();
    const int width = static_cast<int>(next() % 64);
    const std::uint64_t u = width == 0 ? 0 : (r >> (64 - width));
    const std::int64_t s = -static_cast<std::int64_t>(r >> (64 - std::max(1, width))) / 2;
    std::string str(static_cast<std::size_t>(next() % 40), 'x');
    for (auto& c : str) c = static_cast<char>('a' + next() % 26);
    std::map<std::string, std::int64_t> m{{str, s}, {"k" + str, 7}};
    auto canonical = cachekit::canonical_args(u, s, str, std::vector<std::uint64_t>{u, u / 3}, m);
    REQUIRE(canonical);
    input += cktest::to_hex(*canonical) + "\n";
    expected_lines += cachekit::blake2b_hex(*canonical) + "\n";
  }
  auto out = cktest::run_python(script, input);
  REQUIRE_MESSAGE(out, (out ? "" : out.error().message()));
  CHECK(*out == expected_lines);
}

TEST_CASE("canonical strings must be well-formed UTF-8") {
  using cachekit::detail::valid_utf8;
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("plain ascii"));
  CHECK(valid_utf8("\xc3\xa9\xe2\x9c\x93\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"));  // 2, 3, 4 bytes, U+10FFFF
  CHECK_FALSE(valid_utf8("\xc0\x80"));          // overlong NUL
  CHECK_FALSE(valid_utf8("\xe0\x80\x80"));      // overlong
  CHECK_FALSE(valid_utf8("\xf0\x80\x80\x80"));  // overlong
  CHECK_FALSE(valid_utf8("\xed\xbf\xbf"));      // surrogate
  CHECK_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(valid_utf8("\xe2\x9c"));          // truncated
  CHECK_FALSE(valid_utf8("\x80"));              // lone continuation
  CHECK_FALSE(valid_utf8("\xc3\x28"));          // bad continuation
  // Values are not checked: std::string carries bytes.
  CHECK(cachekit::to_msgpack(std::string("\xff")) == std::string("\xa1\xff"));
}
