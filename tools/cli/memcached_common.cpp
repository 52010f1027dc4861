#include "memcached_common.hpp"

#include <cstdio>
#include <cstdlib>

namespace cli {

namespace {
std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

bool seconds_option(const Args& args, const char* name, std::chrono::milliseconds& out) {
  const std::string v = option(args, name);
  if (v.empty()) return true;
  char* end = nullptr;
  const double s = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end != '\0' || !(s >= 0)) {
    std::fprintf(stderr, "cachekit-cli: --%s expects seconds, got '%s'\n", name, v.c_str());
    return false;
  }
  out = std::chrono::milliseconds(static_cast<long long>(s * 1000.0));
  return true;
}
}  // namespace

std::unique_ptr<cachekit::MemcachedBackend> make_backend(const Args& args) {
  auto cfg = cachekit::MemcachedBackendConfig::from_env();
  if (!cfg) {
    std::fprintf(stderr, "cachekit-cli: %s\n", cfg.error().message().c_str());
    return nullptr;
  }
  const std::string servers = option(args, "servers");
  if (!servers.empty()) cfg->servers = split_commas(servers);
  if (!seconds_option(args, "timeout", cfg->timeout) || !seconds_option(args, "connect-timeout", cfg->connect_timeout)) {
    return nullptr;
  }
  const std::string prefix = option(args, "prefix");
  if (!prefix.empty()) cfg->key_prefix = prefix;
  const std::string retries = option(args, "retries");
  if (!retries.empty()) cfg->retry_attempts = std::atoi(retries.c_str());
  const std::string dist = option(args, "distribution");
  if (!dist.empty()) {
    auto d = cachekit::parse_distribution(dist);
    if (!d) {
      std::fprintf(stderr, "cachekit-cli: --distribution: %s\n", d.error().message().c_str());
      return nullptr;
    }
    cfg->distribution = *d;
  }
  auto ok = cfg->validate();
  if (!ok) {
    std::fprintf(stderr, "cachekit-cli: %s\n", ok.error().message().c_str());
    return nullptr;
  }
  return std::make_unique<cachekit::MemcachedBackend>(std::move(*cfg));
}

int report(const cachekit::Error& e) {
  std::fprintf(stderr, "cachekit-cli: %s\n", e.to_string().c_str());
  return e.kind() == cachekit::ErrorKind::permanent ? kUsage : kServerError;
}

bool ttl_option(const Args& args, std::chrono::seconds& ttl) {
  const std::string v = option(args, "ttl");
  if (v.empty()) return true;
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (end == v.c_str() || *end != '\0') {
    std::fprintf(stderr, "cachekit-cli: --ttl expects whole seconds, got '%s'\n", v.c_str());
    return false;
  }
  ttl = std::chrono::seconds(n);
  return true;
}

}  // namespace cli
