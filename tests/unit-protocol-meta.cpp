// Meta protocol codec: the exact bytes of every request, every reply form
// and returned flag decoded, every prefix of a reply incomplete, malformed
// replies refused with their cause, the signs of a server that cannot speak
// meta, and the codec against a real memcached (flag order, quiet mode).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/line_client.hpp"
#include "support/wire_check.hpp"
#include "support/memcached_process.hpp"

namespace proto = cachekit::protocol;
namespace meta = cachekit::protocol::meta;
using proto::Field;
using proto::MetaWire;
using proto::ReplyKind;

namespace {
const std::vector<std::string>& meta_valid_replies() {
  static const std::vector<std::string> all = {
      "VA 5 f0 c4 t-1 s5 kkey O77\r\nhello\r\n",
      "VA 0 c1 t30 W\r\n\r\n",
      "VA 6 X Z\r\na\r\nb\r\n\r\n",
      "HD\r\n", "HD c9 O1\r\n", "EN\r\n", "EN kmiss O5\r\n", "NS O9\r\n", "EX\r\n", "NF O3\r\n", "MN\r\n",
      "ME k exp=-1 la=1 cas=6 fetch=no cls=1 size=64\r\n", "HD \r\n", "OK\r\n", "ERROR\r\n",
      "CLIENT_ERROR bad command line format\r\n", "SERVER_ERROR out of memory\r\n", "STORED\r\n",
      "VERSION 1.6.18\r\n", "STAT pid 1\r\n", "END\r\n"};
  return all;
}
}  // namespace

TEST_CASE("meta: mg requests, modifiers before t") {
  CHECK(cktest::encoded([](char* d) { return meta::encode_mg(d, "k", {}); }) == "mg k v f\r\n");
  meta::GetOptions o;
  o.base64_key = true;
  o.key = true;
  o.cas = true;
  o.ttl = true;
  o.size = true;
  o.hit_before = true;
  o.last_access = true;
  o.no_lru_bump = true;
  o.vivify = 30;
  o.recache = 10;
  o.touch = 60;
  o.opaque = 4294967295u;
  o.quiet = true;
  CHECK(cktest::encoded([&](char* d) { return meta::encode_mg(d, "a2V5", o); }) ==
        "mg a2V5 b v f k c s h l u N30 R10 T60 t O4294967295 q\r\n");
  meta::GetOptions bare;
  bare.value = false;
  bare.client_flags = false;
  CHECK(cktest::encoded([&](char* d) { return meta::encode_mg(d, "k", bare); }) == "mg k\r\n");

  proto::GetRequest g;
  g.key = "k";
  CHECK(cktest::encoded([&](char* d) { return MetaWire::encode_get(d, g); }) == "mg k v f\r\n");
  g.cas = true;
  g.touch = true;
  g.exptime = 100;
  g.opaque = 12;
  g.quiet = true;
  g.return_key = true;
  CHECK(cktest::encoded([&](char* d) { return MetaWire::encode_get(d, g); }) == "mg k v f k c T100 O12 q\r\n");
  CHECK(cktest::encoded([](char* d) { return MetaWire::encode_touch(d, "k", -1, 3); }) == "mg k T-1 O3\r\n");
}

TEST_CASE("meta: ms, md, ma, mn, me requests") {
  CHECK(cktest::encoded([](char* d) { return meta::encode_ms_head(d, "k", 5, {}); }) == "ms k 5\r\n");
  meta::SetOptions s;
  s.base64_key = true;
  s.ttl = 300;
  s.client_flags = 4294967295u;
  s.compare_cas = 18446744073709551615ull;
  s.invalidate = true;
  s.mode = proto::StoreMode::append;
  s.vivify = 60;
  s.return_cas = true;
  s.return_key = true;
  s.opaque = 8;
  s.quiet = true;
  CHECK(cktest::encoded([&](char* d) { return meta::encode_ms_head(d, "a2V5", 0, s); }) ==
        "ms a2V5 0 b T300 F4294967295 C18446744073709551615 I MA N60 c k O8 q\r\n");
  const std::pair<proto::StoreMode, const char*> modes[] = {{proto::StoreMode::set, "ms k 1\r\n"},
                                                            {proto::StoreMode::add, "ms k 1 ME\r\n"},
                                                            {proto::StoreMode::replace, "ms k 1 MR\r\n"},
                                                            {proto::StoreMode::append, "ms k 1 MA\r\n"},
                                                            {proto::StoreMode::prepend, "ms k 1 MP\r\n"},
                                                            {proto::StoreMode::cas, "ms k 1 C0\r\n"}};
  for (const auto& m : modes) {
    meta::SetOptions o;
    o.mode = m.first;
    CHECK(cktest::encoded([&](char* d) { return meta::encode_ms_head(d, "k", 1, o); }) == m.second);
  }
  std::string out;
  meta::encode_ms(out, "k", std::string("a\r\n\0", 4), {});
  CHECK(out == std::string("ms k 4\r\na\r\n\0\r\n", 14));

  proto::StoreRequest r;
  r.key = "k";
  r.value_size = 2;
  r.flags = 5;
  r.exptime = 60;
  CHECK(cktest::encoded([&](char* d) { return MetaWire::encode_store_head(d, r); }) == "ms k 2 T60 F5\r\n");
  r.mode = proto::StoreMode::cas;
  r.cas = 99;
  r.opaque = 4;
  r.quiet = true;
  CHECK(cktest::encoded([&](char* d) { return MetaWire::encode_store_head(d, r); }) == "ms k 2 T60 F5 C99 O4 q\r\n");
  r.mode = proto::StoreMode::append;  // flags and TTL do not apply
  CHECK(cktest::encoded([&](char* d) { return MetaWire::encode_store_head(d, r); }) == "ms k 2 MA O4 q\r\n");

  CHECK(cktest::encoded([](char* d) { return meta::encode_md(d, "k"); }) == "md k\r\n");
  meta::DeleteOptions del;
  del.base64_key = true;
  del.compare_cas = 5;
  del.invalidate = true;
  del.ttl = 30;
  del.return_key = true;
  del.opaque = 1;
  del.quiet = true;
  CHECK(cktest::encoded([&](char* d) { return meta::encode_md(d, "k", del); }) == "md k b C5 I T30 k O1 q\r\n");
  CHECK(cktest::encoded([](char* d) { return MetaWire::encode_delete(d, "k", 7, true); }) == "md k O7 q\r\n");

  CHECK(cktest::encoded([](char* d) { return meta::encode_ma(d, "n", {}); }) == "ma n D1 v\r\n");
  meta::ArithOptions a;
  a.decrement = true;
  a.delta = 18446744073709551615ull;
  a.vivify = 0;
  a.initial = 10;
  a.ttl = 60;
  a.compare_cas = 3;
  a.return_ttl = true;
  a.return_cas = true;
  a.return_key = true;
  a.base64_key = true;
  a.opaque = 2;
  a.quiet = true;
  CHECK(cktest::encoded([&](char* d) { return meta::encode_ma(d, "bg==", a); }) ==
        "ma bg== b MD D18446744073709551615 N0 J10 T60 C3 v t c k O2 q\r\n");
  proto::CounterRequest c;
  c.key = "n";
  c.delta = 5;
  CHECK(cktest::encoded([&](char* d) { return MetaWire::encode_counter(d, c); }) == "ma n D5 v\r\n");
  c.create = true;
  c.initial = 7;
  c.exptime = 300;
  c.decrement = true;
  c.opaque = 9;
  CHECK(cktest::encoded([&](char* d) { return MetaWire::encode_counter(d, c); }) == "ma n MD D5 N300 J7 v O9\r\n");

  CHECK(cktest::encoded([](char* d) { return meta::encode_mn(d); }) == "mn\r\n");
  CHECK(cktest::encoded([](char* d) { return MetaWire::encode_noop(d); }) == "mn\r\n");
  CHECK(cktest::encoded([](char* d) { return meta::encode_me(d, "k"); }) == "me k\r\n");
  // No meta form: sent as text commands.
  CHECK(cktest::encoded([](char* d) { return MetaWire::encode_flush_all(d, 0); }) == "flush_all\r\n");
  CHECK(cktest::encoded([](char* d) { return MetaWire::encode_version(d); }) == "version\r\n");
  CHECK(cktest::encoded([](char* d) { return MetaWire::encode_stats(d, "slabs"); }) == "stats slabs\r\n");
  out.clear();
  MetaWire::encode_login(out, "u", "p");
  CHECK(out == "set cachekit:login 0 -1 3\r\nu p\r\n");

  out.clear();
  const std::string keys[] = {"a", "bb"};
  meta::encode_mg_pipeline(out, 2, [&](std::size_t i) { return std::string_view(keys[i]); }, 100);
  CHECK(out == "mg a v O100 q\r\nmg bb v O101 q\r\nmn\r\n");

  // The batch run writes the same requests with four-digit opaques (leading
  // zeros) while the last is below 10,000, across every carry of the pair
  // counter, and plain decimal above (every carry: 9 -> 10, 99 -> 100, ...).
  struct RunCase {
    std::uint32_t first;
    std::size_t n;
  };
  for (const RunCase rc : {RunCase{0, 1}, RunCase{0, 100}, RunCase{0, 101}, RunCase{1, 99}, RunCase{1, 100},
                           RunCase{80, 20}, RunCase{81, 20}, RunCase{0, 20}, RunCase{7, 20}, RunCase{95, 20}, RunCase{995, 20}, RunCase{9980, 20},
                           RunCase{9981, 20}, RunCase{99999990u, 20}, RunCase{0, 10000}, RunCase{0, 10001},
                           RunCase{1, 9999}, RunCase{1, 10000}}) {
    CAPTURE(rc.first);
    CAPTURE(rc.n);
    std::vector<std::string> many;
    std::size_t key_bytes = 0;
    for (std::size_t i = 0; i < rc.n; ++i) {
      many.push_back("key:" + std::to_string(i * 37));
      key_bytes += many.back().size();
    }
    auto at = [&](std::size_t i) { return std::string_view(many[i]); };
    const std::size_t width = rc.first + rc.n <= 10000 ? 4 : 0;
    std::string want;
    for (std::size_t i = 0; i < rc.n; ++i) {
      std::string o = std::to_string(rc.first + i);
      if (o.size() < width) o.insert(0, width - o.size(), '0');
      want += "mg " + many[i] + " v O" + o + " q\r\n";
    }
    want += "mn\r\n";
    std::string run(meta::mg_batch_bound(many.size(), key_bytes), '\0');
    run.resize(meta::encode_mg_batch_run(&run[0], many.size(), at, rc.first));
    CHECK(run == want);
    if (width == 0) {  // plain decimal: what encode_mg_pipeline writes
      std::string piped;
      meta::encode_mg_pipeline(piped, many.size(), at, rc.first);
      CHECK(run == piped);
    }
  }
  static_assert(MetaWire::has_opaque && MetaWire::has_quiet_get && MetaWire::has_lease && MetaWire::has_noop, "");
}

TEST_CASE("meta: every reply form and returned flag") {
  auto r = cktest::decode_whole<MetaWire>("VA 5 f4294967295 c18446744073709551615 t-1 s5 kkey O77 h1 l30 b\r\nhello\r\n");
  CHECK(r.kind == ReplyKind::value);
  CHECK(r.value == "hello");
  CHECK(r.flags == 4294967295u);
  CHECK(r.cas == 18446744073709551615ull);
  CHECK(r.ttl == -1);
  CHECK(r.size == 5);
  CHECK(r.key == "key");
  CHECK(r.opaque == "77");
  CHECK(meta::opaque_is(r.opaque, 77));
  CHECK_FALSE(meta::opaque_is(r.opaque, 78));
  CHECK(r.hit_before);
  CHECK(r.last_access == 30);
  for (Field f : {Field::flags, Field::cas, Field::ttl, Field::size, Field::key, Field::opaque, Field::hit_before,
                  Field::last_access, Field::base64_key}) {
    CHECK(r.has(f));
  }
  CHECK_FALSE(r.won());
  CHECK_FALSE(r.has(Field::legacy));

  r = cktest::decode_whole<MetaWire>("VA 0 c1 t30 W\r\n\r\n");
  CHECK(r.value.empty());
  CHECK(r.ttl == 30);
  CHECK(r.won());
  CHECK_FALSE(r.has(Field::flags));
  r = cktest::decode_whole<MetaWire>("VA 3 X Z\r\na\r\n\r\n");
  CHECK(r.value == "a\r\n");
  CHECK(r.stale());
  CHECK(r.winner_sent());
  CHECK_FALSE(r.won());

  struct Line {
    const char* wire;
    ReplyKind kind;
  };
  const Line lines[] = {{"HD\r\n", ReplyKind::ok},       {"EN\r\n", ReplyKind::miss},
                        {"NS\r\n", ReplyKind::not_stored}, {"EX\r\n", ReplyKind::exists},
                        {"NF\r\n", ReplyKind::not_found},  {"MN\r\n", ReplyKind::end},
                        {"ERROR\r\n", ReplyKind::error},   {"STORED\r\n", ReplyKind::stored},
                        {"END\r\n", ReplyKind::end}};
  for (const auto& l : lines) {
    INFO(l.wire);
    CHECK(cktest::decode_whole<MetaWire>(l.wire).kind == l.kind);
  }
  r = cktest::decode_whole<MetaWire>("HD c9 O1 kfoo\r\n");
  CHECK(r.kind == ReplyKind::ok);
  CHECK(r.cas == 9);
  CHECK(meta::opaque_is(r.opaque, 1));
  CHECK(r.key == "foo");
  r = cktest::decode_whole<MetaWire>("EN kmiss O5\r\n");  // 1.6.18 echoes k and O on a miss
  CHECK(r.kind == ReplyKind::miss);
  CHECK(r.key == "miss");
  CHECK(r.opaque == "5");
  r = cktest::decode_whole<MetaWire>("NS O9\r\n");
  CHECK(r.opaque == "9");
  r = cktest::decode_whole<MetaWire>("HD Q7 zz\r\n");  // flags this client never asks for are skipped
  CHECK(r.kind == ReplyKind::ok);

  r = cktest::decode_whole<MetaWire>("ME k exp=-1 la=1 cas=6 fetch=no cls=1 size=64\r\n");
  CHECK(r.kind == ReplyKind::debug);
  CHECK(r.key == "k");
  CHECK(r.text == "exp=-1 la=1 cas=6 fetch=no cls=1 size=64");

  r = cktest::decode_whole<MetaWire>("HD \r\n");  // the stray space of servers before 1.6.18
  CHECK(r.kind == ReplyKind::ok);
  CHECK(r.has(Field::trailing_space));
  CHECK_FALSE(r.has(Field::legacy));
  r = cktest::decode_whole<MetaWire>("VA 1 f2 \r\nx\r\n");
  CHECK(r.flags == 2);
  CHECK(r.has(Field::trailing_space));

  r = cktest::decode_whole<MetaWire>("CLIENT_ERROR bad command line format\r\n");
  CHECK(r.kind == ReplyKind::client_error);
  CHECK(r.text == "bad command line format");
  CHECK(proto::must_close(r));
  r = cktest::decode_whole<MetaWire>("SERVER_ERROR out of memory\r\n");
  CHECK(r.kind == ReplyKind::server_error);
  CHECK(proto::error_kind(r) == cachekit::ErrorKind::transient);

  // Replies to the text commands a meta connection also sends.
  r = cktest::decode_whole<MetaWire>("VERSION 1.6.18\r\n");
  CHECK(r.kind == ReplyKind::version);
  CHECK(r.text == "1.6.18");
  r = cktest::decode_whole<MetaWire>("STAT curr_items 3\r\n");
  CHECK(r.kind == ReplyKind::stat);
  CHECK(r.value == "3");
}

TEST_CASE("meta: signs of a server that cannot speak meta") {
  auto r = cktest::decode_whole<MetaWire>("OK\r\n");  // 1.6.0 - 1.6.9 answer OK where later servers answer HD
  CHECK(r.kind == ReplyKind::ok);
  CHECK(r.has(Field::legacy));
  CHECK(meta::calls_for_text(r));
  r = cktest::decode_whole<MetaWire>("ERROR\r\n");  // before 1.5.19, or a proxy without meta
  CHECK(meta::calls_for_text(r));
  CHECK_FALSE(meta::calls_for_text(cktest::decode_whole<MetaWire>("HD\r\n")));
  CHECK_FALSE(meta::calls_for_text(cktest::decode_whole<MetaWire>("EN\r\n")));
  CHECK_FALSE(meta::calls_for_text(cktest::decode_whole<MetaWire>("CLIENT_ERROR bad command line format\r\n")));
  // The old VA carried no size: refused, and the cause names the dialect.
  CHECK(cktest::why_of<MetaWire>("VA s2 v\r\nhi\r\n").find("before 1.6.10") != std::string::npos);
}

TEST_CASE("meta: every proper prefix of a reply needs more bytes") {
  for (const auto& w : meta_valid_replies()) {
    for (std::size_t n = 0; n < w.size(); ++n) {
      proto::ServerReply r;
      const auto d = MetaWire::decode(w.data(), n, r);
      INFO("reply ", w, " cut at ", n);
      REQUIRE(d.need_more());
      CHECK(d.size > n);
      CHECK(d.size <= w.size());
    }
  }
}

TEST_CASE("meta: malformed replies are refused with their cause") {
  struct Bad {
    std::string wire;
    const char* cause;
  };
  const Bad bad[] = {
      {"VA\r\n", "VA size"},
      {"VA x\r\n", "before 1.6.10"},
      {"VA -1\r\n", "VA size"},
      {"VA 18446744073709551616\r\n", "VA size"},
      {"VA 4294967296 f0\r\n", "largest"},
      {"VA 2 f-1\r\nhi\r\n", "flag f"},
      {"VA 2 f4294967296\r\nhi\r\n", "flag f"},
      {"VA 2 c1x\r\nhi\r\n", "flag c"},
      {"VA 2 c\r\nhi\r\n", "flag c"},
      {"VA 2 t-2\r\nhi\r\n", "flag t"},
      {"VA 2 t\r\nhi\r\n", "flag t"},
      {"VA 2 s1.5\r\nhi\r\n", "flag s"},
      {"VA 2 h2\r\nhi\r\n", "flag h"},
      {"VA 2 l-1\r\nhi\r\n", "flag l"},
      {"VA 2\r\nhiXY", "not followed"},
      {"VA 2\r\nhi\nX", "not followed"},
      {"HD 5\r\n", "not a letter"},
      {"HD O1 $x\r\n", "not a letter"},
      {"EN \x01\r\n", "not a letter"},
      {"ME\r\n", "ME line without a key"},
      {"HDX\r\n", "unknown"},
      {"hd\r\n", "unknown"},
      {"XX\r\n", "unknown"},
      {"H\r\n", "unknown"},
      {"VALUE k 0 1\r\nx\r\n", "unknown"},
      {"12\r\n", "unknown"},
      {"\r\n", "empty"},
      {"HD\n", "without \\r"},
      {std::string(9000, 'H'), "too long"},
  };
  for (const auto& b : bad) {
    INFO("reply: ", b.wire.substr(0, 40));
    const std::string why = cktest::why_of<MetaWire>(b.wire);
    CHECK_MESSAGE(why.find(b.cause) != std::string::npos, why);
  }
  proto::Limits lim;
  lim.max_value = 1;
  CHECK(cktest::why_of<MetaWire>("VA 2\r\nhi\r\n", lim).find("largest") != std::string::npos);
}

TEST_CASE("meta: a reply stream split anyhow through the reader") {
  std::string stream;
  for (const auto& w : meta_valid_replies()) stream += w;
  for (std::size_t chunk = 1; chunk <= 11; ++chunk) {
    proto::ReplyReader<MetaWire> reader;
    std::vector<std::string> got;
    std::size_t pos = 0;
    while (pos < stream.size()) {
      const std::size_t n = std::min(chunk, stream.size() - pos);
      std::string piece = stream.substr(pos, n);
      std::size_t used = 0;
      while (used < n) {
        used += reader.feed(piece.data() + used, n - used);
        REQUIRE_FALSE(reader.failed());
        if (reader.complete()) {
          const auto& r = reader.reply();
          got.push_back(std::string(proto::to_string(r.kind)) + "|" + std::string(r.key) + "|" +
                        std::string(r.value) + "|" + std::string(r.opaque));
          reader.next();
        }
      }
      pos += n;
    }
    REQUIRE(got.size() == meta_valid_replies().size());
    CHECK(got[0] == "value|key|hello|77");
    CHECK(got[2] == "value||a\r\nb\r\n|");
    CHECK(got[6] == "miss|miss||5");
  }
}

namespace {
using MetaClient = cktest::LineClient<MetaWire>;

cktest::OwnedReply must_next(MetaClient& c) {
  auto r = c.next();
  REQUIRE_MESSAGE(!r.failed, r.failure);
  return r;
}
template <class Encode>
void send_head(MetaClient& c, Encode&& encode) {
  REQUIRE(c.send_head(std::forward<Encode>(encode)));
}
void ms(MetaClient& c, const std::string& key, const std::string& value, const meta::SetOptions& o = {}) {
  std::string out;
  meta::encode_ms(out, key, value, o);
  REQUIRE(c.send(out));
}
}  // namespace

TEST_CASE("meta: the codec against a real memcached") {
  cktest::MemcachedCluster servers(1);
  for (std::size_t chunk : {std::size_t{3}, std::size_t{4096}}) {
    CAPTURE(chunk);
    MetaClient c(servers.port(0), chunk);
    REQUIRE(c.connected());
    send_head(c, [](char* d) { return MetaWire::encode_flush_all(d, 0); });
    CHECK(must_next(c).kind == ReplyKind::ok);
    send_head(c, [](char* d) { return MetaWire::encode_version(d); });
    CHECK(must_next(c).kind == ReplyKind::version);

    // Miss: EN, with the key and opaque echoed; quiet: nothing until MN.
    meta::GetOptions g;
    g.key = true;
    g.opaque = 5;
    send_head(c, [&](char* d) { return meta::encode_mg(d, "nokey", g); });
    auto r = must_next(c);
    CHECK(r.kind == ReplyKind::miss);
    CHECK(meta::opaque_is(r.opaque, 5));
    g.quiet = true;
    send_head(c, [&](char* d) { return meta::encode_mg(d, "nokey", g); });
    send_head(c, [](char* d) { return meta::encode_mn(d); });
    CHECK(must_next(c).kind == ReplyKind::end);

    // Store and read back a value holding "\r\n" with every returned flag.
    const std::string tricky = std::string("VA 3\r\nEN\r\n\0!", 13);
    meta::SetOptions s;
    s.client_flags = 4294967295u;
    s.ttl = 0;
    s.return_cas = true;
    ms(c, "k1", tricky, s);
    r = must_next(c);
    CHECK(r.kind == ReplyKind::ok);
    REQUIRE(r.has(Field::cas));
    const std::uint64_t cas = r.cas;
    meta::GetOptions all;
    all.key = true;
    all.cas = true;
    all.ttl = true;
    all.size = true;
    all.opaque = 77;
    send_head(c, [&](char* d) { return meta::encode_mg(d, "k1", all); });
    r = must_next(c);
    CHECK(r.kind == ReplyKind::value);
    CHECK(r.value == tricky);
    CHECK(r.flags == 4294967295u);
    CHECK(r.cas == cas);
    CHECK(r.ttl == -1);
    CHECK(r.size == tricky.size());
    CHECK(r.key == "k1");
    CHECK(meta::opaque_is(r.opaque, 77));

    // CAS: a wrong one is EX, the right one stores.
    meta::SetOptions with_cas;
    with_cas.mode = proto::StoreMode::cas;
    with_cas.compare_cas = cas + 1;
    ms(c, "k1", "v2", with_cas);
    CHECK(must_next(c).kind == ReplyKind::exists);
    with_cas.compare_cas = cas;
    ms(c, "k1", "v2", with_cas);
    CHECK(must_next(c).kind == ReplyKind::ok);

    // Modes; quiet hides only the nominal HD, failures still come back.
    meta::SetOptions mode;
    mode.quiet = true;
    mode.opaque = 9;
    mode.mode = proto::StoreMode::add;
    ms(c, "k1", "x", mode);  // exists: NS comes back
    mode.mode = proto::StoreMode::append;
    ms(c, "k1", ">", mode);  // stored: nothing
    mode.mode = proto::StoreMode::prepend;
    ms(c, "k1", "<", mode);
    mode.mode = proto::StoreMode::replace;
    ms(c, "nokey", "x", mode);  // missing: NS
    send_head(c, [](char* d) { return meta::encode_mn(d); });
    r = must_next(c);
    CHECK(r.kind == ReplyKind::not_stored);
    CHECK(meta::opaque_is(r.opaque, 9));
    CHECK(must_next(c).kind == ReplyKind::not_stored);
    CHECK(must_next(c).kind == ReplyKind::end);
    send_head(c, [](char* d) { return meta::encode_mg(d, "k1", {}); });
    CHECK(must_next(c).value == "<v2>");

    // The flag-order pitfall: N before t reports the TTL just set; the
    // reverse order (written by hand) reports -1. A second reader sees Z.
    meta::GetOptions lease;
    lease.cas = true;
    lease.ttl = true;
    lease.vivify = 30;
    send_head(c, [&](char* d) { return meta::encode_mg(d, "lease", lease); });
    r = must_next(c);
    CHECK(r.kind == ReplyKind::value);
    CHECK(r.value.empty());
    CHECK(r.won());
    CHECK(r.ttl == 30);
    REQUIRE(c.send("mg lease2 v c t N30\r\n"));
    r = must_next(c);
    CHECK(r.won());
    CHECK(r.ttl == -1);
    send_head(c, [&](char* d) { return meta::encode_mg(d, "lease", lease); });
    r = must_next(c);
    CHECK(r.winner_sent());
    CHECK_FALSE(r.won());

    // Serve stale: md I marks stale; the next reader wins and sees X.
    ms(c, "stale", "old");
    CHECK(must_next(c).kind == ReplyKind::ok);
    meta::DeleteOptions inval;
    inval.invalidate = true;
    inval.ttl = 30;
    send_head(c, [&](char* d) { return meta::encode_md(d, "stale", inval); });
    CHECK(must_next(c).kind == ReplyKind::ok);
    meta::GetOptions reader;
    reader.cas = true;
    reader.ttl = true;
    send_head(c, [&](char* d) { return meta::encode_mg(d, "stale", reader); });
    r = must_next(c);
    CHECK(r.value == "old");
    CHECK(r.stale());
    CHECK(r.won());

    // md: HD, then NF; quiet hides HD only.
    send_head(c, [](char* d) { return MetaWire::encode_delete(d, "k1", 3, false); });
    r = must_next(c);
    CHECK(r.kind == ReplyKind::ok);
    CHECK(meta::opaque_is(r.opaque, 3));
    send_head(c, [](char* d) { return MetaWire::encode_delete(d, "k1", 4, true); });
    r = must_next(c);
    CHECK(r.kind == ReplyKind::not_found);
    CHECK(meta::opaque_is(r.opaque, 4));

    // ma: NF on a miss, create with an initial value, decrement floors at 0.
    proto::CounterRequest n;
    n.key = "cnt";
    send_head(c, [&](char* d) { return MetaWire::encode_counter(d, n); });
    CHECK(must_next(c).kind == ReplyKind::not_found);
    n.create = true;
    n.initial = 10;
    n.exptime = 0;
    send_head(c, [&](char* d) { return MetaWire::encode_counter(d, n); });
    r = must_next(c);
    CHECK(r.kind == ReplyKind::value);
    CHECK(r.value == "10");
    n.delta = 5;
    send_head(c, [&](char* d) { return MetaWire::encode_counter(d, n); });
    CHECK(must_next(c).value == "15");
    n.decrement = true;
    n.delta = 100;
    send_head(c, [&](char* d) { return MetaWire::encode_counter(d, n); });
    r = must_next(c);
    std::uint64_t value = 99;
    CHECK(proto::ascii::parse_counter(r.value, value));
    CHECK(value == 0);
    meta::ArithOptions quiet_ma;
    quiet_ma.value = false;
    quiet_ma.quiet = true;
    send_head(c, [&](char* d) { return meta::encode_ma(d, "cnt", quiet_ma); });
    send_head(c, [](char* d) { return meta::encode_mn(d); });
    CHECK(must_next(c).kind == ReplyKind::end);

    // Touch through mg T: HD when present, EN when not.
    send_head(c, [](char* d) { return MetaWire::encode_touch(d, "cnt", 100, 0); });
    CHECK(must_next(c).kind == ReplyKind::ok);
    send_head(c, [](char* d) { return MetaWire::encode_touch(d, "nokey", 100, 0); });
    CHECK(must_next(c).kind == ReplyKind::miss);
    send_head(c, [](char* d) { return meta::encode_me(d, "cnt"); });
    r = must_next(c);
    CHECK(r.kind == ReplyKind::debug);
    CHECK(r.text.find("exp=") != std::string::npos);

    // Pipelined multi-get: hits with their opaque and key, misses silent, MN last.
    std::vector<std::string> keys;
    for (int i = 0; i < 60; ++i) {
      keys.push_back("multi-" + std::to_string(i));
      if (i % 3 == 0) {
        ms(c, keys.back(), "value-" + std::to_string(i));
        REQUIRE(must_next(c).kind == ReplyKind::ok);
      }
    }
    std::string batch;
    meta::encode_mg_pipeline(batch, keys.size(), [&](std::size_t i) { return std::string_view(keys[i]); }, 1000);
    REQUIRE(c.send(batch));
    std::size_t hits = 0;
    for (r = must_next(c); r.kind != ReplyKind::end; r = must_next(c)) {
      REQUIRE(r.kind == ReplyKind::value);
      std::uint32_t op = 0;
      REQUIRE(proto::ascii::parse_u32(r.opaque, op));
      REQUIRE(op >= 1000);
      REQUIRE(op < 1000 + keys.size());
      CHECK_FALSE(r.has(proto::Field::key));
      CHECK(r.value == "value-" + std::to_string(op - 1000));
      ++hits;
    }
    CHECK(hits == 20);

    // stats over a meta connection.
    send_head(c, [](char* d) { return MetaWire::encode_stats(d, {}); });
    std::size_t stats = 0;
    for (r = must_next(c); r.kind == ReplyKind::stat; r = must_next(c)) ++stats;
    CHECK(r.kind == ReplyKind::end);
    CHECK(stats > 20);
  }
}

TEST_CASE("meta: error replies from a real memcached") {
  cktest::MemcachedCluster servers(1);
  MetaClient c(servers.port(0));
  REQUIRE(c.connected());
  REQUIRE(c.send("mz k\r\n"));  // an unknown command: what an old server says to meta
  auto r = must_next(c);
  CHECK(r.kind == ReplyKind::error);
  proto::ServerReply view;
  view.kind = r.kind;
  CHECK(meta::calls_for_text(view));
  // A flag 1.6.18 refuses: CLIENT_ERROR. This server swallows an ms's data
  // after it (the first "mn" below is data), unlike a text set refused for
  // its key; a client cannot tell which, so every error line closes.
  REQUIRE(c.send("ms k 2 E5\r\nmn\r\nmn\r\n"));
  r = must_next(c);
  CHECK(r.kind == ReplyKind::client_error);
  CHECK(r.text == "invalid flag");
  view.kind = r.kind;
  CHECK(proto::must_close(view));
  CHECK(must_next(c).kind == ReplyKind::end);
}

TEST_CASE("meta: the one-pass hit decoding gives what the full decoder gives") {
  const std::string hits[] = {"VA 5 f0 c4 s5 kkey O77\r\nhello\r\n", "VA 0\r\n\r\n", "VA 1 t-1\r\nx\r\n",
                              "VA 1 f1 \r\nx\r\n", "VA 1  f1\r\nx\r\n", "VA 1 f4294967296\r\nx\r\n",
                              "VA 1 W X Z\r\nx\r\n", "VA 1 O k\r\nx\r\n", "VA 007 c0001\r\n1234567\r\n",
                              "VA 1 f\r\nx\r\n", "VA 1 c99999999999999999999\r\nx\r\n", "VA 1 kkey\r\nxYZ"};
  for (const auto& w : hits) {
    INFO(w);
    std::string_view line;
    proto::Decoded found;
    REQUIRE(proto::ascii::take_line(w.data(), w.size(), proto::Limits{}, line, found));
    proto::ServerReply quick, full;
    const auto a = meta::decode(w.data(), w.size(), quick);
    const auto b = meta::detail::decode_line(w.data(), w.size(), line, full, proto::Limits{});
    CHECK(a.status == b.status);
    CHECK(a.size == b.size);
    if (a.complete()) {
      CHECK(quick.kind == full.kind);
      CHECK(quick.fields == full.fields);
      CHECK(quick.flags == full.flags);
      CHECK(quick.cas == full.cas);
      CHECK(quick.size == full.size);
      CHECK(quick.key == full.key);
      CHECK(quick.opaque == full.opaque);
      CHECK(quick.value == full.value);
    }
  }
}

namespace {
// What a backend templated over its wire would write: one code path, any wire.
template <class Wire>
std::string every_request() {
  std::string out;
  char head[proto::kHeadSlack + 16];
  auto put = [&](std::size_t n) { out.append(head, n); };
  proto::GetRequest g;
  g.key = "k";
  g.opaque = Wire::has_opaque ? 7u : 0u;
  put(Wire::encode_get(head, g));
  proto::StoreRequest s;
  s.key = "k";
  s.value_size = 1;
  put(Wire::encode_store_head(head, s));
  out += "v";
  out += proto::kDataEnd;
  put(Wire::encode_delete(head, "k", 0, false));
  proto::CounterRequest c;
  c.key = "n";
  c.create = Wire::has_counter_create;
  put(Wire::encode_counter(head, c));
  put(Wire::encode_touch(head, "k", 10, 0));
  if constexpr (Wire::has_noop) put(Wire::encode_noop(head));
  put(Wire::encode_version(head));
  static_assert(Wire::head_bound(1) <= sizeof head, "");
  return out;
}

template <class Wire>
std::vector<ReplyKind> replies_to_every_request(std::uint16_t port) {
  cktest::LineClient<Wire> c(port);
  REQUIRE(c.send(every_request<Wire>()));
  std::vector<ReplyKind> kinds;
  for (;;) {
    const auto r = c.next();
    REQUIRE_MESSAGE(!r.failed, r.failure);
    if (r.kind == ReplyKind::end) continue;  // text get's END, meta's MN
    kinds.push_back(r.kind);
    if (r.kind == ReplyKind::version) break;
  }
  return kinds;
}
}  // namespace

TEST_CASE("wires: one generic code path drives text and meta against a real memcached") {
  CHECK(every_request<proto::TextWire>() == "get k\r\nset k 0 0 1\r\nv\r\ndelete k\r\nincr n 1\r\ntouch k 10\r\nversion\r\n");
  CHECK(every_request<MetaWire>() ==
        "mg k v f O7\r\nms k 1\r\nv\r\nmd k\r\nma n D1 N0 J0 v\r\nmg k T10\r\nmn\r\nversion\r\n");
  cktest::MemcachedCluster servers(1);
  using K = ReplyKind;
  CHECK(replies_to_every_request<proto::TextWire>(servers.port(0)) ==
        std::vector<K>{K::stored, K::deleted, K::not_found, K::not_found, K::version});
  CHECK(replies_to_every_request<MetaWire>(servers.port(0)) ==
        std::vector<K>{K::miss, K::ok, K::ok, K::value, K::miss, K::version});
}

TEST_CASE("meta: the one-pass hit decoders take only what the full decoder reads the same way") {
  // Valid replies, every prefix of them, and every one-byte change: where a
  // fast decoder takes the bytes, the full decoder gives the same value (and
  // key and opaque), and a miss only where it says EN.
  const std::vector<std::string> replies = {"VA 5\r\nhello\r\n", "EN\r\n", "VA 0\r\n\r\n", "VA 12\r\nhe\r\nllo\r\n x\r\n",
                                            "VA 3 O17\r\nabc\r\n", "VA 3 O0\r\nxyz\r\n",
                                            "VA 3 O17 kkey:1\r\nabc\r\n", "VA 2 O99\r\nab\r\n",
                                            // 32 bytes or more buffered: the batch decoder's unchecked path
                                            "VA 20 O17\r\n01234567890123456789\r\n",
                                            "VA 3 O17\r\nabc\r\nVA 3 O0\r\nxyz\r\nEN\r\nMN\r\n",
                                            "VA 16 O1234567\r\n0123456789abcdef\r\n",
                                            "VA 16 O12345678\r\n0123456789abcdef\r\n",
                                            "VA 1234567 O17\r\n0123456789abcdef\r\n",
                                            "VA 20 O0 t-1\r\n01234567890123456789\r\n",
                                            // four-digit opaques (encode_mg_batch_run's form)
                                            "VA 20 O0017\r\n01234567890123456789\r\n",
                                            "VA 20 O0000\r\n01234567890123456789\r\n",
                                            "VA 20 O9999\r\n01234567890123456789\r\n",
                                            "VA 3 O0017\r\nabc\r\n",
                                            // leading zeros in two and three digits (the checked path)
                                            "VA 20 O00\r\n01234567890123456789\r\n",
                                            "VA 20 O017\r\n01234567890123456789\r\n"};
  std::vector<std::string> inputs;
  for (const auto& r : replies) {
    for (std::size_t n = 0; n <= r.size(); ++n) inputs.push_back(r.substr(0, n));
    for (std::size_t i = 0; i < r.size(); ++i) {
      for (char c : {' ', '0', '9', 'x', '\r', '\n', 'O', 'k', '/', ':', '\xfa', '\xff'}) {
        std::string m = r;
        m[i] = c;
        inputs.push_back(m);
      }
    }
  }
  std::size_t taken = 0;
  for (const auto& in : inputs) {
    CAPTURE(in);
    proto::ServerReply full;
    const auto d = meta::decode(in.data(), in.size(), full);
    std::string_view value;
    bool hit = false;
    const std::size_t n1 = meta::decode_value_reply(in.data(), in.size(), CACHEKIT_MAX_RESPONSE_BODY, value, hit);
    if (n1 != 0) {
      ++taken;
      REQUIRE(d.complete());
      CHECK(d.size == n1);
      CHECK(full.kind == (hit ? ReplyKind::value : ReplyKind::miss));
      if (hit) CHECK(full.value == value);
    }
    std::uint64_t opaque = 0;
    auto known = [](std::uint64_t o) { return o == 17 || o == 0 || o == 1234567; };  // O99 was never asked
    const std::size_t n2 = meta::decode_batch_hit(in.data(), in.size(), CACHEKIT_MAX_RESPONSE_BODY, known, value, opaque);
    if (n2 != 0) {
      ++taken;
      REQUIRE(d.complete());
      CHECK(d.size == n2);
      CHECK(full.kind == ReplyKind::value);
      CHECK(full.value == value);
      std::uint64_t full_opaque = 0;  // the same number (a token may have leading zeros: O0017)
      CHECK(proto::ascii::parse_u64(full.opaque, full_opaque));
      CHECK(full_opaque == opaque);
      CHECK(known(opaque));
      CHECK_FALSE(full.has(proto::Field::key));  // a key echo is the full decoder's
    }
  }
  CHECK(taken >= replies.size());
  // With 32 bytes or more buffered the batch decoder takes whole hits of
  // seven-digit opaques and leaves eight digits to the full decoder.
  auto any = [](std::uint64_t) { return true; };
  auto batch_hit = [&](const std::string& in, std::uint64_t& opaque) {
    std::string_view value;
    return meta::decode_batch_hit(in.data(), in.size(), CACHEKIT_MAX_RESPONSE_BODY, any, value, opaque);
  };
  std::uint64_t opaque = 0;
  CHECK(batch_hit(replies[8], opaque) == replies[8].size());
  CHECK(opaque == 17);
  CHECK(batch_hit(replies[9], opaque) == std::string("VA 3 O17\r\nabc\r\n").size());
  CHECK(batch_hit(replies[10], opaque) == replies[10].size());
  CHECK(opaque == 1234567);
  CHECK(batch_hit(replies[11], opaque) == 0);
  // Four digits with leading zeros read as their number, on both paths.
  CHECK(batch_hit(replies[14], opaque) == replies[14].size());
  CHECK(opaque == 17);
  CHECK(batch_hit(replies[15], opaque) == replies[15].size());
  CHECK(opaque == 0);
  CHECK(batch_hit(replies[16], opaque) == replies[16].size());
  CHECK(opaque == 9999);
  CHECK(batch_hit(replies[17], opaque) == replies[17].size());
  CHECK(opaque == 17);
  CHECK(batch_hit(replies[18], opaque) == replies[18].size());
  CHECK(opaque == 0);
  CHECK(batch_hit(replies[19], opaque) == replies[19].size());
  CHECK(opaque == 17);
  for (const char* bad : {"VA 20 O00a7\r\n01234567890123456789\r\n", "VA 20 O/017\r\n01234567890123456789\r\n",
                          "VA 20 O001:\r\n01234567890123456789\r\n"}) {
    CAPTURE(bad);
    CHECK(batch_hit(bad, opaque) == 0);
  }
}
