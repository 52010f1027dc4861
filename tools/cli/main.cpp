// cachekit-cli: a command-line front end to cachekit.
#include <cstdio>
#include <cstring>
#include <string>

#include <cachekit/cachekit.hpp>

#include "commands.hpp"
#include "memcached_common.hpp"

namespace cli {

std::string option(const Args& args, const std::string& name, const std::string& fallback) {
  const std::string flag_name = "--" + name;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == flag_name && i + 1 < args.size()) return args[i + 1];
    if (args[i].rfind(flag_name + "=", 0) == 0) return args[i].substr(flag_name.size() + 1);
  }
  return fallback;
}

bool flag(const Args& args, const std::string& name) {
  for (const auto& a : args) {
    if (a == "--" + name) return true;
  }
  return false;
}

Args positionals(const Args& args, const std::vector<std::string>& options_with_values) {
  Args out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) == 0) {
      for (const auto& o : options_with_values) {
        if (a == "--" + o) {
          ++i;
          break;
        }
      }
      continue;
    }
    out.push_back(a);
  }
  return out;
}

std::string check_options(const Args& args, const std::vector<std::string>& with_values,
                          const std::vector<std::string>& flags) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 2 || a[0] != '-') continue;  // a positional, or "-" for stdin
    if (a.rfind("--", 0) != 0) return "unknown option '" + a + "'";
    const std::string body = a.substr(2);
    const std::string name = body.substr(0, body.find('='));
    bool known = false;
    for (const auto& o : with_values) {
      if (name != o) continue;
      known = true;
      if (body.size() == name.size()) {  // "--name VALUE"
        if (i + 1 >= args.size()) return "option '" + a + "' needs a value";
        ++i;
      }
      break;
    }
    for (const auto& f : flags) known = known || body == f;
    if (!known) return "unknown option '" + a + "'";
  }
  return {};
}

}  // namespace cli

namespace {

struct Command {
  const char* name;
  int (*run)(const cli::Args&);
  const char* summary;
  const char* usage;   // arguments after the command name
  const char* detail;  // full description, several lines
  bool memcached;      // takes the memcached options
  bool ttl;            // takes --ttl
};

int run_version_of_cli(const cli::Args&) {
  std::printf("cachekit-cli %s\n", CACHEKIT_VERSION_STRING);
  return cli::kOk;
}

constexpr const char* kMemcachedOptions =
    "memcached options (every command that talks to servers):\n"
    "  --servers LIST          servers as host:port[:weight],... or a JSON array\n"
    "                          '[\"host:port\", ...]' (the form of CACHEKIT_MEMCACHED_SERVERS);\n"
    "                          default: CACHEKIT_MEMCACHED_SERVERS, else 127.0.0.1:11211\n"
    "  --timeout S             I/O timeout in seconds, 0.1 .. 30 (default 1)\n"
    "  --connect-timeout S     connect timeout in seconds, 0.1 .. 30 (default 2)\n"
    "  --prefix P              key prefix put in front of every key (default none)\n"
    "  --distribution NAME     ketama (default), libketama, modula, rendezvous, spymemcached,\n"
    "                          spymemcached_weighted, uhashring or dalli\n"
    "  --retries N             extra attempts after a transient failure, 0 .. 10 (default 2)\n"
    "  --protocol NAME         meta (default; memcached >= 1.6.10), text (also twemproxy,\n"
    "                          mcrouter) or binary\n"
    "  --tls                   connect over TLS (a cachekit-cli built with OpenSSL)\n"
    "  --tls-ca-file F         PEM CAs of the servers' certificates (default: the system's)\n"
    "  --tls-cert-file F, --tls-key-file F   a client certificate and its key\n"
    "  --tls-server-name N     the name the certificates must carry (default: each host)\n"
    "  Every other CACHEKIT_MEMCACHED_* variable applies as in the library.\n";

constexpr const char* kExitCodes = "exit codes: 0 ok, 1 miss/absent, 2 bad usage or input, 3 server error\n";

const Command kCommands[] = {
    {"get", cli::run_get, "print the value of a key", "KEY",
     "Prints the value stored under KEY and a newline. Exit 1 on a miss.\n", true, false},
    {"set", cli::run_set, "store a value", "KEY VALUE|- [--ttl S]",
     "Stores VALUE under KEY; \"-\" reads the value from stdin. --ttl S: lifetime in\n"
     "seconds (0 or negative: no expiry; the default is 0).\n",
     true, true},
    {"delete", cli::run_delete, "remove a key", "KEY", "Removes KEY. Exit 1 when it was absent.\n", true, false},
    {"touch", cli::run_touch, "set a new TTL on a key", "KEY --ttl S",
     "Gives KEY a new lifetime of S seconds. Exit 1 when it is absent.\n", true, true},
    {"stats", cli::run_stats, "statistics of every server", "[GROUP]",
     "Prints \"server name value\" lines for every server (GROUP: items, slabs, ...).\n"
     "Exit 3 when a server did not answer.\n",
     true, false},
    {"version", cli::run_version, "version of every server", "",
     "Prints \"server version\" for every server. Exit 3 when a server did not answer.\n", true, false},
    {"health", cli::run_health, "up/down, latency and version of every server", "",
     "Prints \"server up LATENCY_US VERSION\" or \"server down REASON\" for every server.\n"
     "Exit 3 when a server is down.\n",
     true, false},
    {"config", cli::run_config, "print the configuration the other commands use", "",
     "Prints the servers (and where they came from: --servers, CACHEKIT_MEMCACHED_SERVERS\n"
     "or the default), protocol, timeouts, prefix and distribution. Connects nowhere.\n",
     true, false},
    {"ring", cli::run_ring, "print the server for each key read from stdin",
     "--servers SPEC[,SPEC...] [--distribution NAME] [--key-hash HASH] [--describe]",
     "Reads keys, one per line, from stdin and prints the server (host:port) of each,\n"
     "in order. --describe prints each server's points and share of the hash space\n"
     "instead. --servers takes host, host:port, host:port:weight, [v6addr]:port[:weight]\n"
     "or /path/to.sock, or host:port:weight NAME (twemproxy's named server), comma-separated,\n"
     "or a JSON array of them. --distribution: ketama (default; libmemcached, twemproxy),\n"
     "libketama, modula, rendezvous (pymemcache), spymemcached, spymemcached_weighted,\n"
     "uhashring or dalli. --key-hash (ketama only): md5 (default), crc32, crc32a, fnv1_64,\n"
     "fnv1a_64, fnv1_32, fnv1a_32, murmur, jenkins, hsieh or one_at_a_time. Connects nowhere.\n",
     false, false},
};

const Command* find_command(const char* name) {
  for (const auto& c : kCommands) {
    if (std::strcmp(name, c.name) == 0) return &c;
  }
  return nullptr;
}

void command_help(std::FILE* out, const Command& c) {
  std::fprintf(out, "usage: cachekit-cli %s%s%s%s\n\n%s", c.name, c.usage[0] != '\0' ? " " : "", c.usage,
               c.memcached ? " [memcached options]" : "", c.detail);
  if (c.memcached) std::fprintf(out, "\n%s", kMemcachedOptions);
  std::fprintf(out, "\n%s", kExitCodes);
}

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: cachekit-cli COMMAND [arguments] [options]\n"
               "       cachekit-cli help [COMMAND]      full help (of one command)\n"
               "       cachekit-cli COMMAND --help\n"
               "       cachekit-cli --version\n\ncommands:\n");
  for (const auto& c : kCommands) {
    std::fprintf(out, "  %s%s%s\n        %s\n", c.name, c.usage[0] != '\0' ? " " : "", c.usage, c.summary);
  }
  std::fprintf(out, "\n%s\n%s", kMemcachedOptions, kExitCodes);
}

bool wants_help(const cli::Args& args) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return cli::kUsage;
  }
  const std::string first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    if (argc > 2) {
      const Command* c = find_command(argv[2]);
      if (c == nullptr) {
        std::fprintf(stderr, "cachekit-cli: unknown command '%s'; run 'cachekit-cli help'\n", argv[2]);
        return cli::kUsage;
      }
      command_help(stdout, *c);
      return cli::kOk;
    }
    usage(stdout);
    return cli::kOk;
  }
  if (first == "--version") return run_version_of_cli({});
  const Command* c = find_command(argv[1]);
  if (c == nullptr) {
    std::fprintf(stderr, "cachekit-cli: unknown command '%s'; run 'cachekit-cli help'\n", argv[1]);
    return cli::kUsage;
  }
  cli::Args args(argv + 2, argv + argc);
  if (wants_help(args)) {
    command_help(stdout, *c);
    return cli::kOk;
  }
  std::vector<std::string> with_values;
  std::vector<std::string> flags;
  if (c->memcached) {
    with_values = cli::kBackendOptions;
    flags = cli::kBackendFlags;
  }
  if (c->ttl) with_values.push_back("ttl");
  if (std::strcmp(c->name, "ring") == 0) {
    with_values = {"servers", "distribution", "key-hash"};
    flags = {"describe"};
  }
  const std::string problem = cli::check_options(args, with_values, flags);
  if (!problem.empty()) {
    std::fprintf(stderr, "cachekit-cli %s: %s; run 'cachekit-cli %s --help'\n", c->name, problem.c_str(), c->name);
    return cli::kUsage;
  }
  return c->run(args);
}
