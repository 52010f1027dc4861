// Ring::build from fuzzed server lists (one spec per line, first byte picks
// the distribution and key hash): build succeeds or fails cleanly; every lookup lands on
// a server, and the batch answer equals the single-key answer.
#include <cachekit/cachekit.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // Low 3 bits: the distribution; for ketama, the rest picks the key hash.
  constexpr std::size_t kDists = sizeof(cachekit::kAllDistributions) / sizeof(cachekit::kAllDistributions[0]);
  constexpr std::size_t kHashes = sizeof(cachekit::kAllKeyHashes) / sizeof(cachekit::kAllKeyHashes[0]);
  const auto dist = cachekit::kAllDistributions[data[0] % kDists];
  const auto key_hash =
      dist == cachekit::Distribution::ketama ? cachekit::kAllKeyHashes[(data[0] / kDists) % kHashes] : cachekit::KeyHash::md5;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<cachekit::ServerSpec> servers;
  std::vector<std::string_view> keys;
  std::size_t start = 0;
  while (start <= text.size() && servers.size() < 200) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(start, nl - start);
    auto spec = cachekit::ServerSpec::parse(line);
    if (spec) servers.push_back(*spec);
    keys.push_back(line);  // every line doubles as a key
    start = nl + 1;
  }
  auto ring = cachekit::Ring::build(servers, dist, key_hash);
  if (!ring) return 0;
  std::vector<std::size_t> out(keys.size());
  ring->server_for(keys.data(), keys.size(), out.data());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::size_t one = ring->server_for(keys[i]);
    if (one >= ring->servers().size() || one != out[i]) std::abort();
  }
  return 0;
}
