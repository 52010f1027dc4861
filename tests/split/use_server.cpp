// The split build against a real memcached (started here on a free loopback
// port, stopped by its PID): every operation of the split MemcachedBackend
// and MemoryBackend reaches the implementation compiled in impl.cpp.
#define CACHEKIT_DECLARATIONS_ONLY
#include <cachekit/cachekit.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "split: %s\n", what);
    ++failures;
  }
}

// Whether this process now holds port against the other test processes:
// a write lock on byte <port> of the file the test harness reserves its
// ports in (tests/support/memcached_process.cpp), kept until exit.
bool reserve(int port) {
  static const int fd = [] {
    const char* dir = std::getenv("TMPDIR");
    const std::string path = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/cachekit-test-ports.lock";
    const int f = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (f >= 0) ::fchmod(f, 0666);
    return f;
  }();
  if (fd < 0) return true;  // no file to share: the kernel's choice alone
  struct flock lock{};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = port;
  lock.l_len = 1;
  return ::fcntl(fd, F_SETLK, &lock) == 0;
}

// A port the kernel just handed out on 127.0.0.1, never 11211, reserved
// (0 on failure).
int free_port() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
    ::close(fd);
    if (port != 0 && port != 11211 && reserve(port)) return port;
  }
  return 0;
}

bool accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

void memcached_ops(const std::string& server) {
  cachekit::MemcachedBackendConfig cfg;
  cfg.servers = {server};
  cfg.key_prefix = "split:";
  cachekit::MemcachedBackend mc(cfg);
  expect(mc.status().ok(), "status: the configuration was refused");
  expect(mc.config().key_prefix == "split:", "config(): not the given configuration");
  expect(mc.protocol() == cachekit::Protocol::meta, "protocol(): not meta");
  expect(mc.has_leases(), "has_leases(): false over meta");
  expect(mc.tls_handshakes() == 0 && mc.tls_resumed_handshakes() == 0, "tls counters: not 0 without tls");
  expect(mc.server_names() == std::vector<std::string>{server}, "server_names(): not the one server");
  auto where = mc.server_for("k");
  expect(where && *where == 0, "server_for(): not server 0");

  expect(mc.set("k", "v1").ok(), "set");
  auto got = mc.get("k");
  expect(got && *got && **got == "v1", "get: not the stored value");
  std::string into;
  auto hit = mc.get("k", into);
  expect(hit && *hit && into == "v1", "get into a string");
  expect(mc.set("f", "x", std::chrono::seconds(0), 7).ok(), "set with flags");
  auto item = mc.gets("f");
  expect(item && *item && (*item)->flags == 7 && (*item)->value == "x", "gets: value and flags");
  if (item && *item) {
    auto swapped = mc.cas("f", "y", (*item)->cas);
    expect(swapped && *swapped == cachekit::CasOutcome::stored, "cas with the current token");
    auto stale = mc.cas("f", "z", (*item)->cas);
    expect(stale && *stale == cachekit::CasOutcome::conflict, "cas with an old token");
  }
  auto added = mc.add("k", "other", std::chrono::seconds(0));
  expect(added && !*added, "add over an existing key");
  auto added2 = mc.add("a", "1", std::chrono::seconds(0), 3);
  expect(added2 && *added2, "add of a new key with flags");
  auto replaced = mc.replace("a", "2");
  expect(replaced && *replaced, "replace");
  expect(mc.append("a", "3").value_or(false) && mc.prepend("a", "1").value_or(false), "append/prepend");
  auto a = mc.get("a");
  expect(a && *a && **a == "123", "append/prepend: not 123");
  expect(mc.exists("a").value_or(false), "exists");
  expect(mc.touch("a", std::chrono::seconds(100)).value_or(false), "touch");
  cachekit::Ttl ttl;
  expect(mc.read_ttl("a", ttl).value_or(false) && ttl.expires && ttl.left.count() > 0 && ttl.left.count() <= 100, "read_ttl after touch");
  std::string value;
  expect(mc.read_with_ttl("a", value, ttl).value_or(false) && value == "123", "read_with_ttl");
  auto gat = mc.get_and_touch("a", std::chrono::seconds(50));
  expect(gat && *gat && **gat == "123", "get_and_touch");
  auto n = mc.incr("n", 5, std::uint64_t{10});
  expect(n && *n && **n == 10, "incr with an initial value");
  n = mc.incr("n", 5);
  expect(n && *n && **n == 15, "incr");
  n = mc.decr("n", 20);
  expect(n && *n && **n == 0, "decr stops at 0");

  auto lease = mc.lease_get("l", cachekit::LeaseOptions{});
  expect(lease.ok() && !lease->value, "lease_get of a missing key");
  expect(mc.set("s", "old").ok(), "set before invalidate");
  expect(mc.invalidate("s", std::chrono::seconds(30)).value_or(false), "invalidate");
  auto stale_read = mc.lease_get("s", cachekit::LeaseOptions{});
  expect(stale_read && stale_read->stale && stale_read->won, "lease_get of a stale key wins the recompute");
  if (stale_read) {
    expect(mc.lease_set("s", "new", std::chrono::seconds(0), stale_read->token).value_or(false), "lease_set");
  }

  auto stored = mc.set_many({{"m1", "1"}, {"m2", "2"}});
  expect(stored && stored->empty(), "set_many of a braced list");
  std::map<std::string, std::string> more{{"m3", "3"}};
  expect(mc.set_many(more).ok(), "set_many of a map");
  auto many = mc.get_many({"m1", "m2", "nope"});
  expect(many && many->size() == 3 && (*many)[0] == std::optional<std::string>("1") && !(*many)[2],
         "get_many of a braced list");
  std::vector<std::string> keys{"m3", "m1"};
  auto many2 = mc.get_many(keys);
  expect(many2 && many2->size() == 2 && (*many2)[0] == std::optional<std::string>("3"), "get_many of a vector");
  std::vector<std::optional<std::string>> reuse;
  expect(mc.get_many(keys, reuse).ok() && reuse.size() == 2 && reuse[1] == std::optional<std::string>("1"),
         "get_many into a vector");
  expect(mc.remove("m1").value_or(false) && !mc.exists("m1").value_or(true), "remove");

  auto versions = mc.version();
  expect(versions.size() == 1 && versions[0].ok && !versions[0].version.empty(), "version");
  auto stats = mc.stats();
  expect(stats.size() == 1 && stats[0].ok && !stats[0].stats.empty(), "stats");
  auto health = mc.health_check();
  expect(health.size() == 1 && health[0].up, "health_check");
  expect(mc.open_connections(0) >= 1 && !mc.server_marked_dead(0), "open_connections / server_marked_dead");
  expect(mc.flush_all().ok() && !mc.exists("k").value_or(true), "flush_all");
}

void memory_ops() {
  cachekit::MemoryBackend m(1024);
  expect(m.max_bytes() == 1024, "MemoryBackend: max_bytes");
  expect(m.set("k", "v", std::chrono::seconds(0)).ok() && m.size() == 1 && m.bytes() == 2, "MemoryBackend: set");
  std::size_t seen = 0;
  expect(m.visit("k", [&seen](std::string_view v) { seen = v.size(); }) && seen == 1, "MemoryBackend: visit");
  expect(m.add_for("t", "x", std::chrono::milliseconds(50)).value_or(false), "MemoryBackend: add_for");
  expect(m.exists("t").value_or(false) && m.touch("t", std::chrono::seconds(10)).value_or(false), "MemoryBackend: touch");
  expect(m.remove("t").value_or(false), "MemoryBackend: remove");
  cachekit::LeaseOptions with_lease;
  with_lease.lease_ttl = std::chrono::seconds(5);
  auto lease = m.lease_get("l", with_lease);
  expect(lease && lease->won, "MemoryBackend: lease_get");
  m.clear();
  expect(m.size() == 0 && m.purge_expired() == 0 && m.evictions() == 0, "MemoryBackend: clear");
}

}  // namespace

int use_server() {
  memory_ops();
  const int port = free_port();
  if (port == 0) {
    std::fprintf(stderr, "split: no free port\n");
    return 1;
  }
  const std::string port_s = std::to_string(port);
  char* argv[] = {const_cast<char*>("memcached"), const_cast<char*>("-l"), const_cast<char*>("127.0.0.1"),
                  const_cast<char*>("-p"),        const_cast<char*>(port_s.c_str()), const_cast<char*>("-U"),
                  const_cast<char*>("0"),         nullptr};
  // memcached refuses to run as root: the child drops to nobody itself (not
  // with -u, whose setuid would clear the parent-death signal armed after it).
  uid_t run_uid = 65534;
  gid_t run_gid = 65534;
  if (const passwd* pw = ::getpwnam("nobody")) {
    run_uid = pw->pw_uid;
    run_gid = pw->pw_gid;
  }
  const bool drop_root = ::geteuid() == 0;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::fprintf(stderr, "split: fork failed\n");
    return 1;
  }
  if (pid == 0) {
    if (drop_root && (::setgroups(0, nullptr) != 0 || ::setgid(run_gid) != 0 || ::setuid(run_uid) != 0)) {
      ::_exit(126);
    }
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // the server dies with this test, even if it crashes
    if (::getppid() != parent) ::_exit(127);
    ::execvp("memcached", argv);
    ::_exit(127);  // not installed: apt-get install memcached
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool up = false;
  while (!(up = accepts(port)) && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) break;  // it exited
    ::usleep(10000);
  }
  if (up) memcached_ops("127.0.0.1:" + port_s);
  else std::fprintf(stderr, "split: memcached did not accept connections on port %d (is it installed?)\n", port);
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return up ? failures : 1;
}
