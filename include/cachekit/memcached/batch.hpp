#pragma once
// The batch skeleton that get_many and set_many share: route the pending
// keys, split them into jobs per server (a large share over several pooled
// connections), connect, encode each job with the wire's conversation, run
// the pipelines, then collect the keys of failed jobs and retry them while
// the failure allows it. What differs between the two operations (the
// requests, the reply handler, what a failed key undoes) comes in as
// callables.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../memcached_config.hpp"
#include "cluster.hpp"
#include "executor.hpp"
#include "pipeline.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace detail {

/// Splits the pending key indices into jobs per server (large batches
/// over several pooled connections).
template <class = void>
inline void plan_jobs(Cluster& cluster, const std::vector<std::uint32_t>& pending,
                      const std::vector<std::size_t>& server_of, std::vector<Job>& jobs) {
  const MemcachedBackendConfig& config = cluster.config();
  std::vector<std::vector<std::uint32_t>>& by_server = many_scratch().by_server;
  const std::size_t servers = cluster.size();
  if (by_server.size() < servers) by_server.resize(servers);
  for (std::size_t s = 0; s < servers; ++s) by_server[s].clear();
  const bool one = servers == 1;  // then every key is pending's, in order
  if (!one) {
    for (auto i : pending) by_server[server_of[i]].push_back(i);
  }
  std::size_t used = 0;
  for (std::size_t s = 0; s < servers; ++s) {
    const std::vector<std::uint32_t>& ks = one ? pending : by_server[s];
    if (ks.empty()) continue;
    const std::size_t chunk = config.pipeline_chunk_keys;
    std::size_t parts = (ks.size() + chunk - 1) / chunk;
    parts = std::max<std::size_t>(1, std::min(parts, config.max_pool_size));
    const std::size_t per = (ks.size() + parts - 1) / parts;
    for (std::size_t off = 0; off < ks.size(); off += per) {
      if (used == jobs.size()) jobs.emplace_back();
      Job& j = jobs[used++];
      j.reset();
      j.server = s;
      j.keys.assign(ks.begin() + static_cast<std::ptrdiff_t>(off),
                    ks.begin() + static_cast<std::ptrdiff_t>(std::min(ks.size(), off + per)));
    }
  }
  jobs.resize(used);
  for (std::size_t s = 0; s < servers; ++s) trim(by_server[s]);
}

/// Opens or takes connections for jobs: the first per server may wait,
/// extra ones only if free now (else merged into the server's first job).
template <class = void>
inline void connect_jobs(Cluster& cluster, std::vector<Job>& jobs, Deadline end) {
  const MemcachedBackendConfig& config = cluster.config();
  std::vector<std::size_t>& first_of = many_scratch().first_of;
  first_of.assign(cluster.size(), static_cast<std::size_t>(-1));
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    Job& job = jobs[j];
    Server& s = cluster.server(job.server);
    if (first_of[job.server] != static_cast<std::size_t>(-1)) {
      Job& first = jobs[first_of[job.server]];
      auto merge = [&] {
        first.keys.insert(first.keys.end(), job.keys.begin(), job.keys.end());
        job.keys.clear();
        job.done = true;
      };
      if (first.failed || !s.pool.try_acquire(job.lease)) {
        merge();
        continue;
      }
      if (job.lease.get() == nullptr) {
        const auto now = Clock::now();
        auto opened = cluster.open_connection(s, std::min(now + config.connect_timeout, end), std::min(now + config.timeout, end));
        if (!opened) {
          job.lease.discard();
          merge();
          continue;
        }
        job.lease.set(std::move(*opened));
      }
      continue;
    }
    first_of[job.server] = j;
    Cluster::Stage stage = Cluster::Stage::pool;
    bool fresh = false;
    auto lease = cluster.connection(s, Clock::now(), end, stage, fresh);
    if (!lease) {
      job.failed = true;
      job.done = true;
      job.pool_exhausted = stage == Cluster::Stage::pool;
      job.error = std::move(lease).error();
      continue;
    }
    job.lease = std::move(*lease);
  }
}

CACHEKIT_COMPILE_ONCE(void plan_jobs<void>(Cluster&, const std::vector<std::uint32_t>&, const std::vector<std::size_t>&,
                                           std::vector<Job>&))  // see config.hpp
CACHEKIT_COMPILE_ONCE(void connect_jobs<void>(Cluster&, std::vector<Job>&, Deadline))

/// How a batch ended: every key answered, or the error of the last failed
/// job (and its server) once no retry may follow; the keys still without an
/// answer are in pending.
struct BatchEnd {
  bool complete = true;
  Error error;
  const Server* server = nullptr;
};

/// Runs the batch over the keys in pending until each has its answer or no
/// retry may follow. keys: the caller's keys (routed without key_prefix);
/// encode(conn, job) writes a job's requests; on_reply(job, reply, why) and
/// fast(job, data, n) as run_jobs takes them; lost(idx) runs for each key
/// of a failed job before it is retried (undo what its replies gave);
/// writes: the batch changes data (its failed keys are in doubt).
template <class Wire, class Encode, class OnReply, class Fast, class Lost, class FullKeyOf>
BatchEnd run_batch(Cluster& cluster, Executor& exec, const std::string_view* keys, std::vector<std::uint32_t>& pending,
                   std::vector<std::size_t>& server_of, Clock::time_point start, bool writes, FullKeyOf&& full_key,
                   Encode&& encode, OnReply&& on_reply, Fast&& fast, Lost&& lost) {
  const MemcachedBackendConfig& config = cluster.config();
  const Deadline end = exec.call_deadline(start);
  for (int attempt = 0;; ++attempt) {
    if (cluster.size() > 1 || cluster.dead_count() != 0) {
      auto routed = cluster.route_many(keys, pending, server_of, attempt == 0 ? start : Clock::now(), end);
      if (!routed) return BatchEnd{false, std::move(routed).error(), nullptr};
    }
    // Writes routed away from dead servers: logged before they are sent.
    if (writes && cluster.dead_count() != 0) {
      for (auto i : pending) cluster.note_moved(keys[i], full_key(i), server_of[i]);
    }
    std::vector<Job>& jobs = many_scratch().jobs;
    const LeasesBack<> leases_back{jobs};
    plan_jobs(cluster, pending, server_of, jobs);
    connect_jobs(cluster, jobs, end);
    for (auto& j : jobs) {
      if (!j.done) encode(*j.lease.get(), j);
    }
    run_jobs<Wire>(jobs, std::min(Clock::now() + config.timeout, end), on_reply, fast);
    // Give back healthy connections, collect the keys of failed jobs.
    pending.clear();
    BatchEnd out;
    bool exhausted = false;
    for (auto& j : jobs) {
      Server& s = cluster.server(j.server);
      if (j.failed) {
        out.complete = false;
        out.error = j.lease.get() != nullptr ? exec.explain(j.error, *j.lease.get(), &s) : j.error;
        out.server = &s;
        if (j.pool_exhausted) {
          exhausted = true;
        } else if (Cluster::server_fault(j.error.kind()) && !exec.refused().load(std::memory_order_relaxed)) {
          cluster.record_failure(s, j.error);
        }
        for (auto k : j.keys) {
          lost(k);
          pending.push_back(k);
        }
        // Sent (or partly sent) without a definite answer: in doubt.
        if (writes && j.lease.get() != nullptr) {
          for (auto k : j.keys) cluster.note_stale(s, full_key(k));
        }
        j.lease.discard();
      } else if (j.lease.get() != nullptr) {
        j.lease.get()->touch_used(start);
        Cluster::record_success(s);
      }
    }
    if (pending.empty()) return BatchEnd{};
    if (exhausted || exec.refused().load(std::memory_order_relaxed) || !Cluster::retryable_kind(out.error.kind()) ||
        attempt >= config.retry_attempts || Clock::now() >= end) {
      return out;
    }
    std::sort(pending.begin(), pending.end());
  }
}

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
