// Text protocol codec: the exact bytes of every request, every reply form
// decoded, every prefix of a reply incomplete, malformed replies refused
// with their cause, the shared line and number helpers, and the codec
// against a real memcached.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/line_client.hpp"
#include "support/wire_check.hpp"
#include "support/memcached_process.hpp"

namespace proto = cachekit::protocol;
namespace text = cachekit::protocol::text;
namespace ascii = cachekit::protocol::ascii;
using proto::ReplyKind;

namespace {
proto::Decoded decode(const std::string& w, proto::ServerReply& r, proto::Limits lim = proto::Limits{}) {
  return text::decode(w.data(), w.size(), r, lim);
}

const std::vector<std::string>& text_valid_replies() {
  static const std::vector<std::string> all = {
      "VALUE k 0 5\r\nhello\r\n",
      "VALUE key:1 4294967295 0 18446744073709551615\r\n\r\n",
      "VALUE k 7 6 42\r\na\r\nb\r\n\r\n",
      "END\r\n", "STORED\r\n", "NOT_STORED\r\n", "EXISTS\r\n", "NOT_FOUND\r\n", "DELETED\r\n",
      "TOUCHED\r\n", "OK\r\n", "18446744073709551615\r\n", "0\r\n", "VERSION 1.6.18\r\n",
      "STAT pid 1234\r\n", "STAT version 1.6.18\r\n", "ERROR\r\n", "CLIENT_ERROR bad data chunk\r\n",
      "SERVER_ERROR out of memory storing object\r\n"};
  return all;
}

// Every prefix of each reply, and each reply with one byte at a time
// replaced by each of the given characters.
std::vector<std::string> cut_and_changed(const std::vector<std::string>& replies, std::initializer_list<char> changes) {
  std::vector<std::string> inputs;
  for (const auto& r : replies) {
    for (std::size_t n = 0; n <= r.size(); ++n) inputs.push_back(r.substr(0, n));
    for (std::size_t i = 0; i < r.size(); ++i) {
      for (char c : changes) {
        std::string m = r;
        m[i] = c;
        inputs.push_back(m);
      }
    }
  }
  return inputs;
}
}  // namespace

TEST_CASE("text: retrieval requests") {
  CHECK(cktest::encoded([](char* d) { return text::encode_get(d, text::Retrieval::get, "foo"); }) == "get foo\r\n");
  CHECK(cktest::encoded([](char* d) { return text::encode_get(d, text::Retrieval::gets, "foo"); }) == "gets foo\r\n");
  CHECK(cktest::encoded([](char* d) { return text::encode_get(d, text::Retrieval::gat, "foo", 300); }) == "gat 300 foo\r\n");
  CHECK(cktest::encoded([](char* d) { return text::encode_get(d, text::Retrieval::gats, "foo", -1); }) == "gats -1 foo\r\n");

  proto::GetRequest g;
  g.key = "k";
  CHECK(cktest::encoded([&](char* d) { return proto::TextWire::encode_get(d, g); }) == "get k\r\n");
  g.cas = true;
  CHECK(cktest::encoded([&](char* d) { return proto::TextWire::encode_get(d, g); }) == "gets k\r\n");
  g.touch = true;
  g.exptime = 60;
  CHECK(cktest::encoded([&](char* d) { return proto::TextWire::encode_get(d, g); }) == "gats 60 k\r\n");
  g.cas = false;
  CHECK(cktest::encoded([&](char* d) { return proto::TextWire::encode_get(d, g); }) == "gat 60 k\r\n");
}

TEST_CASE("text: the multi-key get run stays within its bound for every command and line limit") {
  std::vector<std::string> keys;
  std::size_t key_bytes = 0;
  for (int i = 0; i < 40; ++i) {
    keys.push_back(std::string(static_cast<std::size_t>(1 + i * 7 % 250), static_cast<char>('a' + i % 26)));
    key_bytes += keys.back().size();
  }
  auto at = [&](std::size_t i) { return std::string_view(keys[i]); };
  for (auto cmd : {text::Retrieval::get, text::Retrieval::gets, text::Retrieval::gat, text::Retrieval::gats}) {
    for (std::size_t max_line : {std::size_t{1}, std::size_t{64}, std::size_t{300}, text::kMaxGetLine}) {
      CAPTURE(max_line);
      const std::size_t bound = text::get_many_bound(keys.size(), key_bytes);
      std::string run(bound + 8, '#');
      std::size_t commands = 0;
      const std::size_t n = text::encode_get_many_run(&run[0], commands, cmd, keys.size(), at, key_bytes,
                                                         -9223372036854775807LL, max_line);
      CHECK(n <= bound);
      CHECK(run.substr(bound) == "########");
      std::string lines;
      CHECK(text::encode_get_many(lines, cmd, keys.size(), at, -9223372036854775807LL, max_line) == commands);
      CHECK(lines == run.substr(0, n));
      CHECK(static_cast<std::size_t>(std::count(lines.begin(), lines.end(), '\n')) == commands);
    }
  }
  // The plain get's own bound, as the backend reserves it.
  std::string run(text::get_many_bound(keys.size(), key_bytes, 3), '\0');
  std::size_t commands = 0;
  CHECK(text::encode_get_many_run(&run[0], commands, text::Retrieval::get, keys.size(), at, key_bytes, 0, 1) <=
        run.size());
  CHECK(commands == keys.size());
}

TEST_CASE("text: multi-key get lines are split at the line limit") {
  const std::vector<std::string> keys = {"aaaa", "bbbb", "cccc", "dddd", "eeee"};
  auto at = [&](std::size_t i) { return std::string_view(keys[i]); };
  std::string out;
  CHECK(text::encode_get_many(out, text::Retrieval::get, keys.size(), at) == 1);
  CHECK(out == "get aaaa bbbb cccc dddd eeee\r\n");

  out.clear();
  // "get aaaa bbbb" + "\r\n" is 15 bytes: two keys per line.
  CHECK(text::encode_get_many(out, text::Retrieval::gets, keys.size(), at, 0, 16) == 3);
  CHECK(out == "gets aaaa bbbb\r\ngets cccc dddd\r\ngets eeee\r\n");

  // The whole line, "\r\n" included, is 30 bytes: one line at a limit of
  // 30, two at 29.
  out.clear();
  CHECK(text::encode_get_many(out, text::Retrieval::get, keys.size(), at, 0, 30) == 1);
  CHECK(out == "get aaaa bbbb cccc dddd eeee\r\n");
  out.clear();
  CHECK(text::encode_get_many(out, text::Retrieval::get, keys.size(), at, 0, 29) == 2);
  CHECK(out == "get aaaa bbbb cccc dddd\r\nget eeee\r\n");

  out.clear();
  CHECK(text::encode_get_many(out, text::Retrieval::get, keys.size(), at, 0, 10) == 5);  // one key per line at least
  CHECK(out == "get aaaa\r\nget bbbb\r\nget cccc\r\nget dddd\r\nget eeee\r\n");

  out.clear();
  CHECK(text::encode_get_many(out, text::Retrieval::get, 0, at) == 0);
  CHECK(out.empty());

  // gat lines stay within memcached's limit for commands other than get/gets.
  std::vector<std::string> many;
  for (int i = 0; i < 200; ++i) many.push_back("key-number-" + std::to_string(i));
  cachekit::detail::ByteBuffer buf;  // the backend's buffer type works as well
  const std::size_t commands = text::encode_get_many(
      buf, text::Retrieval::gat, many.size(), [&](std::size_t i) { return std::string_view(many[i]); }, 30, 1 << 20);
  const std::string all(buf.data(), buf.size());
  CHECK(commands > 1);
  std::size_t lines = 0, start = 0, seen = 0;
  for (std::size_t stop; (stop = all.find("\r\n", start)) != std::string::npos; start = stop + 2) {
    ++lines;
    CHECK(stop - start + 2 <= text::kMaxTouchLine);
    CHECK(all.compare(start, 7, "gat 30 ") == 0);
    seen += static_cast<std::size_t>(std::count(all.begin() + static_cast<std::ptrdiff_t>(start),
                                                all.begin() + static_cast<std::ptrdiff_t>(stop), ' ')) - 1;
  }
  CHECK(lines == commands);
  CHECK(seen == many.size());
}

TEST_CASE("text: storage requests") {
  using proto::StoreMode;
  auto store = [](StoreMode m, std::uint64_t cas = 0, bool noreply = false) {
    return cktest::encoded([&](char* d) { return text::encode_store_head(d, m, "k", 42, 300, 5, cas, noreply); });
  };
  CHECK(store(StoreMode::set) == "set k 42 300 5\r\n");
  CHECK(store(StoreMode::add) == "add k 42 300 5\r\n");
  CHECK(store(StoreMode::replace) == "replace k 42 300 5\r\n");
  CHECK(store(StoreMode::append) == "append k 42 300 5\r\n");
  CHECK(store(StoreMode::prepend) == "prepend k 42 300 5\r\n");
  CHECK(store(StoreMode::cas, 18446744073709551615ull) == "cas k 42 300 5 18446744073709551615\r\n");
  CHECK(store(StoreMode::set, 0, true) == "set k 42 300 5 noreply\r\n");
  CHECK(store(StoreMode::cas, 7, true) == "cas k 42 300 5 7 noreply\r\n");
  CHECK(cktest::encoded([](char* d) { return text::encode_store_head(d, StoreMode::set, "k", 4294967295u, -1, 0); }) ==
        "set k 4294967295 -1 0\r\n");

  std::string out;
  text::encode_store(out, StoreMode::set, "k", std::string("a\r\nb\0c", 6), 1, 0);
  CHECK(out == std::string("set k 1 0 6\r\na\r\nb\0c\r\n", 21));

  proto::StoreRequest r;
  r.mode = StoreMode::cas;
  r.key = "key";
  r.value_size = 3;
  r.flags = 9;
  r.exptime = 10;
  r.cas = 77;
  CHECK(cktest::encoded([&](char* d) { return proto::TextWire::encode_store_head(d, r); }) == "cas key 9 10 3 77\r\n");
}

TEST_CASE("text: other requests") {
  CHECK(cktest::encoded([](char* d) { return text::encode_delete(d, "k"); }) == "delete k\r\n");
  CHECK(cktest::encoded([](char* d) { return text::encode_delete(d, "k", true); }) == "delete k noreply\r\n");
  CHECK(cktest::encoded([](char* d) { return text::encode_arith(d, false, "n", 5); }) == "incr n 5\r\n");
  CHECK(cktest::encoded([](char* d) { return text::encode_arith(d, true, "n", 18446744073709551615ull, true); }) ==
        "decr n 18446744073709551615 noreply\r\n");
  CHECK(cktest::encoded([](char* d) { return text::encode_touch(d, "k", 60); }) == "touch k 60\r\n");
  CHECK(cktest::encoded([](char* d) { return text::encode_flush_all(d); }) == "flush_all\r\n");
  CHECK(cktest::encoded([](char* d) { return text::encode_flush_all(d, 10); }) == "flush_all 10\r\n");
  CHECK(cktest::encoded([](char* d) { return text::encode_version(d); }) == "version\r\n");
  CHECK(cktest::encoded([](char* d) { return text::encode_stats(d); }) == "stats\r\n");
  CHECK(cktest::encoded([](char* d) { return text::encode_stats(d, "settings"); }) == "stats settings\r\n");

  std::string out;
  text::encode_login(out, "user", "secret pass");
  CHECK(out == "set cachekit:login 0 -1 16\r\nuser secret pass\r\n");

  proto::CounterRequest c;
  c.key = "n";
  c.delta = 3;
  c.decrement = true;
  CHECK(cktest::encoded([&](char* d) { return proto::TextWire::encode_counter(d, c); }) == "decr n 3\r\n");
  CHECK(cktest::encoded([](char* d) { return proto::TextWire::encode_touch(d, "k", 5, 0); }) == "touch k 5\r\n");
  CHECK(cktest::encoded([](char* d) { return proto::TextWire::encode_delete(d, "k", 0, false); }) == "delete k\r\n");
  static_assert(!proto::TextWire::has_opaque && proto::TextWire::has_cas && !proto::TextWire::has_lease, "");
}

TEST_CASE("text: every reply form") {
  auto r = cktest::decode_whole<proto::TextWire>("VALUE some:key 4294967295 5\r\nhello\r\n");
  CHECK(r.kind == ReplyKind::value);
  CHECK(r.key == "some:key");
  CHECK(r.flags == 4294967295u);
  CHECK(r.value == "hello");
  CHECK(r.has(proto::Field::flags));
  CHECK(r.has(proto::Field::key));
  CHECK_FALSE(r.has(proto::Field::cas));

  r = cktest::decode_whole<proto::TextWire>("VALUE k 0 0 18446744073709551615\r\n\r\n");
  CHECK(r.kind == ReplyKind::value);
  CHECK(r.value.empty());
  CHECK(r.has(proto::Field::cas));
  CHECK(r.cas == 18446744073709551615ull);

  struct Line {
    const char* wire;
    ReplyKind kind;
  };
  const Line lines[] = {{"END\r\n", ReplyKind::end},           {"STORED\r\n", ReplyKind::stored},
                        {"NOT_STORED\r\n", ReplyKind::not_stored}, {"EXISTS\r\n", ReplyKind::exists},
                        {"NOT_FOUND\r\n", ReplyKind::not_found},   {"DELETED\r\n", ReplyKind::deleted},
                        {"TOUCHED\r\n", ReplyKind::touched},       {"OK\r\n", ReplyKind::ok},
                        {"ERROR\r\n", ReplyKind::error}};
  for (const auto& l : lines) {
    INFO(l.wire);
    CHECK(cktest::decode_whole<proto::TextWire>(l.wire).kind == l.kind);
  }

  r = cktest::decode_whole<proto::TextWire>("12345\r\n");
  CHECK(r.kind == ReplyKind::number);
  CHECK(r.number == 12345);
  r = cktest::decode_whole<proto::TextWire>("18446744073709551615\r\n");
  CHECK(r.number == 18446744073709551615ull);
  r = cktest::decode_whole<proto::TextWire>("7  \r\n");  // space-padded
  CHECK(r.kind == ReplyKind::number);
  CHECK(r.number == 7);

  r = cktest::decode_whole<proto::TextWire>("VERSION 1.6.18\r\n");
  CHECK(r.kind == ReplyKind::version);
  CHECK(r.text == "1.6.18");
  r = cktest::decode_whole<proto::TextWire>("STAT version 1.6.18\r\n");
  CHECK(r.kind == ReplyKind::stat);
  CHECK(r.text == "version");
  CHECK(r.value == "1.6.18");
  r = cktest::decode_whole<proto::TextWire>("STAT libevent 2.1.12-stable extra words\r\n");
  CHECK(r.value == "2.1.12-stable extra words");
  r = cktest::decode_whole<proto::TextWire>("STAT empty\r\n");
  CHECK(r.text == "empty");
  CHECK(r.value.empty());

  r = cktest::decode_whole<proto::TextWire>("CLIENT_ERROR bad data chunk\r\n");
  CHECK(r.kind == ReplyKind::client_error);
  CHECK(r.text == "bad data chunk");
  r = cktest::decode_whole<proto::TextWire>("SERVER_ERROR object too large for cache\r\n");
  CHECK(r.kind == ReplyKind::server_error);
  CHECK(r.text == "object too large for cache");
  r = cktest::decode_whole<proto::TextWire>("CLIENT_ERROR\r\n");
  CHECK(r.kind == ReplyKind::client_error);
  CHECK(r.text.empty());
}

TEST_CASE("text: replies after the first are left for the next call") {
  const std::string w = "VALUE a 1 2\r\nxy\r\nVALUE b 2 0\r\n\r\nEND\r\n";
  proto::ServerReply r;
  std::size_t at = 0;
  std::vector<std::string> seen;
  while (at < w.size()) {
    const auto d = text::decode(w.data() + at, w.size() - at, r);
    REQUIRE(d.complete());
    seen.push_back(std::string(proto::to_string(r.kind)) + ":" + std::string(r.key) + "=" + std::string(r.value));
    at += d.size;
  }
  CHECK(seen == std::vector<std::string>{"value:a=xy", "value:b=", "end:="});
}

TEST_CASE("text: every proper prefix of a reply needs more bytes") {
  for (const auto& w : text_valid_replies()) {
    for (std::size_t n = 0; n < w.size(); ++n) {
      proto::ServerReply r;
      const auto d = text::decode(w.data(), n, r);
      INFO("reply ", w, " cut at ", n);
      REQUIRE(d.need_more());
      CHECK(d.size > n);
      CHECK(d.size <= w.size());  // the hint never asks for more than the reply holds
    }
  }
}

TEST_CASE("text: values holding \\r\\n and any byte round-trip") {
  std::string value;
  for (int i = 0; i < 256; ++i) value += static_cast<char>(i);
  value += "\r\nEND\r\nVALUE x 0 1\r\n";
  std::string request;
  text::encode_store(request, proto::StoreMode::set, "k", value, 3, 0);
  // What the server would send back for a get of it.
  const std::string reply = "VALUE k 3 " + std::to_string(value.size()) + "\r\n" +
                            request.substr(request.find("\r\n") + 2);
  const auto r = cktest::decode_whole<proto::TextWire>(reply);
  CHECK(r.value == value);
  CHECK(r.flags == 3);
}

TEST_CASE("text: malformed replies are refused with their cause") {
  struct Bad {
    std::string wire;
    const char* cause;
  };
  const Bad bad[] = {
      {"VALUE k x 5\r\nhello\r\n", "flags"},
      {"VALUE k 4294967296 5\r\nhello\r\n", "flags"},
      {"VALUE k 0 -1\r\n", "length"},
      {"VALUE k 0 5x\r\nhello\r\n", "length"},
      {"VALUE k 0 18446744073709551616\r\n", "length"},
      {"VALUE k 0 4294967296\r\n", "largest"},
      {"VALUE k 0 5 cas\r\nhello\r\n", "cas"},
      {"VALUE k 0 5 1 2\r\nhello\r\n", "too many"},
      {"VALUE k 0\r\n", "too few"},
      {"VALUE\r\n", "too few"},
      {"VALUE k 0 5\r\nhelloXY", "not followed"},
      {"VALUE k 0 5\r\nhello\rX", "not followed"},
      {"VALUE k 0 5\r\nhello\nX", "not followed"},
      {"184467440737095516160\r\n", "number"},
      {"12a\r\n", "number"},
      {"STORED\n", "without \\r"},
      {"\n", "without \\r"},
      {"\r\n", "empty"},
      {"STAT \r\n", "unknown"},
      {"STOREDX\r\n", "unknown"},
      {"stored\r\n", "unknown"},
      {"HD\r\n", "unknown"},
      {std::string("\0\0\0\0\r\n", 6), "unknown"},
      {"ERRORS\r\n", "unknown"},
      {std::string(9000, 'x'), "too long"},
  };
  for (const auto& b : bad) {
    INFO("reply: ", b.wire.substr(0, 40));
    const std::string why = cktest::why_of<proto::TextWire>(b.wire);
    CHECK_MESSAGE(why.find(b.cause) != std::string::npos, why);
  }
  // The largest value is configurable.
  proto::Limits lim;
  lim.max_value = 4;
  CHECK(cktest::why_of<proto::TextWire>("VALUE k 0 5\r\nhello\r\n", lim).find("largest") != std::string::npos);
  proto::ServerReply fits;
  CHECK(decode(std::string("VALUE k 0 4\r\nhell\r\n"), fits, lim).complete());
  lim.max_line = 10;
  CHECK(cktest::why_of<proto::TextWire>("VERSION 1.6.18\r\n", lim).find("too long") != std::string::npos);

  // The message for the caller names the cause and shows the start.
  proto::ServerReply r;
  const std::string w = "VALUE k x 5\r\n";
  const auto d = decode(w, r);
  const auto e = proto::malformed_error(d, w.data(), w.size());
  CHECK(e.kind() == cachekit::ErrorKind::unknown);
  CHECK(e.message().find("flags") != std::string::npos);
  CHECK(e.message().find("VALUE k x 5??") != std::string::npos);
}

TEST_CASE("text: a reply stream split anyhow through the reader") {
  std::string stream;
  for (const auto& w : text_valid_replies()) stream += w;
  for (std::size_t chunk = 1; chunk <= 9; ++chunk) {
    proto::ReplyReader<proto::TextWire> reader;
    std::vector<std::string> got;
    std::size_t pos = 0;
    while (pos < stream.size()) {
      const std::size_t n = std::min(chunk, stream.size() - pos);
      // Each read is its own buffer, gone once consumed.
      std::string piece = stream.substr(pos, n);
      std::size_t used = 0;
      while (used < n) {
        const std::size_t k = reader.feed(piece.data() + used, n - used);
        REQUIRE_FALSE(reader.failed());
        used += k;
        if (reader.complete()) {
          const auto& r = reader.reply();
          got.push_back(std::string(proto::to_string(r.kind)) + "|" + std::string(r.key) + "|" +
                        std::string(r.value) + "|" + std::string(r.text));
          reader.next();
        } else {
          REQUIRE(k == n - (used - k));  // an incomplete reply takes everything offered
        }
      }
      pos += n;
    }
    CHECK(reader.idle());
    REQUIRE(got.size() == text_valid_replies().size());
    CHECK(got[0] == "value|k|hello|");
    CHECK(got[2] == "value|k|a\r\nb\r\n|");
    CHECK(got[13] == "version|||1.6.18");
    CHECK(got.back() == "SERVER_ERROR|||out of memory storing object");
  }
}

TEST_CASE("text: the reader refuses garbage and a 4 GiB value without allocating") {
  proto::ReplyReader<proto::TextWire> reader;
  const std::string w = "VALUE k 0 4294967296\r\n";
  reader.feed(w.data(), w.size());
  CHECK(reader.failed());
  CHECK(std::string(reader.failure()).find("largest") != std::string::npos);

  proto::ReplyReader<proto::TextWire> r2;
  const std::string junk(100, '\x7f');
  std::size_t fed = 0;
  while (!r2.failed() && fed < 20000) fed += r2.feed(junk.data(), junk.size());
  CHECK(r2.failed());
  CHECK(fed <= proto::kMaxReplyLine + 2 + junk.size());
  r2.reset();
  CHECK_FALSE(r2.failed());
  const std::string end = "END\r\n";
  CHECK(r2.feed(end.data(), end.size()) == 5);
  CHECK(r2.complete());
}

TEST_CASE("text: error replies, their kinds and what they do to the connection") {
  auto r = cktest::decode_whole<proto::TextWire>("CLIENT_ERROR bad data chunk\r\n");
  CHECK(proto::is_error(r));
  CHECK(proto::must_close(r));
  CHECK(proto::error_kind(r) == cachekit::ErrorKind::permanent);
  CHECK(proto::reply_error(r).message() == "server replied CLIENT_ERROR bad data chunk");

  r = cktest::decode_whole<proto::TextWire>("CLIENT_ERROR authentication failure\r\n");
  CHECK(proto::error_kind(r) == cachekit::ErrorKind::authentication);
  r = cktest::decode_whole<proto::TextWire>("CLIENT_ERROR unauthenticated\r\n");
  CHECK(proto::error_kind(r) == cachekit::ErrorKind::authentication);
  r = cktest::decode_whole<proto::TextWire>("SERVER_ERROR out of memory storing object\r\n");
  CHECK(proto::error_kind(r) == cachekit::ErrorKind::transient);
  r = cktest::decode_whole<proto::TextWire>("SERVER_ERROR object too large for cache\r\n");
  CHECK(proto::error_kind(r) == cachekit::ErrorKind::permanent);
  r = cktest::decode_whole<proto::TextWire>("ERROR\r\n");
  CHECK(proto::must_close(r));
  CHECK(proto::error_kind(r) == cachekit::ErrorKind::permanent);
  CHECK(proto::reply_error(r).message().find("unknown command") != std::string::npos);
  r = cktest::decode_whole<proto::TextWire>(std::string("SERVER_ERROR \x01\x02 busy\r\n"));
  CHECK(proto::reply_error(r).message() == "server replied SERVER_ERROR ?? busy");

  for (const char* ok : {"STORED\r\n", "END\r\n", "NOT_FOUND\r\n", "VERSION 1\r\n"}) {
    CHECK_FALSE(proto::must_close(cktest::decode_whole<proto::TextWire>(ok)));
  }
  CHECK(proto::unexpected_reply_error(cktest::decode_whole<proto::TextWire>("DELETED\r\n"), "set").message() ==
        "unexpected reply to set: deleted");
}

TEST_CASE("ascii: numbers, lines, tokens, keys, versions") {
  std::uint64_t u = 0;
  CHECK(ascii::parse_u64("0", u));
  CHECK(u == 0);
  CHECK(ascii::parse_u64("18446744073709551615", u));
  CHECK(u == 18446744073709551615ull);
  CHECK_FALSE(ascii::parse_u64("18446744073709551616", u));
  CHECK_FALSE(ascii::parse_u64("99999999999999999999", u));
  CHECK_FALSE(ascii::parse_u64("000000000000000000001", u));  // longer than any u64
  CHECK_FALSE(ascii::parse_u64("", u));
  CHECK_FALSE(ascii::parse_u64("+1", u));
  CHECK_FALSE(ascii::parse_u64("1 ", u));
  std::uint32_t v = 0;
  CHECK(ascii::parse_u32("4294967295", v));
  CHECK(v == 4294967295u);
  CHECK_FALSE(ascii::parse_u32("4294967296", v));
  std::int64_t i = 0;
  CHECK(ascii::parse_i64("-9223372036854775808", i));
  CHECK(i == INT64_MIN);
  CHECK(ascii::parse_i64("9223372036854775807", i));
  CHECK(i == INT64_MAX);
  CHECK_FALSE(ascii::parse_i64("9223372036854775808", i));
  CHECK_FALSE(ascii::parse_i64("-9223372036854775809", i));
  CHECK_FALSE(ascii::parse_i64("-", i));
  CHECK(ascii::parse_i64("-1", i));
  CHECK(i == -1);
  CHECK(ascii::parse_counter("10  ", u));
  CHECK(u == 10);
  CHECK_FALSE(ascii::parse_counter("  ", u));
  CHECK_FALSE(ascii::parse_counter("1 0", u));
  // four_digits: every four-digit string reads as parse_u64 reads it; a
  // byte just outside '0'..'9' (or far from it) in any place is refused.
  {
    std::size_t wrong = 0;
    std::uint64_t got = 0;
    for (unsigned n = 0; n < 10000; ++n) {
      char d[4] = {static_cast<char>('0' + n / 1000), static_cast<char>('0' + n / 100 % 10),
                   static_cast<char>('0' + n / 10 % 10), static_cast<char>('0' + n % 10)};
      if (!ascii::four_digits(d, got) || got != n) ++wrong;
      for (int at = 0; at < 4; ++at) {
        for (char c : {'/', ':', ' ', '\0', 'a', '\x80', '\xb9', '\xff', '\x0a'}) {
          char e[4] = {d[0], d[1], d[2], d[3]};
          e[at] = c;
          if (ascii::four_digits(e, got)) ++wrong;
        }
      }
    }
    CHECK(wrong == 0);
  }

  char buf[32];
  CHECK(std::string(buf, ascii::write_u64(buf, 18446744073709551615ull)) == "18446744073709551615");
  CHECK(std::string(buf, ascii::write_u64(buf, 0)) == "0");
  CHECK(std::string(buf, ascii::write_i64(buf, INT64_MIN)) == "-9223372036854775808");
  CHECK(std::string(buf, ascii::write_i64(buf, -1)) == "-1");

  const std::string l = "abc\r\ndef";
  auto e = ascii::find_line(l.data(), l.size(), 100);
  CHECK(e.status == ascii::LineEnd::found);
  CHECK(e.length == 3);
  CHECK(ascii::find_line(l.data(), 3, 100).status == ascii::LineEnd::need_more);
  CHECK(ascii::find_line(l.data(), 4, 100).status == ascii::LineEnd::need_more);
  CHECK(ascii::find_line(l.data(), l.size(), 1).status == ascii::LineEnd::too_long);
  CHECK(ascii::find_line(l.data(), l.size(), 3).status == ascii::LineEnd::found);  // exactly the limit

  std::string_view rest = "  a bb   ccc ";
  CHECK(ascii::next_token(rest) == "a");
  CHECK(ascii::next_token(rest) == "bb");
  CHECK(ascii::next_token(rest) == "ccc");
  CHECK(ascii::next_token(rest).empty());

  CHECK(ascii::is_valid_key("key:1"));
  CHECK(ascii::is_valid_key(std::string(250, 'k')));
  CHECK_FALSE(ascii::is_valid_key(std::string(251, 'k')));
  CHECK_FALSE(ascii::is_valid_key(""));
  CHECK_FALSE(ascii::is_valid_key("a b"));
  CHECK_FALSE(ascii::is_valid_key("a\r\n"));
  CHECK_FALSE(ascii::is_valid_key(std::string("a\0b", 3)));
  CHECK_FALSE(ascii::is_valid_key("a\x7f"));
  CHECK(ascii::is_valid_key("\xc3\xa9t\xc3\xa9"));  // UTF-8 is fine

  CHECK(ascii::version_at_least("1.6.18", 1, 6, 10));
  CHECK(ascii::version_at_least("1.6.10", 1, 6, 10));
  CHECK_FALSE(ascii::version_at_least("1.6.9", 1, 6, 10));
  CHECK_FALSE(ascii::version_at_least("1.5.22", 1, 6, 10));
  CHECK(ascii::version_at_least("2.0", 1, 6, 10));
  CHECK(ascii::version_at_least("1.6.12-beta", 1, 6, 10));
  CHECK_FALSE(ascii::version_at_least("garbage", 1, 6, 10));
}

namespace {
using TextClient = cktest::LineClient<proto::TextWire>;

std::string store_cmd(proto::StoreMode m, const std::string& key, const std::string& value, std::uint32_t flags = 0,
                      std::int64_t exptime = 0, std::uint64_t cas = 0, bool noreply = false) {
  std::string out;
  text::encode_store(out, m, key, value, flags, exptime, cas, noreply);
  return out;
}
ReplyKind kind_of(TextClient& c) {
  const auto r = c.next();
  REQUIRE_MESSAGE(!r.failed, r.failure);
  return r.kind;
}
}  // namespace

TEST_CASE("text: the codec against a real memcached") {
  cktest::MemcachedCluster servers(1);
  for (std::size_t chunk : {std::size_t{3}, std::size_t{4096}}) {
    CAPTURE(chunk);
    TextClient c(servers.port(0), chunk);
    REQUIRE(c.connected());
    REQUIRE(c.send(cktest::encoded([](char* d) { return text::encode_flush_all(d); })));
    CHECK(kind_of(c) == ReplyKind::ok);

    REQUIRE(c.send_head([](char* d) { return text::encode_version(d); }));
    auto r = c.next();
    CHECK(r.kind == ReplyKind::version);
    CHECK(cachekit::protocol::ascii::version_at_least(r.text, 1, 6, 0));

    const std::string tricky = std::string("a\r\nEND\r\nVALUE x 0 1\r\n\0z", 24);
    REQUIRE(c.send(store_cmd(proto::StoreMode::set, "k1", tricky, 4294967295u)));
    CHECK(kind_of(c) == ReplyKind::stored);
    REQUIRE(c.send_head([](char* d) { return text::encode_get(d, text::Retrieval::get, "k1"); }));
    r = c.next();
    CHECK(r.kind == ReplyKind::value);
    CHECK(r.key == "k1");
    CHECK(r.value == tricky);
    CHECK(r.flags == 4294967295u);
    CHECK_FALSE(r.has(proto::Field::cas));
    CHECK(kind_of(c) == ReplyKind::end);

    // gets and cas: a wrong CAS is EXISTS, the right one stores.
    REQUIRE(c.send_head([](char* d) { return text::encode_get(d, text::Retrieval::gets, "k1"); }));
    r = c.next();
    REQUIRE(r.kind == ReplyKind::value);
    REQUIRE(r.has(proto::Field::cas));
    const std::uint64_t cas = r.cas;
    CHECK(kind_of(c) == ReplyKind::end);
    REQUIRE(c.send(store_cmd(proto::StoreMode::cas, "k1", "v2", 0, 0, cas + 1)));
    CHECK(kind_of(c) == ReplyKind::exists);
    REQUIRE(c.send(store_cmd(proto::StoreMode::cas, "k1", "v2", 0, 0, cas)));
    CHECK(kind_of(c) == ReplyKind::stored);
    REQUIRE(c.send(store_cmd(proto::StoreMode::cas, "nokey", "v", 0, 0, 1)));
    CHECK(kind_of(c) == ReplyKind::not_found);

    // add, replace, append, prepend.
    REQUIRE(c.send(store_cmd(proto::StoreMode::add, "k1", "x")));
    CHECK(kind_of(c) == ReplyKind::not_stored);
    REQUIRE(c.send(store_cmd(proto::StoreMode::replace, "nokey", "x")));
    CHECK(kind_of(c) == ReplyKind::not_stored);
    REQUIRE(c.send(store_cmd(proto::StoreMode::append, "k1", ">")));
    CHECK(kind_of(c) == ReplyKind::stored);
    REQUIRE(c.send(store_cmd(proto::StoreMode::prepend, "k1", "<")));
    CHECK(kind_of(c) == ReplyKind::stored);
    REQUIRE(c.send(store_cmd(proto::StoreMode::append, "nokey", ">")));
    CHECK(kind_of(c) == ReplyKind::not_stored);
    REQUIRE(c.send_head([](char* d) { return text::encode_get(d, text::Retrieval::get, "k1"); }));
    CHECK(c.next().value == "<v2>");
    CHECK(kind_of(c) == ReplyKind::end);

    // Multi-key get over several command lines: one END per command.
    std::vector<std::string> keys;
    for (int i = 0; i < 40; ++i) {
      keys.push_back("multi-" + std::to_string(i));
      if (i % 2 == 0) {
        REQUIRE(c.send(store_cmd(proto::StoreMode::set, keys.back(), "value-" + std::to_string(i), 7)));
        REQUIRE(kind_of(c) == ReplyKind::stored);
      }
    }
    std::string many;
    const std::size_t commands = text::encode_get_many(
        many, text::Retrieval::gets, keys.size(), [&](std::size_t i) { return std::string_view(keys[i]); }, 0, 100);
    REQUIRE(commands > 3);
    REQUIRE(c.send(many));
    std::size_t ends = 0, hits = 0;
    while (ends < commands) {
      r = c.next();
      REQUIRE_MESSAGE(!r.failed, r.failure);
      if (r.kind == ReplyKind::end) {
        ++ends;
        continue;
      }
      REQUIRE(r.kind == ReplyKind::value);
      CHECK(r.value == "value-" + r.key.substr(6));
      CHECK(r.flags == 7);
      CHECK(r.has(proto::Field::cas));
      ++hits;
    }
    CHECK(hits == 20);

    // delete, incr/decr (padding, floor at 0, wrap), touch, gat, gats.
    REQUIRE(c.send_head([](char* d) { return text::encode_delete(d, "k1"); }));
    CHECK(kind_of(c) == ReplyKind::deleted);
    REQUIRE(c.send_head([](char* d) { return text::encode_delete(d, "k1"); }));
    CHECK(kind_of(c) == ReplyKind::not_found);
    REQUIRE(c.send_head([](char* d) { return text::encode_arith(d, false, "n", 1); }));
    CHECK(kind_of(c) == ReplyKind::not_found);
    REQUIRE(c.send(store_cmd(proto::StoreMode::set, "n", "10")));
    CHECK(kind_of(c) == ReplyKind::stored);
    REQUIRE(c.send_head([](char* d) { return text::encode_arith(d, false, "n", 5); }));
    r = c.next();
    CHECK(r.kind == ReplyKind::number);
    CHECK(r.number == 15);
    REQUIRE(c.send_head([](char* d) { return text::encode_arith(d, true, "n", 9); }));
    CHECK(c.next().number == 6);
    REQUIRE(c.send_head([](char* d) { return text::encode_get(d, text::Retrieval::get, "n"); }));
    r = c.next();
    std::uint64_t stored = 0;
    CHECK(r.value == "6 ");  // shorter number rewritten in place, space-padded
    CHECK(ascii::parse_counter(r.value, stored));
    CHECK(stored == 6);
    CHECK(kind_of(c) == ReplyKind::end);
    REQUIRE(c.send_head([](char* d) { return text::encode_arith(d, true, "n", 100); }));
    CHECK(c.next().number == 0);
    REQUIRE(c.send(store_cmd(proto::StoreMode::set, "n", "18446744073709551615")));
    CHECK(kind_of(c) == ReplyKind::stored);
    REQUIRE(c.send_head([](char* d) { return text::encode_arith(d, false, "n", 2); }));
    r = c.next();
    CHECK(r.kind == ReplyKind::number);
    CHECK(r.number == 1);

    REQUIRE(c.send_head([](char* d) { return text::encode_touch(d, "n", 100); }));
    CHECK(kind_of(c) == ReplyKind::touched);
    REQUIRE(c.send_head([](char* d) { return text::encode_touch(d, "nokey", 100); }));
    CHECK(kind_of(c) == ReplyKind::not_found);
    REQUIRE(c.send_head([](char* d) { return text::encode_get(d, text::Retrieval::gat, "n", 100); }));
    r = c.next();
    CHECK(r.kind == ReplyKind::value);
    CHECK_FALSE(r.has(proto::Field::cas));
    CHECK(kind_of(c) == ReplyKind::end);
    REQUIRE(c.send_head([](char* d) { return text::encode_get(d, text::Retrieval::gats, "n", 100); }));
    CHECK(c.next().has(proto::Field::cas));
    CHECK(kind_of(c) == ReplyKind::end);

    // noreply: nothing comes back, the next reply is the next command's.
    REQUIRE(c.send(store_cmd(proto::StoreMode::set, "quiet", "q", 0, 0, 0, true)));
    REQUIRE(c.send_head([](char* d) { return text::encode_version(d); }));
    CHECK(kind_of(c) == ReplyKind::version);

    // stats: STAT lines, then END.
    REQUIRE(c.send_head([](char* d) { return text::encode_stats(d); }));
    std::size_t stats = 0;
    bool saw_pid = false;
    for (r = c.next(); r.kind == ReplyKind::stat; r = c.next()) {
      ++stats;
      saw_pid = saw_pid || (r.text == "pid" && r.value == std::to_string(servers.pid(0)));
    }
    CHECK(r.kind == ReplyKind::end);
    CHECK(stats > 20);
    CHECK(saw_pid);
  }
}

TEST_CASE("text: a refused set leaves its data unread, so the connection must close") {
  cktest::MemcachedCluster servers(1);
  TextClient c(servers.port(0));
  REQUIRE(c.connected());
  // A key over 250 bytes: CLIENT_ERROR, and the data line is then read as a command.
  REQUIRE(c.send(store_cmd(proto::StoreMode::set, std::string(251, 'k'), "get oops")));
  auto r = c.next();
  CHECK(r.kind == ReplyKind::client_error);
  CHECK(r.text.find("line") != std::string::npos);  // memcached: "line format" / "too long"
  proto::ServerReply probe;
  probe.kind = r.kind;
  CHECK(proto::must_close(probe));
  r = c.next();  // the data "get oops" was run as a get
  CHECK(r.kind == ReplyKind::end);

  REQUIRE(c.send("bogus_command\r\n"));
  CHECK(kind_of(c) == ReplyKind::error);
}

TEST_CASE("text: authfile login against memcached -Y") {
  char path[] = "/tmp/cachekit-authfile-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  const std::string lines = "alice:wonderland\n";
  REQUIRE(::write(fd, lines.data(), lines.size()) == static_cast<ssize_t>(lines.size()));
  ::fchmod(fd, 0644);
  ::close(fd);
  {
    cktest::MemcachedCluster servers(1, {"-Y", path});
    {
      TextClient c(servers.port(0));
      REQUIRE(c.send_head([](char* d) { return text::encode_get(d, text::Retrieval::get, "x"); }));
      auto r = c.next();
      CHECK(r.kind == ReplyKind::client_error);
      proto::ServerReply view;
      view.kind = r.kind;
      view.text = r.text;
      CHECK(proto::error_kind(view) == cachekit::ErrorKind::authentication);
    }
    {
      TextClient c(servers.port(0));
      std::string login;
      text::encode_login(login, "alice", "wrong");
      REQUIRE(c.send(login));
      auto r = c.next();
      CHECK(r.kind == ReplyKind::client_error);
      proto::ServerReply view;
      view.kind = r.kind;
      view.text = r.text;
      CHECK(proto::error_kind(view) == cachekit::ErrorKind::authentication);
    }
    {
      TextClient c(servers.port(0));
      std::string login;
      proto::TextWire::encode_login(login, "alice", "wonderland");
      REQUIRE(c.send(login));
      CHECK(kind_of(c) == ReplyKind::stored);
      REQUIRE(c.send(store_cmd(proto::StoreMode::set, "after", "login")));
      CHECK(kind_of(c) == ReplyKind::stored);
    }
  }
  ::unlink(path);
}

TEST_CASE("text: the one-pass hit decoding gives what the full decoder gives") {
  const std::string hits[] = {"VALUE k 0 5\r\nhello\r\n", "VALUE a-longer-key:0001 4294967295 3 18446744073709551615\r\nxyz\r\n",
                              "VALUE k 1 0 9\r\n\r\n", "VALUE k  1 1\r\nx\r\n", "VALUE k 1 1 \r\nx\r\n",
                              "VALUE k 01 0002\r\nxy\r\n", "VALUE k 4294967296 1\r\nx\r\n",
                              "VALUE k 0 12345678901234567890\r\n", "VALUE k 0 1\r\nxYZ"};
  for (const auto& w : hits) {
    INFO(w);
    std::string_view line;
    proto::Decoded found;
    REQUIRE(ascii::take_line(w.data(), w.size(), proto::Limits{}, line, found));
    proto::ServerReply quick, full;
    const auto a = text::decode(w.data(), w.size(), quick);
    const auto b = text::detail::decode_line(w.data(), w.size(), line, full, proto::Limits{});
    CHECK(a.status == b.status);
    CHECK(a.size == b.size);
    if (a.complete()) {
      CHECK(quick.kind == full.kind);
      CHECK(quick.fields == full.fields);
      CHECK(quick.flags == full.flags);
      CHECK(quick.cas == full.cas);
      CHECK(quick.key == full.key);
      CHECK(quick.value == full.value);
    }
  }
}

TEST_CASE("text: a reply that arrives whole is viewed where it lies") {
  const std::string w = "VALUE k 0 5\r\nhello\r\n";
  proto::ReplyReader<proto::TextWire> reader;
  CHECK(reader.feed(w.data(), w.size()) == w.size());
  REQUIRE(reader.complete());
  CHECK(reader.reply().value.data() == w.data() + 13);
  CHECK(reader.reply().key.data() == w.data() + 6);
  reader.next();
  CHECK(reader.idle());
}

TEST_CASE("text: the one-pass hit decoder takes only what the full decoder reads the same way") {
  const std::vector<std::string> replies = {"VALUE k 0 5\r\nhello\r\n", "VALUE key:1 4294967295 0\r\n\r\n",
                                            "VALUE k 7 4\r\n\r\n\r\n\r\n", "VALUE k 1 2 99\r\nab\r\n",
                                            // 32 bytes or more after the key: the unchecked path
                                            "VALUE k 0 20\r\n01234567890123456789\r\nEND\r\n",
                                            "VALUE key:1 1234567 16\r\n0123456789abcdef\r\nEND\r\n",
                                            "VALUE k 12345678 16\r\n0123456789abcdef\r\nEND\r\n",
                                            "VALUE k 0 1234567\r\n0123456789abcdef0123456789\r\n"};
  const std::vector<std::string> inputs = cut_and_changed(replies, {' ', '0', '9', 'x', '\r', '\n', 'k'});
  std::size_t taken = 0;
  for (const auto& in : inputs) {
    CAPTURE(in);
    for (std::string_view key : {std::string_view("k"), std::string_view("key:1")}) {
      std::string_view value;
      std::uint32_t flags = 0;
      const std::size_t n = text::decode_value_hit(in.data(), in.size(), CACHEKIT_MAX_RESPONSE_BODY, key, flags, value);
      if (n == 0) continue;
      ++taken;
      proto::ServerReply full;
      const auto d = text::decode(in.data(), in.size(), full);
      REQUIRE(d.complete());
      CHECK(d.size == n);
      CHECK(full.kind == proto::ReplyKind::value);
      CHECK(full.key == key);
      CHECK(full.flags == flags);
      CHECK(full.value == value);
    }
  }
  CHECK(taken >= 5);
  // Whole hits are taken on the unchecked path; eight-digit flags are left
  // to the full decoder.
  auto hit = [](const std::string& in, std::string_view key, std::uint32_t& flags) {
    std::string_view value;
    return text::decode_value_hit(in.data(), in.size(), CACHEKIT_MAX_RESPONSE_BODY, key, flags, value);
  };
  std::uint32_t flags = 0;
  CHECK(hit(replies[4], "k", flags) == replies[4].size() - 5);
  CHECK(flags == 0);
  CHECK(hit(replies[5], "key:1", flags) == replies[5].size() - 5);
  CHECK(flags == 1234567);
  CHECK(hit(replies[6], "k", flags) == 0);
  CHECK(hit(replies[7], "k", flags) == 0);
}

TEST_CASE("text: a get's hit and its END are taken together, or not at all") {
  // decode_get_hit takes exactly what decode_value_hit takes when END
  // follows it whole, with the same flags and value, and nothing otherwise.
  const std::vector<std::string> replies = {"VALUE k 0 5\r\nhello\r\nEND\r\n", "VALUE key:1 4294967295 0\r\n\r\nEND\r\n",
                                            "VALUE k 7 4\r\nEND\r\r\nEND\r\n",
                                            "VALUE k 0 20\r\n01234567890123456789\r\nEND\r\n",
                                            "VALUE key:1 1234567 16\r\n0123456789abcdef\r\nEND\r\n",
                                            "VALUE k 3 2\r\nab\r\nEND\r\nVALUE k 3 2\r\n"};
  const std::vector<std::string> inputs = cut_and_changed(replies, {' ', '0', 'E', 'N', 'D', '\r', '\n', 'k'});
  std::size_t taken = 0, refused_whole_hits = 0;
  for (const auto& in : inputs) {
    CAPTURE(in);
    for (std::string_view key : {std::string_view("k"), std::string_view("key:1")}) {
      std::string_view value, value2;
      std::uint32_t flags = 0, flags2 = 0;
      const std::size_t n = text::decode_get_hit(in.data(), in.size(), CACHEKIT_MAX_RESPONSE_BODY, key, flags, value);
      const std::size_t h =
          text::decode_value_hit(in.data(), in.size(), CACHEKIT_MAX_RESPONSE_BODY, key, flags2, value2);
      const bool end_follows = h != 0 && text::starts_with_end(in.data() + h, in.size() - h);
      if (!end_follows) {
        CHECK(n == 0);
        if (h != 0) ++refused_whole_hits;
        continue;
      }
      ++taken;
      CHECK(n == h + 5);
      CHECK(flags == flags2);
      CHECK(value == value2);
      CHECK(value.data() == value2.data());
    }
  }
  CHECK(taken >= 6);
  CHECK(refused_whole_hits >= 6);  // hits whose END is cut short or changed
  // A value too large for the limit is left to the full decoder.
  std::uint32_t flags = 0;
  std::string_view value;
  CHECK(text::decode_get_hit(replies[0].data(), replies[0].size(), 4, "k", flags, value) == 0);
  CHECK(text::decode_get_hit(replies[0].data(), replies[0].size(), 5, "k", flags, value) == replies[0].size());
}

TEST_CASE("text: the batch hit loop takes every whole hit of any prefix of the replies, in order") {
  // A multi-get of seven keys: hits for 0, 2, 3, 5 (a value of 1,000 bytes:
  // four digits) and 6 (flags other than 0), misses for 1 and 4, then END.
  // Cut anywhere, the loop takes exactly the hits that lie whole before the
  // cut, whichever of its two paths reads them (the key at the cursor with
  // 32 bytes to spare, or a later key, or too few bytes left).
  const std::vector<std::string> keys = {"k0", "m1", "key:0000000002", "a-key-of-twenty-bytes", "m4", "k5", "k6"};
  struct Hit {
    std::uint32_t idx;
    std::string value;
  };
  const std::vector<Hit> hits = {
      {0, "v0"}, {2, std::string(100, 'x')}, {3, ""}, {5, std::string(1000, 'y')}, {6, "seven"}};
  std::string stream;
  std::vector<std::size_t> ends;  // where each hit ends in the stream
  for (const auto& h : hits) {
    const char* flags = h.idx == 6 ? "42" : "0";
    stream += "VALUE " + keys[h.idx] + " " + flags + " " + std::to_string(h.value.size()) + "\r\n" + h.value + "\r\n";
    ends.push_back(stream.size());
  }
  stream += "END\r\n";
  auto key_of = [&](std::uint32_t i) { return std::string_view(keys[i]); };
  std::size_t all_taken = 0;
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    CAPTURE(cut);
    cachekit::detail::Job j;
    for (std::uint32_t i = 0; i < keys.size(); ++i) j.keys.push_back(i);
    std::vector<std::pair<std::uint32_t, std::string>> got;
    const std::size_t used = cachekit::detail::TextConversation::fast_get_replies(
        j, stream.data(), cut, key_of, [&](std::uint32_t idx, std::string_view v) { got.emplace_back(idx, v); });
    std::size_t whole = 0;
    while (whole < ends.size() && ends[whole] <= cut) ++whole;
    REQUIRE(got.size() == whole);
    for (std::size_t i = 0; i < whole; ++i) {
      CHECK(got[i].first == hits[i].idx);
      CHECK(got[i].second == hits[i].value);
    }
    CHECK(used == (whole == 0 ? 0 : ends[whole - 1]));
    CHECK(j.cursor == (whole == 0 ? 0 : hits[whole - 1].idx + 1));
    if (whole == hits.size()) ++all_taken;
  }
  CHECK(all_taken == 6);  // the cuts at and after the last hit: its "\r\n" and END's five bytes
  // A hit for a key that was not asked stops the loop before it (the full
  // decoder judges it); so does a size of eight digits.
  for (const std::string& bad : {std::string("VALUE k9 0 2\r\nv9\r\n"), std::string("VALUE k0 0 00000002\r\nv0\r\n")}) {
    CAPTURE(bad);
    const std::string s = bad + std::string(40, ' ');
    cachekit::detail::Job j;
    for (std::uint32_t i = 0; i < keys.size(); ++i) j.keys.push_back(i);
    std::size_t calls = 0;
    CHECK(cachekit::detail::TextConversation::fast_get_replies(j, s.data(), s.size(), key_of,
                                                               [&](std::uint32_t, std::string_view) { ++calls; }) == 0);
    CHECK(calls == 0);
    CHECK(j.cursor == 0);
  }
}
