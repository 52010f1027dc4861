// cachekit-cli: a command-line front end to cachekit.
#include <cstdio>
#include <cstring>
#include <string>

#include <cachekit/cachekit.hpp>

#include "commands.hpp"

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

}  // namespace cli

namespace {

struct Command {
  const char* name;
  int (*run)(const cli::Args&);
  const char* help;
};

int run_version_of_cli(const cli::Args&) {
  std::printf("cachekit-cli %s\n", CACHEKIT_VERSION_STRING);
  return cli::kOk;
}

const Command kCommands[] = {
    {"--version", run_version_of_cli, "print the cachekit version"},
    {"get", cli::run_get, "get KEY: print the value; exit 1 on a miss"},
    {"set", cli::run_set, "set KEY VALUE|- [--ttl S]: store a value (- reads stdin)"},
    {"delete", cli::run_delete, "delete KEY: exit 1 when absent"},
    {"touch", cli::run_touch, "touch KEY --ttl S: new TTL; exit 1 when absent"},
    {"stats", cli::run_stats, "stats [GROUP]: statistics of every server"},
    {"version", cli::run_version, "version: version of every server"},
    {"health", cli::run_health, "health: up/down, latency, version of every server"},
    {"ring", cli::run_ring, "print the server for each key read from stdin"},
};

void usage(std::FILE* out) {
  std::fprintf(out, "usage: cachekit-cli COMMAND [options]\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-12s %s\n", c.name, c.help);
  std::fprintf(out,
               "\nmemcached options: --servers host:port[,host:port...] (else CACHEKIT_MEMCACHED_SERVERS),\n"
               "  --timeout S, --connect-timeout S, --prefix P, --distribution NAME, --retries N\n"
               "exit codes: 0 ok, 1 miss/absent, 2 bad usage or input, 3 server error\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return cli::kUsage;
  }
  if (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    return cli::kOk;
  }
  cli::Args args(argv + 2, argv + argc);
  for (const auto& c : kCommands) {
    if (std::strcmp(argv[1], c.name) == 0) return c.run(args);
  }
  std::fprintf(stderr, "cachekit-cli: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return cli::kUsage;
}
