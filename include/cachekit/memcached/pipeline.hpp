#pragma once
// The pipeline engine: many requests on many connections at once. Each
// job is one pipeline on one pooled connection (its requests, then the
// wire's end-of-batch marker); run_jobs sends what every socket takes,
// reads what every socket has, and hands each whole reply to the caller's
// handler until every job's last reply came or the deadline passed.
// Reading interleaves with writing, so a batch larger than the socket
// buffers never deadlocks on replies that arrive before the end marker.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <poll.h>

#include "../error.hpp"
#include "../net/socket.hpp"
#include "../pool.hpp"
#include "connection.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace detail {

/// One pipeline on one connection: requests for keys[idx...], then the
/// wire's end marker.
template <class = void>  // compiled where it is used
struct BasicJob {
  std::size_t server = 0;
  std::vector<std::uint32_t> keys;  // indices into the caller's arrays
  PoolLease lease;
  std::uint32_t base = 0;      // opaque of the first request (binary, meta)
  std::uint32_t end_mark = 0;  // opaque of the end marker (binary, meta)
  std::size_t cursor = 0;      // next key a reply may answer (text: replies come in order)
  std::size_t ends_left = 0;   // end lines still to come (text: one END per get command)
  bool done = false;
  bool failed = false;
  bool pool_exhausted = false;  // no connection became free: not the server's fault
  Error error;

  /// Ready for another pipeline; keeps the capacity of keys.
  void reset() noexcept {
    server = 0;
    keys.clear();
    lease.give_back();
    base = end_mark = 0;
    cursor = ends_left = 0;
    done = failed = pool_exhausted = false;
    if (!error.message().empty()) error = Error();
  }
};
using Job = BasicJob<>;

/// What a reply handler tells run_jobs.
enum class Verdict { more, last, bad, error };

/// run_jobs without a fast path: every reply goes through the handler.
struct NoFastPath {
  std::size_t operator()(Job&, const char*, std::size_t) const noexcept { return 0; }
};

/// Per-thread working arrays of the batch operations, reused from call to
/// call: with glibc, a large allocation made while the previous batch's
/// freed values sit in the fast bins merges them all, and every value
/// allocation after it takes the slow path. So get_many's values go here
/// first and the caller's vector is the last allocation of the call.
template <class = void>  // compiled where it is used
struct BasicManyScratch {
  std::vector<std::string_view> views;             // the caller's keys
  std::vector<std::string_view> full;              // prefix + key
  std::vector<std::optional<std::string>> values;  // the spare result vector
  std::vector<unsigned char> hit;                  // which slots got a value
  std::vector<std::uint32_t> pending;
  std::vector<std::size_t> server_of;
  std::vector<Job> jobs;
  std::vector<std::vector<std::uint32_t>> by_server;
  std::vector<std::size_t> first_of;
  std::vector<pollfd> fds;
  std::vector<std::size_t> fd_job;
  std::vector<unsigned char> readable;
};
using ManyScratch = BasicManyScratch<>;
template <class = void>  // compiled where it is used
inline ManyScratch& many_scratch() {
  static thread_local ManyScratch s;
  return s;
}
/// After a call, a very large scratch array gives its memory back; a
/// smaller one keeps its size, so that a next batch of the same size is
/// written over it without being initialised first.
template <class V>
inline void shed(V& v) noexcept {
  if (v.capacity() > 4096) V().swap(v);
}
/// Empties a scratch array; a very large one gives its memory back.
template <class V>
inline void trim(V& v) noexcept {
  v.clear();
  if (v.capacity() > 4096) V().swap(v);
}

/// How many elements a range of keys holds: its size() when it has one,
/// else counted by walking it once.
template <class R, class = void>
struct has_std_size : std::false_type {};
template <class R>
struct has_std_size<R, std::void_t<decltype(std::size(std::declval<const R&>()))>> : std::true_type {};
template <class R>
inline std::size_t range_size(const R& range) {
  if constexpr (has_std_size<R>::value) {
    return static_cast<std::size_t>(std::size(range));
  } else {
    std::size_t n = 0;
    for (auto it = std::begin(range), end = std::end(range); it != end; ++it) ++n;
    return n;
  }
}

/// Gives back every job's connection when a pipeline attempt ends (the
/// jobs live in per-thread scratch and outlast the call).
template <class = void>  // compiled where it is used
struct LeasesBack {
  std::vector<Job>& jobs;
  ~LeasesBack() {
    for (auto& j : jobs) j.lease.give_back();
  }
};

/// Drives every job's connection at once until each job's last reply came
/// or the deadline passes. on_reply(job, reply, why) judges each whole
/// reply of Wire: Verdict::more, last (the job's end marker), bad (why
/// set: the connection is out of step) or error (job.error set: an error
/// reply; the connection is closed). When one job is left with everything
/// sent, it waits in a blocking read (no poll). fast(job, data, n), when
/// given, may first take the common replies at the front of data (n
/// buffered bytes, whole replies in place) and returns how many bytes it
/// used; it leaves anything else, including every reply that is wrong, to
/// on_reply's checks.
template <class Wire, class OnReply, class Fast = NoFastPath>
void run_jobs(std::vector<Job>& jobs, net::Deadline deadline, OnReply&& on_reply, Fast&& fast = Fast{}) {
  auto fail = [&](Job& j, Error e) {
    j.failed = true;
    j.done = true;
    j.error = std::move(e);
    if (j.lease.get() != nullptr) j.lease.get()->mark_broken();
  };
  // Parses everything buffered on j's connection.
  auto consume = [&](Job& j) {
    Connection& c = *j.lease.get();
    typename Wire::Reply r;
    const char* why = nullptr;
    while (!j.done) {
      if (c.between_replies() && c.has_buffered()) {
        if (const std::size_t taken = fast(j, c.buffered(), c.buffered_size())) c.skip(taken);
      }
      const int have = c.template next_reply<Wire>(r, why);
      if (have == 0) return;
      if (have < 0) return fail(j, c.protocol_failure(why));
      const Verdict verdict = on_reply(j, r, why);
      c.reply_done();
      if (verdict == Verdict::bad) return fail(j, c.protocol_failure(why));
      if (verdict == Verdict::error) {
        Error e = std::move(j.error);
        return fail(j, std::move(e));
      }
      if (verdict == Verdict::last) {
        j.done = true;
        if (c.has_buffered()) fail(j, c.protocol_failure("unexpected bytes after the last reply"));
      }
    }
  };
  ManyScratch& sc = many_scratch();
  std::vector<pollfd>& fds = sc.fds;
  std::vector<std::size_t>& fd_job = sc.fd_job;
  std::vector<unsigned char>& readable = sc.readable;
  readable.assign(jobs.size(), 0);
  for (;;) {
    fds.clear();
    fd_job.clear();
    bool buffered = false;  // a TLS session holds decrypted bytes: no poll this round
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      Job& j = jobs[i];
      if (j.done) continue;
      Connection& c = *j.lease.get();
      if (c.pending() > 0) {
        auto sent = c.send_some();
        if (!sent) {
          fail(j, std::move(sent).error());
          continue;
        }
      }
      if (readable[i]) {
        readable[i] = 0;
        auto more = c.recv_available();
        if (!more) {
          fail(j, std::move(more).error());
          continue;
        }
        consume(j);
        if (j.done) continue;
      }
      if (c.tls_buffered()) {
        readable[i] = 1;
        buffered = true;
      }
      fds.push_back(pollfd{c.fd(), static_cast<short>(POLLIN | (c.pending() > 0 ? POLLOUT : 0)), 0});
      fd_job.push_back(i);
    }
    if (fds.empty()) return;
    if (fds.size() == 1 && jobs[fd_job[0]].lease.get()->pending() == 0) {
      Job& j = jobs[fd_job[0]];
      Connection& c = *j.lease.get();
      while (!j.done) {
        auto got = c.fill(deadline, net::Clock::now());
        if (!got) return fail(j, std::move(got).error());
        consume(j);
      }
      return;
    }
    if (buffered) continue;
    // Busy-polling is for one connection only (the last job, or a single
    // one still sending): while several are in flight the batch lasts as
    // long as the slowest, and a spinning thread would only take a core
    // from the servers or the process. The last one left is waited for in
    // the blocking read above, which spins as a get does.
    Connection& lead = *jobs[fd_job[0]].lease.get();
    Result<int> ready = 0;
    if (fds.size() == 1 && lead.spin_now()) {
      bool spun = false;
      ready = net::poll_spin(fds.data(), fds.size(), std::min(net::Clock::now() + lead.spin_budget(), deadline), spun);
      if (ready && spun) lead.spin_outcome(*ready > 0);
    }
    if (ready && *ready == 0) ready = net::wait_many(fds.data(), fds.size(), deadline);
    if (!ready || *ready == 0) {
      Error e = ready ? Error(ErrorKind::timeout, "no complete reply before the timeout") : std::move(ready).error();
      for (auto i : fd_job) fail(jobs[i], e);
      return;
    }
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents & (POLLIN | POLLERR | POLLHUP)) readable[fd_job[k]] = 1;
    }
  }
}

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
