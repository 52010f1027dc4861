// ServerSpec::parse: any text gives a spec or a clear error; a parsed spec
// prints back to text that parses to the same address.
#include <cachekit/cachekit.hpp>

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto spec = cachekit::ServerSpec::parse(input);
  if (!spec) {
    if (spec.error().message().empty()) std::abort();
    return 0;
  }
  if (spec->host.empty() || spec->weight == 0) std::abort();
  auto again = cachekit::ServerSpec::parse(spec->to_string());
  if (!again || again->host != spec->host || again->port != spec->port) std::abort();
  return 0;
}
