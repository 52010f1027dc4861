#include "memcached_common.hpp"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace cli {

namespace {
ServersFrom g_servers_from = ServersFrom::fallback;

// "a, b,c" -> {"a", "b", "c"}; an empty item stays (and is refused later
// with the server spec rules' own message).
// Items are trimmed but keep inner spaces: "host:port:weight name" is one
// named server (twemproxy's form).
std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = s.find(',', start);
    const std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const std::size_t b = item.find_first_not_of(" \t");
    const std::size_t e = item.find_last_not_of(" \t");
    out.push_back(b == std::string::npos ? std::string() : item.substr(b, e - b + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool seconds_option(const Args& args, const char* name, std::chrono::milliseconds& out) {
  const std::string v = option(args, name);
  if (v.empty()) return true;
  char* end = nullptr;
  const double s = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end != '\0' || !(s >= 0) || s > 1e6) {
    std::fprintf(stderr, "cachekit-cli: --%s expects seconds, got '%s'\n", name, v.c_str());
    return false;
  }
  out = std::chrono::milliseconds(static_cast<long long>(s * 1000.0));
  return true;
}

bool invalid(const std::string& message) {
  std::fprintf(stderr, "cachekit-cli: %s\n", message.c_str());
  note_default_servers();
  return false;
}
}  // namespace

cachekit::Result<std::vector<std::string>> parse_servers_option(const std::string& text) {
  // A JSON array opens with '[' then '"' or ']'; an IPv6 spec ("[::1]:11211")
  // has an address after its '['.
  const std::size_t first = text.find_first_not_of(" \t");
  const std::size_t second = first == std::string::npos ? first : text.find_first_not_of(" \t", first + 1);
  if (first != std::string::npos && text[first] == '[' && second != std::string::npos &&
      (text[second] == '"' || text[second] == ']')) {
    auto list = cachekit::detail::parse_json_string_array(text);
    if (!list) {
      return cachekit::Error(cachekit::ErrorKind::permanent,
                             "--servers: not a JSON array of server strings like [\"mc1:11211\", \"mc2:11211\"]: " +
                                 list.error().message());
    }
    return list;
  }
  return split_commas(text);
}

ServersFrom servers_from() { return g_servers_from; }

void note_default_servers() {
  if (g_servers_from != ServersFrom::fallback) return;
  std::fprintf(stderr,
               "cachekit-cli: no servers configured (no --servers, CACHEKIT_MEMCACHED_SERVERS unset or empty): "
               "used the default %s\n",
               kDefaultServer);
}

std::optional<cachekit::MemcachedBackendConfig> make_config(const Args& args) {
  const std::string servers = option(args, "servers");
  const char* env = std::getenv("CACHEKIT_MEMCACHED_SERVERS");
  g_servers_from = !servers.empty()                          ? ServersFrom::option
                   : (env != nullptr && env[0] != '\0') ? ServersFrom::environment
                                                             : ServersFrom::fallback;
  auto cfg = cachekit::MemcachedBackendConfig::from_env();
  if (!cfg) {
    invalid(cfg.error().message());
    return std::nullopt;
  }
  if (!servers.empty()) {
    auto list = parse_servers_option(servers);
    if (!list) {
      invalid(list.error().message());
      return std::nullopt;
    }
    if (list->empty()) {
      invalid("--servers: the array must name at least one server");
      return std::nullopt;
    }
    cfg->servers = std::move(*list);
  }
  if (!seconds_option(args, "timeout", cfg->timeout) || !seconds_option(args, "connect-timeout", cfg->connect_timeout)) {
    return std::nullopt;
  }
  const std::string prefix = option(args, "prefix");
  if (!prefix.empty()) cfg->key_prefix = prefix;
  const std::string retries = option(args, "retries");
  if (!retries.empty()) {
    char* end = nullptr;
    const long n = std::strtol(retries.c_str(), &end, 10);
    if (end == retries.c_str() || *end != '\0' || n < 0 || n > 1000) {
      invalid("--retries expects a whole number 0 .. 10, got '" + retries + "'");
      return std::nullopt;
    }
    cfg->retry_attempts = static_cast<int>(n);
  }
  const std::string dist = option(args, "distribution");
  if (!dist.empty()) {
    auto d = cachekit::parse_distribution(dist);
    if (!d) {
      invalid("--distribution: " + d.error().message());
      return std::nullopt;
    }
    cfg->distribution = *d;
  }
  const std::string proto = option(args, "protocol");
  if (!proto.empty()) {
    auto p = cachekit::parse_protocol(proto);
    if (!p) {
      invalid("--protocol: " + p.error().message());
      return std::nullopt;
    }
    cfg->protocol = *p;
  }
  if (flag(args, "tls")) cfg->tls = true;
  const std::pair<const char*, std::string*> tls_files[] = {{"tls-ca-file", &cfg->tls_ca_file},
                                                            {"tls-cert-file", &cfg->tls_cert_file},
                                                            {"tls-key-file", &cfg->tls_key_file},
                                                            {"tls-server-name", &cfg->tls_server_name}};
  for (const auto& tf : tls_files) {
    const std::string v = option(args, tf.first);
    if (!v.empty()) *tf.second = v;
  }
  auto ok = cfg->validate();
  if (!ok) {
    invalid(ok.error().message());
    return std::nullopt;
  }
  return std::optional<cachekit::MemcachedBackendConfig>(std::move(cfg).value());
}

std::unique_ptr<cachekit::MemcachedBackend> make_backend(const Args& args) {
  auto cfg = make_config(args);
  if (!cfg) return nullptr;
  return std::make_unique<cachekit::MemcachedBackend>(std::move(*cfg));
}

int report(const cachekit::Error& e) {
  std::fprintf(stderr, "cachekit-cli: %s\n", e.to_string().c_str());
  note_default_servers();
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

int run_config(const Args& args) {
  if (!positionals(args, kValueOptions).empty()) {
    std::fprintf(stderr, "usage: cachekit-cli config [memcached options]\n");
    return kUsage;
  }
  auto cfg = make_config(args);
  if (!cfg) return kUsage;
  std::string servers;
  for (const auto& s : cfg->servers) servers += (servers.empty() ? "" : ",") + s;
  const char* from = servers_from() == ServersFrom::option        ? "from --servers"
                     : servers_from() == ServersFrom::environment ? "from CACHEKIT_MEMCACHED_SERVERS"
                                                                  : "the default: no --servers, "
                                                                    "CACHEKIT_MEMCACHED_SERVERS unset or empty";
  std::printf("servers %s (%s)\n", servers.c_str(), from);
  std::printf("protocol %s\n", cachekit::to_string(cfg->protocol));
  std::printf("distribution %s\n", cachekit::to_string(cfg->distribution));
  std::printf("key_prefix '%s'\n", cfg->key_prefix.c_str());
  std::printf("timeout %.3f s\n", static_cast<double>(cfg->timeout.count()) / 1000.0);
  std::printf("connect_timeout %.3f s\n", static_cast<double>(cfg->connect_timeout.count()) / 1000.0);
  std::printf("retry_attempts %d\n", cfg->retry_attempts);
  std::printf("max_pool_size %d\n", static_cast<int>(cfg->max_pool_size));
  if (cfg->tls) {
    std::printf("tls on (ca %s, client certificate %s, verify %s)\n",
                cfg->tls_ca_file.empty() ? "the system trust store" : cfg->tls_ca_file.c_str(),
                cfg->tls_cert_file.empty() ? "none" : cfg->tls_cert_file.c_str(),
                cfg->tls_verify ? "on" : "OFF (unsafe)");
  } else {
    std::printf("tls off\n");
  }
  return kOk;
}

}  // namespace cli
