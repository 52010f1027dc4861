// The CACHEKIT_MEMCACHED_SERVERS JSON parser: any text gives a list of
// strings or a clear error; a parsed list written back as JSON parses to
// the same list.
#include <cachekit/cachekit.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {
std::string to_json(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (unsigned char c : items[i]) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
    }
    out += '"';
  }
  return out + "]";
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = cachekit::detail::parse_json_string_array(input);
  if (!parsed) {
    if (parsed.error().message().empty()) std::abort();
    return 0;
  }
  auto again = cachekit::detail::parse_json_string_array(to_json(*parsed));
  if (!again || *again != *parsed) std::abort();
  return 0;
}
