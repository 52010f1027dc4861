// MessagePack values: round trips, wire forms, widths, hardened decoding,
// CACHEKIT_FIELDS structs, and agreement with Python's msgpack.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <memory>
#include <limits>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "support/python.hpp"
#include "support/tagged_json.hpp"

using cachekit::from_msgpack;
using cachekit::to_msgpack;
using cktest::from_hex;
using cktest::to_hex;

namespace shop {
struct Item {
  std::string sku;
  std::uint32_t quantity = 0;
  double price = 0;
};
CACHEKIT_FIELDS(Item, sku, quantity, price)

struct Order {
  std::int64_t id = 0;
  std::vector<Item> items;
  std::optional<std::string> note;
  std::map<std::string, std::string> tags;
  std::chrono::system_clock::time_point placed;
  cachekit::bytes signature;
  cachekit::uuid ref;
  std::set<int> flags;
  std::pair<int, bool> pair{0, false};
  bool paid = false;
};
CACHEKIT_FIELDS(Order, id, items, note, tags, placed, signature, ref, flags, pair, paid)

bool operator==(const Item& a, const Item& b) { return a.sku == b.sku && a.quantity == b.quantity && a.price == b.price; }
}  // namespace shop

struct User {
  std::int64_t id = 0;
  std::string name;
  std::vector<std::string> roles;
};
CACHEKIT_FIELDS(User, id, name, roles)

struct MsgProfile {
  std::string name;
  std::optional<int> age;
};
CACHEKIT_FIELDS(MsgProfile, name, age)

class Account {
 public:
  Account() = default;
  Account(int id, std::string key) : id_(id), key_(std::move(key)) {}
  int id() const { return id_; }
  const std::string& key() const { return key_; }

 private:
  int id_ = 0;
  std::string key_;
  CACHEKIT_FIELDS_FRIEND(Account, id_, key_)
};

enum class Color : std::uint8_t { red = 1, green = 2 };

namespace {
template <class T>
T round_trip(const T& v) {
  auto back = from_msgpack<T>(to_msgpack(v));
  REQUIRE_MESSAGE(back, (back ? "" : back.error().message()));
  return *back;
}

template <class T>
std::string hex_of(const T& v) { return to_hex(to_msgpack(v)); }

template <class T>
bool decodes(std::string_view hex) { return static_cast<bool>(from_msgpack<T>(from_hex(hex))); }
}  // namespace

TEST_CASE("msgpack: scalars use the shortest forms") {
  CHECK(hex_of(true) == "c3");
  CHECK(hex_of(false) == "c2");
  CHECK(hex_of(0) == "00");
  CHECK(hex_of(127) == "7f");
  CHECK(hex_of(128) == "cc80");
  CHECK(hex_of(-1) == "ff");
  CHECK(hex_of(-32) == "e0");
  CHECK(hex_of(-33) == "d0df");
  CHECK(hex_of(std::uint16_t{65535}) == "cdffff");
  CHECK(hex_of(std::int64_t{-2147483649LL}) == "d3ffffffff7fffffff");
  CHECK(hex_of(std::numeric_limits<std::uint64_t>::max()) == "cfffffffffffffffff");
  CHECK(hex_of(1.5) == "cb3ff8000000000000");
  CHECK(hex_of(1.5f) == "ca3fc00000");
  CHECK(hex_of(2.0) == "cb4000000000000000");  // values keep float64
  CHECK(hex_of(std::string("hi")) == "a26869");
  CHECK(hex_of(std::string(32, 'x')).substr(0, 4) == "d920");
  CHECK(hex_of(std::string(256, 'x')).substr(0, 6) == "da0100");
  CHECK(hex_of(std::string(65536, 'x')).substr(0, 10) == "db00010000");
  CHECK(hex_of(cachekit::bytes(std::string("\x01\x02", 2))) == "c4020102");
  CHECK(hex_of(std::vector<std::uint8_t>{1, 2}) == "920102");  // a vector is an array, bytes is bin
  CHECK(hex_of(std::optional<int>()) == "c0");
  CHECK(hex_of(std::optional<int>(5)) == "05");
  CHECK(hex_of(Color::green) == "02");
  CHECK(hex_of(std::vector<int>(16, 1)).substr(0, 6) == "dc0010");
  CHECK(hex_of(std::vector<int>(65536, 1)).substr(0, 10) == "dd00010000");
  CHECK(hex_of(std::pair<int, std::string>(1, "a")) == "9201a161");
  CHECK(hex_of(cachekit::uuid::parse("550E8400-E29B-41D4-A716-446655440000").value()) ==
        "d924" + to_hex("550e8400-e29b-41d4-a716-446655440000"));
}

TEST_CASE("msgpack: round trips of every supported type") {
  CHECK(round_trip(true) == true);
  CHECK(round_trip(std::int8_t{-128}) == -128);
  CHECK(round_trip(std::uint8_t{255}) == 255);
  CHECK(round_trip(std::int16_t{-32768}) == -32768);
  CHECK(round_trip(std::uint16_t{65535}) == 65535);
  CHECK(round_trip(std::int32_t{-2147483647 - 1}) == -2147483647 - 1);
  CHECK(round_trip(std::uint32_t{4294967295u}) == 4294967295u);
  CHECK(round_trip(std::numeric_limits<std::int64_t>::min()) == std::numeric_limits<std::int64_t>::min());
  CHECK(round_trip(std::numeric_limits<std::uint64_t>::max()) == std::numeric_limits<std::uint64_t>::max());
  CHECK(round_trip(0.1) == 0.1);
  CHECK(round_trip(-0.0f) == 0.0f);
  CHECK(std::signbit(round_trip(-0.0)));
  CHECK(std::isnan(round_trip(std::nan(""))));
  CHECK(round_trip(std::numeric_limits<double>::infinity()) == std::numeric_limits<double>::infinity());
  CHECK(round_trip(std::string("h\xc3\xa9llo")) == "h\xc3\xa9llo");
  CHECK(round_trip(std::string(100000, 'z')).size() == 100000);
  CHECK(round_trip(cachekit::bytes(std::string("\0\xff", 2))) == cachekit::bytes(std::string("\0\xff", 2)));
  CHECK(round_trip(std::vector<bool>{true, false, true}) == std::vector<bool>{true, false, true});
  CHECK(round_trip(std::array<int, 3>{1, 2, 3}) == std::array<int, 3>{1, 2, 3});
  CHECK(round_trip(std::map<std::string, int>{{"a", 1}, {"b", 2}}) == std::map<std::string, int>{{"a", 1}, {"b", 2}});
  CHECK(round_trip(std::map<int, std::string>{{1, "a"}}) == std::map<int, std::string>{{1, "a"}});
  CHECK(round_trip(std::unordered_map<std::string, std::vector<int>>{{"x", {1}}}) ==
        std::unordered_map<std::string, std::vector<int>>{{"x", {1}}});
  CHECK(round_trip(std::set<std::string>{"b", "a"}) == std::set<std::string>{"a", "b"});
  CHECK(round_trip(std::unordered_set<int>{1, 2}) == std::unordered_set<int>{1, 2});
  CHECK(round_trip(std::optional<std::string>()) == std::nullopt);
  CHECK(round_trip(std::optional<std::string>("x")) == std::optional<std::string>("x"));
  CHECK(round_trip(std::tuple<int, std::string, double>(1, "a", 2.5)) == std::tuple<int, std::string, double>(1, "a", 2.5));
  CHECK(round_trip(std::pair<std::string, int>("k", 3)) == std::pair<std::string, int>("k", 3));
  CHECK(round_trip(Color::red) == Color::red);
  const auto id = cachekit::uuid::parse("{550e8400-e29b-41d4-a716-446655440000}").value();
  CHECK(round_trip(id) == id);
  CHECK(round_trip(std::vector<std::vector<std::map<std::string, std::optional<int>>>>{{{{"a", 1}, {"b", std::nullopt}}}})
            .at(0)
            .at(0)
            .at("b") == std::nullopt);
}

TEST_CASE("msgpack: time points round trip with microsecond precision") {
  using namespace std::chrono;
  const auto tp = system_clock::time_point(duration_cast<system_clock::duration>(microseconds(1704112245123456LL)));
  CHECK(round_trip(tp) == tp);
  const auto whole = system_clock::time_point(duration_cast<system_clock::duration>(seconds(1704067200)));
  CHECK(to_msgpack(whole).find("2024-01-01T00:00:00+00:00") != std::string::npos);  // Python's isoformat
  CHECK(round_trip(whole) == whole);
  const auto pre_epoch = system_clock::time_point(duration_cast<system_clock::duration>(microseconds(-876544)));
  CHECK(to_msgpack(pre_epoch).find("1969-12-31T23:59:59.123456+00:00") != std::string::npos);
  CHECK(round_trip(pre_epoch) == pre_epoch);
  const auto secs = time_point_cast<seconds>(whole);
  CHECK(round_trip(secs) == secs);
  // Other spellings decoders meet: the timestamp extension (-1) and epoch numbers.
  CHECK(from_msgpack<system_clock::time_point>(from_hex("d6ff65920080")).value() == whole);
  CHECK(from_msgpack<system_clock::time_point>(from_hex("ce65920080")).value() == whole);
  CHECK_FALSE(from_msgpack<system_clock::time_point>(to_msgpack(std::map<std::string, std::string>{{"value", "x"}})));
  auto naive = to_msgpack(std::make_tuple(1));
  CHECK_FALSE(from_msgpack<system_clock::time_point>(naive));
}

TEST_CASE("msgpack: decoding accepts any width and rejects overflow into narrower types") {
  CHECK(from_msgpack<std::int64_t>(from_hex("cc05")).value() == 5);           // uint8 form
  CHECK(from_msgpack<std::int64_t>(from_hex("d30000000000000005")).value() == 5);
  CHECK(from_msgpack<std::uint8_t>(from_hex("d000")).value() == 0);           // int8 form, non-negative
  CHECK(from_msgpack<std::uint8_t>(from_hex("cdff00")).error().kind() == cachekit::ErrorKind::permanent);
  CHECK_FALSE(decodes<std::uint8_t>("cd0100"));
  CHECK_FALSE(decodes<std::int8_t>("cc80"));
  CHECK_FALSE(decodes<std::int8_t>("d1ff7f"));
  CHECK_FALSE(decodes<std::uint32_t>("ff"));
  CHECK_FALSE(decodes<std::int64_t>("cf8000000000000000"));
  CHECK(decodes<std::uint64_t>("cf8000000000000000"));
  CHECK(from_msgpack<double>(from_hex("ca3fc00000")).value() == 1.5);         // float32 for double
  CHECK(from_msgpack<double>(from_hex("2a")).value() == 42.0);                // int for double
  CHECK(from_msgpack<float>(from_hex("cb3ff8000000000000")).value() == 1.5f);
  CHECK_FALSE(decodes<float>("cb47f0000000000000"));                          // 2^128-ish overflows float
  CHECK_FALSE(decodes<int>("cb3ff8000000000000"));                            // no float -> int
  CHECK_FALSE(decodes<bool>("01"));
  CHECK_FALSE(decodes<std::string>("c40161"));                                // bin is not str
  CHECK(from_msgpack<cachekit::bytes>(from_hex("a161")).value() == cachekit::bytes(std::string("a")));
  CHECK_FALSE(decodes<std::array<int, 2>>("93010203"));
  CHECK_FALSE(decodes<std::tuple<int, int>>("9101"));
  CHECK_FALSE(decodes<cachekit::uuid>("a3616263"));
  CHECK(decodes<cachekit::uuid>("c410" + std::string(32, 'a')));
}

TEST_CASE("msgpack: the decoder is hardened against malformed input") {
  // Trailing bytes, including a cachekit-py auto-mode frame ("CK...").
  CHECK_FALSE(decodes<int>("0101"));
  auto ck = from_msgpack<int>("CK\x03");
  REQUIRE_FALSE(ck);
  CHECK(ck.error().message().find("Python-SDK") != std::string::npos);
  CHECK_FALSE(decodes<int>(""));
  CHECK_FALSE(decodes<int>("c1"));  // never-used format byte
  // Lengths that claim more than the input holds, up to 2^32-1: no allocation, an error.
  CHECK_FALSE(decodes<std::vector<int>>("ddffffffff"));
  CHECK_FALSE(decodes<std::vector<std::string>>("ddffffffff01"));
  CHECK_FALSE(decodes<std::map<std::string, int>>("dfffffffff"));
  CHECK_FALSE(decodes<std::string>("dbffffffff61"));
  CHECK_FALSE(decodes<cachekit::bytes>("c6ffffffff"));
  CHECK_FALSE(decodes<std::unordered_map<int, int>>("de0002" "0101" "02"));
  // Every truncation of a valid document fails cleanly.
  shop::Order order;
  order.id = 7;
  order.items = {{"a", 1, 2.5}, {"b", 2, 3.5}};
  order.note = "n";
  order.tags = {{"k", "v"}};
  order.signature = cachekit::bytes(std::string("sig"));
  order.flags = {1, 2};
  const std::string full = to_msgpack(order);
  for (std::size_t n = 0; n < full.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(from_msgpack<shop::Order>(std::string_view(full).substr(0, n)));
  }
  CHECK(from_msgpack<shop::Order>(full));
}

namespace {
std::size_t largest_allocation = 0;

// Records the largest single allocation a container asks for.
template <class T>
struct CountingAllocator {
  using value_type = T;
  CountingAllocator() = default;
  template <class U>
  CountingAllocator(const CountingAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)
  T* allocate(std::size_t n) {
    largest_allocation = std::max(largest_allocation, n * sizeof(T));
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }
  friend bool operator==(const CountingAllocator&, const CountingAllocator&) { return true; }
  friend bool operator!=(const CountingAllocator&, const CountingAllocator&) { return false; }
};
}  // namespace

TEST_CASE("msgpack: a forged length never allocates more than the input holds") {
  using Big = std::array<std::int64_t, 512>;  // 4 KiB per element
  // array32 header claiming 65536 elements, followed by 65536 bytes that are not elements.
  std::string input = from_hex("dd00010000") + std::string(65536, '\xc1');
  largest_allocation = 0;
  CHECK_FALSE(from_msgpack<std::vector<Big, CountingAllocator<Big>>>(input));
  CHECK(largest_allocation <= input.size());
  // Real elements still decode, growing past the first reservation.
  std::vector<int, CountingAllocator<int>> many(100000, 7);
  auto back = from_msgpack<std::vector<int, CountingAllocator<int>>>(to_msgpack(many));
  REQUIRE(back);
  CHECK(back->size() == 100000);
  CHECK(hex_of(nullptr) == "c0");
  CHECK(from_msgpack<std::nullptr_t>(from_hex("c0")));
}

TEST_CASE("msgpack: nesting is bounded by CACHEKIT_MSGPACK_MAX_DEPTH") {
  using V1 = std::vector<int>;
  // 100,000 nested arrays: skip() is iterative and containers stop at the limit.
  std::string deep(100000, '\x91');
  deep += '\x01';
  CHECK_FALSE(from_msgpack<std::vector<std::vector<V1>>>(deep));
  auto skipped = from_msgpack<User>(from_hex("81a178") + deep);  // unknown field holding the bomb
  CHECK_FALSE(skipped);  // its own fields are missing, but it returns instead of recursing
  // Depth exactly at the limit still decodes.
  using Nest = std::vector<std::vector<std::vector<std::vector<int>>>>;
  CHECK(round_trip(Nest{{{{1}}}}).size() == 1);
  std::string at_limit(CACHEKIT_MSGPACK_MAX_DEPTH, '\x91');
  at_limit += '\x01';
  cachekit::detail::msgpack_reader r(at_limit);
  CHECK(r.skip());
}

TEST_CASE("msgpack: random bytes never crash the decoder") {
  std::uint64_t s = 88172645463325252ULL;
  auto next = [&s] {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  };
  // Mutations of a valid document reach deep paths; pure noise covers the rest.
  const std::string seed = to_msgpack(shop::Order{});
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string in = seed;
    if (i % 2 == 0) {
      const auto flips = 1 + next() % 4;
      for (std::uint64_t f = 0; f < flips; ++f) in[next() % in.size()] = static_cast<char>(next());
    } else {
      in.resize(next() % 64);
      for (auto& c : in) c = static_cast<char>(next());
    }
    decoded += from_msgpack<shop::Order>(in) ? 1 : 0;
    decoded += from_msgpack<std::vector<std::map<std::string, std::optional<double>>>>(in) ? 1 : 0;
    cachekit::detail::msgpack_reader r(in);
    (void)r.skip();
  }
  CHECK(decoded >= 0);
}

TEST_CASE("CACHEKIT_FIELDS: structs are maps of field name to value") {
  const User u{42, "ann", {"admin"}};
  CHECK(hex_of(u) == "83a269642aa46e616d65a3616e6ea5726f6c657391a561646d696e");
  const auto back = round_trip(u);
  CHECK(back.id == 42);
  CHECK(back.name == "ann");
  CHECK(back.roles == std::vector<std::string>{"admin"});

  shop::Order order;
  order.id = -5;
  order.items = {{"sku-1", 3, 9.99}};
  order.tags = {{"a", "b"}};
  order.placed = *cachekit::detail::parse_iso8601("2025-11-14T10:30:00.5Z");
  order.ref = cachekit::uuid::parse("550e8400e29b41d4a716446655440000").value();
  order.pair = {4, true};
  order.paid = true;
  const auto o = round_trip(order);
  CHECK(o.id == -5);
  CHECK(o.items == order.items);
  CHECK(o.note == std::nullopt);
  CHECK(o.tags == order.tags);
  CHECK(o.placed == order.placed);
  CHECK(o.ref == order.ref);
  CHECK(o.pair == order.pair);
  CHECK(o.paid);
}

TEST_CASE("CACHEKIT_FIELDS: decoding by name; unknown skipped, missing and repeated rejected") {
  // Reordered fields plus unknown ones (including a non-string key).
  auto reordered = from_msgpack<User>(from_hex("85a5726f6c657390a46e616d65a162a5657874726181a17801a269640701c0"));
  REQUIRE_MESSAGE(reordered, (reordered ? "" : reordered.error().message()));
  CHECK(reordered->id == 7);
  CHECK(reordered->name == "b");
  auto missing = from_msgpack<User>(from_hex("82a2696401a46e616d65a161"));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message().find("roles") != std::string::npos);
  auto twice = from_msgpack<User>(from_hex("84a2696401a2696402a46e616d65a161a5726f6c657390"));
  REQUIRE_FALSE(twice);
  CHECK(twice.error().message().find("twice") != std::string::npos);
  CHECK_FALSE(from_msgpack<User>(from_hex("83a26964a178a46e616d65a161a5726f6c657390")));  // wrong type
  CHECK_FALSE(from_msgpack<User>(from_hex("93010203")));                                // not a map
  // A missing std::optional field reads as nullopt; a nil one too.
  auto no_age = from_msgpack<MsgProfile>(from_hex("81a46e616d65a161"));
  REQUIRE(no_age);
  CHECK(no_age->name == "a");
  CHECK(no_age->age == std::nullopt);
  CHECK(from_msgpack<MsgProfile>(from_hex("82a46e616d65a161a3616765c0")).value().age == std::nullopt);
  CHECK(from_msgpack<MsgProfile>(from_hex("82a46e616d65a161a361676505")).value().age == 5);
  CHECK_FALSE(from_msgpack<MsgProfile>(from_hex("81a361676505")));  // name is required
}

TEST_CASE("CACHEKIT_FIELDS_FRIEND lists private members from inside the class") {
  const Account a(9, "k");
  CHECK(hex_of(a) == "82a369645f09a46b65795fa16b");  // the wire names are the member names
  const auto back = round_trip(a);
  CHECK(back.id() == 9);
  CHECK(back.key() == "k");
}

TEST_CASE("msgpack agrees with Python's msgpack both ways") {
  // C++ -> Python: a struct arrives as a dict, bytes as bytes, time points as the sentinel map.
  shop::Order order;
  order.id = 12345678901LL;
  order.items = {{"sku-1", 3, 9.5}, {"sku-2", 1, 0.25}};
  order.note = "gift";
  order.tags = {{"b", "2"}, {"a", "1"}};
  order.placed = *cachekit::detail::parse_iso8601("2024-01-01T12:30:45.123456+00:00");
  order.signature = cachekit::bytes(std::string("\x00\xff", 2));
  order.ref = cachekit::uuid::parse("550e8400-e29b-41d4-a716-446655440000").value();
  order.flags = {3, 1};
  order.pair = {9, true};
  order.paid = true;
  auto out = cktest::run_python(
      "import sys, msgpack, datetime\n"
      "d = msgpack.unpackb(bytes.fromhex(sys.stdin.read().strip()), raw=False)\n"
      "assert isinstance(d, dict), type(d)\n"
      "assert d['id'] == 12345678901\n"
      "assert d['items'] == [{'sku': 'sku-1', 'quantity': 3, 'price': 9.5}, {'sku': 'sku-2', 'quantity': 1, 'price': 0.25}]\n"
      "assert d['note'] == 'gift' and d['tags'] == {'a': '1', 'b': '2'}\n"
      "assert d['placed']['__datetime__'] is True\n"
      "t = datetime.datetime.fromisoformat(d['placed']['value'])\n"
      "assert t == datetime.datetime(2024, 1, 1, 12, 30, 45, 123456, tzinfo=datetime.timezone.utc), t\n"
      "assert d['signature'] == b'\\x00\\xff' and d['ref'] == '550e8400-e29b-41d4-a716-446655440000'\n"
      "assert d['flags'] == [1, 3] and d['pair'] == [9, True] and d['paid'] is True\n"
      "print('ok')\n",
      to_hex(to_msgpack(order)));
  REQUIRE_MESSAGE(out, (out ? "" : out.error().message()));
  CHECK(*out == "ok\n");

  // Python -> C++: a dict written by msgpack.packb (other key order, an extra key, widths Python picks).
  auto py = cktest::run_python(
      "import msgpack, datetime\n"
      "d = {'paid': False, 'extra': {'nested': [1, 2, None]}, 'id': -3, 'note': None,\n"
      "     'items': [{'price': 1.25, 'quantity': 70000, 'sku': 'x'}], 'tags': {'k': 'v'},\n"
      "     'placed': {'__datetime__': True, 'value': datetime.datetime(2020, 2, 29, 23, 59, 59, 999999,\n"
      "                tzinfo=datetime.timezone(datetime.timedelta(hours=-5))).isoformat()},\n"
      "     'signature': b'\\x01\\x02', 'ref': '550E8400-E29B-41D4-A716-446655440000', 'flags': [5, 4],\n"
      "     'pair': [1, False]}\n"
      "print(msgpack.packb(d, use_bin_type=True).hex())\n");
  REQUIRE_MESSAGE(py, (py ? "" : py.error().message()));
  auto o = from_msgpack<shop::Order>(from_hex(py->substr(0, py->find('\n'))));
  REQUIRE_MESSAGE(o, (o ? "" : o.error().message()));
  CHECK(o->id == -3);
  CHECK(o->note == std::nullopt);
  REQUIRE(o->items.size() == 1);
  CHECK(o->items[0].quantity == 70000);
  CHECK(o->items[0].price == 1.25);
  CHECK(o->tags.at("k") == "v");
  CHECK(o->placed == *cachekit::detail::parse_iso8601("2020-03-01T04:59:59.999999Z"));
  CHECK(o->signature == cachekit::bytes(std::string("\x01\x02")));
  CHECK(o->ref.to_string() == "550e8400-e29b-41d4-a716-446655440000");
  CHECK(o->flags == std::set<int>{4, 5});
  CHECK_FALSE(o->paid);
}

TEST_CASE("ISO-8601 parsing and formatting") {
  using cachekit::detail::format_iso8601_utc;
  using cachekit::detail::parse_iso8601;
  CHECK(format_iso8601_utc(parse_iso8601("2024-01-01T18:00:45.123456+05:30").value()) ==
        "2024-01-01T12:30:45.123456+00:00");
  CHECK(format_iso8601_utc(parse_iso8601("1970-01-01 00:00:00Z").value()) == "1970-01-01T00:00:00+00:00");
  CHECK(format_iso8601_utc(parse_iso8601("2000-02-29T00:00:00.5-0100").value()) == "2000-02-29T01:00:00.500000+00:00");
  CHECK(format_iso8601_utc(parse_iso8601("1800-01-01T00:00:00+00:00").value()) == "1800-01-01T00:00:00+00:00");
  CHECK(format_iso8601_utc(parse_iso8601("2200-12-31T23:59:59.999999+00:00").value()) ==
        "2200-12-31T23:59:59.999999+00:00");
  // libstdc++'s system_clock counts int64 nanoseconds (about 1678..2261): outside is an error, not overflow.
  using rep = std::chrono::system_clock::duration;
  if (std::chrono::duration_cast<std::chrono::hours>(rep::max()).count() < 24LL * 366 * 9000) {
    CHECK_FALSE(parse_iso8601("0001-01-01T00:00:00+00:00"));
    CHECK_FALSE(parse_iso8601("9999-12-31T23:59:59+00:00"));
    CHECK_FALSE(cachekit::from_msgpack<std::chrono::system_clock::time_point>(cktest::from_hex("c70cff000000007fffffffffffffff")));
  }
  CHECK_FALSE(parse_iso8601("2024-01-01T00:00:00"));  // naive
  CHECK_FALSE(parse_iso8601("2023-02-29T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2024-13-01T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2024-01-01T24:00:00Z"));
  CHECK_FALSE(parse_iso8601("2024-01-01T00:00:00Zjunk"));
  CHECK_FALSE(parse_iso8601("2024-01-01T00:00:00.Z"));
  CHECK_FALSE(parse_iso8601(""));
}
