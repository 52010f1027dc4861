// No heap allocation per get on the hot path after warm-up, apart from the
// returned value. Global operator new is replaced in this file; it counts
// only while a test sets the flag.
#include <doctest/doctest.h>

// ThreadSanitizer's runtime defines operator new itself, so this file's
// replacement cannot link there; the TSan leg runs only the concurrency suite.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CACHEKIT_TEST_UNDER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CACHEKIT_TEST_UNDER_TSAN 1
#endif
#ifndef CACHEKIT_TEST_UNDER_TSAN

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/protocol_under_test.hpp"

#include "support/memcached_process.hpp"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};

void* counted_alloc(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) std::abort();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

TEST_CASE("allocations: a get allocates only its returned value") {
  cktest::MemcachedCluster cluster(3);
  cachekit::MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  cfg.key_prefix = "alloc:";
  cachekit::MemcachedBackend b(cfg);
  const std::string big(100, 'v');   // heap-allocated std::string
  const std::string small("tiny");   // fits the small-string buffer
  REQUIRE(b.set("big-key", big));
  REQUIRE(b.set("small-key", small));
  for (int i = 0; i < 100; ++i) {  // warm-up: connections, buffers
    REQUIRE(b.get("big-key"));
    REQUIRE(b.get("small-key"));
    REQUIRE(b.get("missing-key"));
  }
  constexpr int kGets = 1000;

  g_allocations = 0;
  g_counting = true;
  long hits = 0;
  for (int i = 0; i < kGets; ++i) {
    auto r = b.get("big-key");
    hits += (r && r->has_value() && r->value().size() == 100) ? 1 : 0;
  }
  g_counting = false;
  CHECK(hits == kGets);
  CHECK(g_allocations.load() == kGets);  // exactly one: the returned value

  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < kGets; ++i) {
    auto r = b.get("small-key");
    auto m = b.get("missing-key");
    hits += (r && r->has_value() && m && !m->has_value()) ? 1 : 0;
  }
  g_counting = false;
  CHECK(hits == 2 * kGets);
  CHECK(g_allocations.load() == 0);
}

TEST_CASE("allocations: reads into warm buffers allocate nothing per key") {
  cktest::MemcachedCluster cluster(3);
  cachekit::MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  cachekit::MemcachedBackend b(cfg);
  const std::string big(100, 'v');
  REQUIRE(b.set("big-key", big));
  std::string into;
  for (int i = 0; i < 100; ++i) {  // warm-up: connections to both keys' servers, the buffer
    REQUIRE(b.get("big-key", into));
    REQUIRE(b.get("missing-key", into));
  }

  constexpr int kGets = 1000;
  g_allocations = 0;
  g_counting = true;
  long hits = 0;
  for (int i = 0; i < kGets; ++i) {
    auto r = b.get("big-key", into);
    auto m = b.get("missing-key", into);
    hits += (r && *r && into.empty() && m && !*m) ? 1 : 0;
  }
  g_counting = false;
  CHECK(hits == kGets);
  CHECK(g_allocations.load() == 0);

  // get_many into a warm vector, over three servers: its bookkeeping lives
  // in per-thread arrays, so a call allocates nothing at all.
  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < 1000; ++i) items.emplace_back("many-" + std::to_string(i), big);
  REQUIRE(b.set_many(items));
  auto per_call = [&](std::size_t n) {
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < n; ++i) keys.push_back(items[i].first);
    std::vector<std::optional<std::string>> values;
    for (int i = 0; i < 5; ++i) REQUIRE(b.get_many(keys, values));  // warm-up
    constexpr int kCalls = 20;
    g_allocations = 0;
    g_counting = true;
    bool all_hit = true;
    for (int i = 0; i < kCalls; ++i) {
      all_hit = b.get_many(keys, values).ok() && all_hit;
      for (const auto& v : values) all_hit = all_hit && v && *v == big;
    }
    g_counting = false;
    CHECK(all_hit);
    return g_allocations.load() / kCalls;
  };
  const long few = per_call(10);
  const long many = per_call(1000);
  MESSAGE("allocations per get_many call into a warm vector: " << few << " (10 keys), " << many << " (1,000 keys)");
  CHECK(few == 0);
  CHECK(many == 0);
}

TEST_CASE("allocations: the text and meta codecs allocate nothing") {
  namespace proto = cachekit::protocol;
  const std::string text_replies = "VALUE key:1 5 3 77\r\nabc\r\nEND\r\nSTORED\r\n12\r\nSTAT pid 1\r\n";
  const std::string meta_replies = "VA 3 f5 kkey:1 O9\r\nabc\r\nHD c1\r\nEN\r\nMN\r\nNS O2\r\n";
  const std::string split = "VA 10 f1\r\n0123456789\r\n";
  proto::ReplyReader<proto::MetaWire> reader;
  auto feed_split = [&] {  // one reply in reads of 4 bytes: gathered by the reader
    bool done = false;
    for (std::size_t at = 0; at < split.size(); at += 4) {
      reader.feed(split.data() + at, std::min<std::size_t>(4, split.size() - at));
      done = done || reader.complete();
    }
    reader.next();
    return done;
  };
  REQUIRE(feed_split());  // warm-up: the reader keeps its memory
  cachekit::detail::ByteBuffer out;
  out.reserve(4096);
  const std::string keys[] = {"key:1", "key:2", "key:3"};
  auto key_at = [&](std::size_t i) { return std::string_view(keys[i]); };

  g_allocations = 0;
  g_counting = true;
  std::size_t bytes = 0, replies = 0;
  bool ok = true;
  for (int round = 0; round < 100; ++round) {
    char head[512];
    proto::GetRequest g;
    g.key = "key:1";
    bytes += proto::TextWire::encode_get(head, g) + proto::MetaWire::encode_get(head, g);
    proto::StoreRequest s;
    s.key = "key:1";
    s.value_size = 3;
    bytes += proto::TextWire::encode_store_head(head, s) + proto::MetaWire::encode_store_head(head, s);
    out.clear();
    proto::text::encode_get_many(out, proto::text::Retrieval::get, 3, key_at);
    proto::meta::encode_mg_pipeline(out, 3, key_at, 1);
    bytes += out.size();
    proto::ServerReply r;
    for (std::size_t at = 0; at < text_replies.size(); ++replies) {
      const auto d = proto::TextWire::decode(text_replies.data() + at, text_replies.size() - at, r);
      ok = ok && d.complete();
      at += d.size;
    }
    for (std::size_t at = 0; at < meta_replies.size(); ++replies) {
      const std::size_t used = reader.feed(meta_replies.data() + at, meta_replies.size() - at);
      ok = ok && reader.complete();
      reader.next();
      at += used;
    }
    ok = feed_split() && ok;
  }
  g_counting = false;
  CHECK(ok);
  CHECK(bytes > 0);
  CHECK(replies == 100 * 10);
  CHECK(g_allocations.load() == 0);
}

#endif  // CACHEKIT_TEST_UNDER_TSAN
