// Values written over one protocol read back over each other one, from one
// real memcached: the same bytes and the same flags, whatever the wire.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/memcached_process.hpp"

using namespace std::chrono_literals;
using cachekit::MemcachedBackend;
using cachekit::MemcachedBackendConfig;
using cachekit::Protocol;

namespace {

constexpr Protocol kCrossProtocols[] = {Protocol::meta, Protocol::text, Protocol::binary};

// A value of n bytes holding every byte value, "\r\n" and "END\r\n" on the way.
std::string cross_bytes(std::size_t n) {
  std::string v;
  v.reserve(n);
  for (std::size_t i = 0; v.size() < n; ++i) {
    if (i % 997 == 0) {
      v += "\r\nEND\r\n";
    } else {
      v += static_cast<char>((i * 31 + 7) & 0xff);
    }
  }
  v.resize(n);
  return v;
}

struct CrossValue {
  std::string suffix;
  std::string value;
  std::uint32_t flags;
};

std::vector<CrossValue> cross_values() {
  return {
      {"plain", "hello", 7},
      {"empty", "", 7},
      {"crlf", "a\r\nb\r\n", 7},
      {"looks-like-a-reply", "END\r\nVALUE x 0 1\r\ny\r\n", 0},
      {"all-bytes", cross_bytes(256), 7},
      {"large", cross_bytes(100 * 1024), 7},
      {"top-flags", "f", 4294967295u},
  };
}

MemcachedBackendConfig cross_config(const cktest::MemcachedCluster& cluster, Protocol protocol) {
  MemcachedBackendConfig cfg;
  cfg.servers = cluster.specs();
  cfg.protocol = protocol;
  cfg.timeout = 2000ms;
  return cfg;
}

}  // namespace

TEST_CASE("cross protocol: what one protocol writes every other reads the same (bytes and flags)") {
  cktest::MemcachedCluster cluster(1);
  for (Protocol writer_protocol : kCrossProtocols) {
    for (Protocol reader_protocol : kCrossProtocols) {
      const std::string pair =
          std::string(cachekit::to_string(writer_protocol)) + "->" + cachekit::to_string(reader_protocol);
      CAPTURE(pair);
      MemcachedBackend writer(cross_config(cluster, writer_protocol));
      MemcachedBackend reader(cross_config(cluster, reader_protocol));
      REQUIRE(writer.status());
      REQUIRE(reader.status());
      const std::string prefix = "x-" + pair + "-";

      // set with flags, then gets: value and flags.
      std::vector<std::string> keys;
      for (const auto& cv : cross_values()) {
        const std::string key = prefix + cv.suffix;
        CAPTURE(key);
        auto stored = writer.set(key, cv.value, 0s, cv.flags);
        REQUIRE_MESSAGE(stored, stored.error().to_string());
        auto item = reader.gets(key);
        REQUIRE_MESSAGE(item, item.error().to_string());
        REQUIRE(item->has_value());
        CHECK((*item)->value.size() == cv.value.size());
        CHECK((*item)->value == cv.value);
        CHECK((*item)->flags == cv.flags);
        CHECK((*item)->cas != 0);
        keys.push_back(key);
      }
      // The same keys in one batch, with a miss among them.
      keys.push_back(prefix + "absent");
      auto many = reader.get_many(keys);
      REQUIRE_MESSAGE(many, many.error().to_string());
      REQUIRE(many->size() == keys.size());
      const auto values = cross_values();
      for (std::size_t i = 0; i < values.size(); ++i) {
        CAPTURE(keys[i]);
        REQUIRE((*many)[i].has_value());
        CHECK(*(*many)[i] == values[i].value);
      }
      CHECK_FALSE(many->back().has_value());

      // set_many with flags, read one by one and as a batch.
      std::vector<std::pair<std::string, std::string>> items;
      for (const auto& cv : cross_values()) items.emplace_back(prefix + "many-" + cv.suffix, cv.value);
      auto failed = writer.set_many(items, 0s, 11);
      REQUIRE_MESSAGE(failed, failed.error().to_string());
      CHECK(failed->empty());
      std::vector<std::string> many_keys;
      for (const auto& kv : items) {
        CAPTURE(kv.first);
        auto item = reader.gets(kv.first);
        REQUIRE_MESSAGE(item, item.error().to_string());
        REQUIRE(item->has_value());
        CHECK((*item)->value == kv.second);
        CHECK((*item)->flags == 11);
        many_keys.push_back(kv.first);
      }
      std::vector<std::optional<std::string>> got;
      auto batch = reader.get_many(many_keys, got);
      REQUIRE_MESSAGE(batch, batch.error().to_string());
      REQUIRE(got.size() == items.size());
      for (std::size_t i = 0; i < items.size(); ++i) {
        CAPTURE(items[i].first);
        REQUIRE(got[i].has_value());
        CHECK(*got[i] == items[i].second);
      }

      // A CAS token from one protocol is honoured by the other.
      const std::string cas_key = prefix + "cas";
      REQUIRE(writer.set(cas_key, "before", 0s, 5));
      auto seen = reader.gets(cas_key);
      REQUIRE(seen);
      REQUIRE(seen->has_value());
      auto swapped = writer.cas(cas_key, "after", (*seen)->cas, 0s, 6);
      REQUIRE(swapped);
      CHECK(*swapped == cachekit::CasOutcome::stored);
      auto after = reader.gets(cas_key);
      REQUIRE(after);
      REQUIRE(after->has_value());
      CHECK((*after)->value == "after");
      CHECK((*after)->flags == 6);
      auto stale = writer.cas(cas_key, "stale", (*seen)->cas);
      REQUIRE(stale);
      CHECK(*stale == cachekit::CasOutcome::conflict);
    }
  }
}
