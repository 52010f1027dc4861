// Binary protocol codec: request bytes, response parsing over any split,
// and the checks that keep a hostile reply from corrupting the client.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>

#include <cachekit/cachekit.hpp>

namespace proto = cachekit::protocol;
using BinaryReader = proto::ReplyReader<proto::BinaryWire>;

namespace {
std::string response(std::uint8_t opcode, std::uint16_t status, std::uint32_t opaque, std::string extras,
                     std::string key, std::string value, std::uint64_t cas = 0, std::uint8_t magic = 0x81) {
  std::string h(24, '\0');
  h[0] = static_cast<char>(magic);
  h[1] = static_cast<char>(opcode);
  h[2] = static_cast<char>(key.size() >> 8);
  h[3] = static_cast<char>(key.size());
  h[4] = static_cast<char>(extras.size());
  h[6] = static_cast<char>(status >> 8);
  h[7] = static_cast<char>(status);
  const auto body = static_cast<std::uint32_t>(extras.size() + key.size() + value.size());
  for (std::size_t i = 0; i < 4; ++i) h[8 + i] = static_cast<char>(body >> (24 - 8 * i));
  for (std::size_t i = 0; i < 4; ++i) h[12 + i] = static_cast<char>(opaque >> (24 - 8 * i));
  for (std::size_t i = 0; i < 8; ++i) h[16 + i] = static_cast<char>(cas >> (56 - 8 * i));
  return h + extras + key + value;
}
}  // namespace

TEST_CASE("binary: request header layout") {
  std::string out;
  proto::encode_store(out, proto::Opcode::set, "key", "value", 0xdeadbeef, 300, 7, 42);
  REQUIRE(out.size() == 24 + 8 + 3 + 5);
  CHECK(static_cast<unsigned char>(out[0]) == 0x80);
  CHECK(out[1] == 0x01);
  CHECK(out[2] == 0);
  CHECK(out[3] == 3);
  CHECK(out[4] == 8);
  CHECK(out[11] == 16);  // body length 8 + 3 + 5
  CHECK(out[15] == 7);   // opaque
  CHECK(out[23] == 42);  // cas
  CHECK(static_cast<unsigned char>(out[24]) == 0xde);
  CHECK(out[31] == 44);  // 300 = 0x012c
  CHECK(out.substr(32) == "keyvalue");

  out.clear();
  proto::encode_counter(out, proto::Opcode::increment, "n", 5, 10, false, 60, 1);
  REQUIRE(out.size() == 24 + 20 + 1);
  CHECK(static_cast<unsigned char>(out[24 + 16]) == 0xff);  // no initial: expiration all ones

  out.clear();
  proto::encode_sasl_plain(out, "user", "pw", 9);
  CHECK(out.substr(24) == std::string("PLAIN") + std::string("\0user\0pw", 8));

  out.clear();
  const std::string keys[] = {"a", "bb"};
  proto::encode_getkq_pipeline(out, 2, [&](std::size_t i) { return std::string_view(keys[i]); }, 100, 200);
  CHECK(out.size() == 24 * 3 + 3);
  CHECK(out[1] == 0x0d);
  CHECK(out[24 + 1 + 1] == 0x0d);
  CHECK(out[24 * 2 + 3 + 1] == 0x0a);
}

TEST_CASE("binary: response parsed whatever the split") {
  const std::string flags("\x00\x00\x01\x02", 4);
  const std::string wire = response(0x0c, 0, 77, flags, "k1", "hello world", 99) + response(0x0a, 0, 78, "", "", "");
  for (std::size_t chunk = 1; chunk <= wire.size(); ++chunk) {
    BinaryReader p;
    std::size_t pos = 0;
    int seen = 0;
    while (pos < wire.size()) {
      const std::size_t n = std::min(chunk, wire.size() - pos);
      std::size_t used = 0;
      while (used < n) {
        used += p.feed(wire.data() + pos + used, n - used);
        REQUIRE_FALSE(p.failed());
        if (p.complete()) {
          if (seen == 0) {
            CHECK(p.reply().header.opaque == 77);
            CHECK(p.reply().header.cas == 99);
            CHECK(p.reply().flags() == 0x0102);
            CHECK(p.reply().key() == "k1");
            CHECK(p.reply().value() == "hello world");
          } else {
            CHECK(p.reply().header.opcode == 0x0a);
            CHECK(p.reply().value().empty());
          }
          ++seen;
          p.next();
        }
      }
      pos += n;
    }
    CHECK(seen == 2);
  }
}

TEST_CASE("binary: hostile headers are rejected without allocating") {
  SUBCASE("wrong magic") {
    BinaryReader p;
    const std::string w = response(0, 0, 1, "", "", "x", 0, 0x80);
    p.feed(w.data(), w.size());
    CHECK(p.failed());
  }
  SUBCASE("extras + key longer than body") {
    std::string w = response(0, 0, 1, "abcd", "key", "");
    w[11] = 2;  // body 2 < 4 + 3
    BinaryReader p;
    p.feed(w.data(), 24);
    CHECK(p.failed());
  }
  SUBCASE("a status the protocol does not define") {
    const std::string w = response(0, 0x7777, 1, "", "", "x");
    BinaryReader p;
    p.feed(w.data(), w.size());
    CHECK(p.failed());
    CHECK(std::string(p.failure()).find("status") != std::string::npos);
    for (int known : {0x0000, 0x0001, 0x0007, 0x0020, 0x0081, 0x0086}) {
      const std::string ok = response(0, static_cast<std::uint16_t>(known), 1, "", "", "x");
      BinaryReader q;
      q.feed(ok.data(), ok.size());
      CHECK_FALSE(q.failed());
    }
  }
  SUBCASE("4 GiB body announced") {
    std::string w = response(0, 0, 1, "", "", "");
    w[8] = w[9] = w[10] = w[11] = static_cast<char>(0xff);
    BinaryReader p;
    p.feed(w.data(), w.size());
    CHECK(p.failed());
    CHECK(std::string(p.failure()).find("too large") != std::string::npos);
  }
  SUBCASE("a large announced body grows only with the bytes received") {
    std::string w = response(0, 0, 1, "", "", "");
    w[9] = 0x10;  // 1 MiB announced
    BinaryReader p;
    p.feed(w.data(), w.size());
    CHECK_FALSE(p.failed());
    CHECK_FALSE(p.complete());
    CHECK_FALSE(p.idle());
    CHECK(p.needed() == 24 + 0x100000);  // known, not allocated
  }
}

TEST_CASE("binary: status codes map to error kinds") {
  using cachekit::ErrorKind;
  CHECK(proto::status_kind(0x0003) == ErrorKind::permanent);
  CHECK(proto::status_kind(0x0020) == ErrorKind::authentication);
  CHECK(proto::status_kind(0x0085) == ErrorKind::transient);
  CHECK(proto::status_kind(0x0086) == ErrorKind::transient);
  CHECK(proto::status_kind(0x1234) == ErrorKind::unknown);
  CHECK(proto::status_error(0x0003).message().find("value too large") != std::string::npos);
  CHECK(proto::status_error(0x1234).message().find("0x1234") != std::string::npos);
}

TEST_CASE("binary: whole replies decode in place, and only when whole") {
  const std::string flags("\x00\x00\x01\x02", 4);
  const std::string first = response(0x0c, 0, 77, flags, "k1", "hello world", 99);
  const std::string wire = first + response(0x0a, 0, 78, "", "", "");
  // Any prefix shorter than the first reply: not yet, and not an error.
  for (std::size_t n = 0; n < first.size(); ++n) {
    proto::Reply r;
    const char* why = "unset";
    CHECK(proto::decode_whole(wire.data(), n, r, why) == 0);
    CHECK(why == nullptr);
  }
  proto::Reply r;
  const char* why = nullptr;
  REQUIRE(proto::decode_whole(wire.data(), wire.size(), r, why) == first.size());
  CHECK(why == nullptr);
  CHECK(r.header.opcode == 0x0c);
  CHECK(r.header.opaque == 77);
  CHECK(r.header.cas == 99);
  CHECK(r.flags() == 0x0102);
  CHECK(r.extras() == flags);
  CHECK(r.key() == "k1");
  CHECK(r.value() == "hello world");
  CHECK(r.body == wire.data() + 24);  // a view of the caller's bytes, no copy

  proto::Reply noop;
  REQUIRE(proto::decode_whole(wire.data() + first.size(), wire.size() - first.size(), noop, why) == 24);
  CHECK(noop.header.opcode == 0x0a);
  CHECK(noop.value().empty());
  CHECK(noop.flags() == 0);

  // The same bytes through the incremental parser give the same reply.
  BinaryReader p;
  p.feed(wire.data(), wire.size());
  REQUIRE(p.complete());
  const proto::Reply q = p.reply();
  CHECK(q.header.opaque == r.header.opaque);
  CHECK(q.key() == r.key());
  CHECK(q.value() == r.value());
  CHECK(q.flags() == r.flags());
  CHECK(p.idle() == false);
  p.next();
  CHECK(p.idle());
}

TEST_CASE("binary: whole-reply decoding rejects what the parser rejects") {
  struct Bad {
    const char* name;
    std::string bytes;
  };
  std::string short_body = response(0, 0, 1, "abcd", "key", "");
  short_body[11] = 2;  // body 2 < extras 4 + key 3
  std::string huge = response(0, 0, 1, "", "", "");
  huge[8] = huge[9] = huge[10] = huge[11] = static_cast<char>(0xff);
  const Bad bad[] = {{"wrong magic", response(0, 0, 1, "", "", "x", 0, 0x80)},
                     {"unknown status", response(0, 0x7777, 1, "", "", "x")},
                     {"extras + key longer than body", short_body},
                     {"4 GiB body", huge}};
  for (const auto& b : bad) {
    CAPTURE(b.name);
    proto::Reply r;
    const char* why = nullptr;
    // The header alone is enough to tell.
    CHECK(proto::decode_whole(b.bytes.data(), 24, r, why) == 0);
    REQUIRE(why != nullptr);
    BinaryReader p;
    p.feed(b.bytes.data(), b.bytes.size());
    REQUIRE(p.failed());
    CHECK(std::string(why) == p.failure());
  }
}

TEST_CASE("binary: decode_hit takes a whole successful get reply and agrees with decode_whole") {
  const std::string flags("\x00\x00\x00\x05", 4);
  for (const auto op : {proto::Opcode::get, proto::Opcode::getkq}) {
    const auto code = static_cast<std::uint8_t>(op);
    const std::string key = op == proto::Opcode::getkq ? "some:key" : "";
    const std::string wire = response(code, 0, 4242, flags, key, std::string(300, 'v'), 7) + response(0x0a, 0, 4243, "", "", "");
    const std::size_t first = wire.size() - 24;
    for (std::size_t n = 0; n < first; ++n) {  // any prefix: not whole yet
      proto::Reply r;
      CHECK(proto::decode_hit(wire.data(), n, op, r) == 0);
    }
    proto::Reply fast, full;
    const char* why = nullptr;
    REQUIRE(proto::decode_hit(wire.data(), wire.size(), op, fast) == first);
    REQUIRE(proto::decode_whole(wire.data(), wire.size(), full, why) == first);
    CHECK(fast.header.opcode == full.header.opcode);
    CHECK(fast.header.key_length == full.header.key_length);
    CHECK(fast.header.extras_length == full.header.extras_length);
    CHECK(fast.header.status == full.header.status);
    CHECK(fast.header.body_length == full.header.body_length);
    CHECK(fast.header.opaque == full.header.opaque);
    CHECK(fast.header.cas == full.header.cas);
    CHECK(fast.body == full.body);
    CHECK(fast.key() == key);
    CHECK(fast.flags() == 5);
    CHECK(fast.value() == std::string(300, 'v'));
    // The NOOP after it is not a hit.
    proto::Reply r;
    CHECK(proto::decode_hit(wire.data() + first, 24, op, r) == 0);
  }
}

TEST_CASE("binary: decode_hit leaves every other reply to the full checks") {
  const std::string flags("\x00\x00\x00\x00", 4);
  const auto getkq = static_cast<std::uint8_t>(proto::Opcode::getkq);
  struct Case {
    const char* name;
    std::string bytes;
  };
  std::string short_body = response(getkq, 0, 1, flags, "key", "");
  short_body[11] = 6;  // body 6 < extras 4 + key 3
  std::string huge = response(getkq, 0, 1, flags, "", "");
  huge[8] = huge[9] = huge[10] = huge[11] = static_cast<char>(0xff);
  std::string typed = response(getkq, 0, 1, flags, "k", "v");
  typed[5] = 1;  // a data type other than raw bytes
  const Case others[] = {
      {"another opcode", response(static_cast<std::uint8_t>(proto::Opcode::get), 0, 1, flags, "", "v")},
      {"a miss", response(getkq, 0x0001, 1, "", "k", "Not found")},
      {"an error status", response(getkq, 0x0084, 1, "", "", "Out of memory")},
      {"no flags", response(getkq, 0, 1, "", "k", "v")},
      {"eight bytes of extras", response(getkq, 0, 1, flags + flags, "k", "v")},
      {"wrong magic", response(getkq, 0, 1, flags, "k", "v", 0, 0x80)},
      {"a data type", typed},
      {"extras + key longer than the body", short_body},
      {"4 GiB body", huge},
  };
  for (const auto& c : others) {
    CAPTURE(c.name);
    proto::Reply r;
    CHECK(proto::decode_hit(c.bytes.data(), c.bytes.size(), proto::Opcode::getkq, r) == 0);
  }
}

TEST_CASE("binary: same_bytes compares every length and position") {
  const std::string a = "0123456789abcdefghijklmnopqrstuvwxyz";
  for (std::size_t n = 0; n <= a.size(); ++n) {
    std::string b = a;
    CHECK(proto::detail::same_bytes(a.data(), b.data(), n));
    for (std::size_t i = 0; i < n; ++i) {
      b = a;
      b[i] = '#';
      CHECK_FALSE(proto::detail::same_bytes(a.data(), b.data(), n));
    }
  }
}

TEST_CASE("binary: encoders write the same bytes into a ByteBuffer as into a string") {
  std::string s;
  cachekit::detail::ByteBuffer b;
  for (int i = 0; i < 200; ++i) {  // grows many times
    const std::string key = "key-" + std::to_string(i);
    const std::string value(static_cast<std::size_t>(i * 7), 'v');
    proto::encode_store(s, proto::Opcode::set, key, value, 3, 4, static_cast<std::uint32_t>(i));
    proto::encode_store(b, proto::Opcode::set, key, value, 3, 4, static_cast<std::uint32_t>(i));
  }
  REQUIRE(b.size() == s.size());
  CHECK(std::string(b.data(), b.size()) == s);
  const std::size_t cap = b.capacity();
  b.clear();
  CHECK(b.empty());
  CHECK(b.capacity() == cap);  // memory kept for the next batch
  char* w = b.extend(5);
  std::memcpy(w, "hello", 5);
  b.append(" world", 6);
  CHECK(std::string(b.data(), b.size()) == "hello world");
  b.scrub();
  CHECK(b.size() == 11);
  for (std::size_t i = 0; i < b.size(); ++i) CHECK(b.data()[i] == 0);
}

TEST_CASE("binary: copy_bytes copies every length exactly, and nothing more") {
  std::string src;
  for (int i = 0; i < 64; ++i) src += static_cast<char>('A' + i % 50);
  for (std::size_t n = 0; n <= 40; ++n) {
    std::string dst(48, '.');
    proto::detail::copy_bytes(&dst[4], src.data(), n);
    CHECK(dst.substr(0, 4) == "....");
    CHECK(dst.substr(4, n) == src.substr(0, n));
    CHECK(dst.substr(4 + n) == std::string(44 - n, '.'));
  }
}
