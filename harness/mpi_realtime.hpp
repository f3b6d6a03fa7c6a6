// `mpirun -n R xrdbench realtime`: the paced detector stream fanned out round-robin over the ranks, as a detector's
// stream fans out to several receivers. Stream frame i goes to rank i mod R; each rank releases its frames at the
// detector's clock (t0 + i / rate, t0 taken just after a barrier of all ranks) into its own buffer and reduces them
// with its own strategy. Rank 0 gathers every rank's records, figures and patterns: the aggregate trial (latency
// percentiles over all frames, backlog summed over the ranks, drops, the verdict: the job keeps up only if every rank
// keeps up), the per-rank figures, the patterns in stream order into one HDF5 file, validated and read back.
#pragma once
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/mpi.hpp"
#include "harness/realtime.hpp"

namespace xrd::harness::realtime {

class Ranks {
 public:
  // s: this rank's prepared strategy; ref: the reference patterns of the dataset (rank 0; empty on the others);
  // timeout_s: --mpi-timeout (a rank waiting longer at a barrier or gather aborts the job; 0 = no limit).
  Ranks(Session& s, const mpi::Session& world, const PatternSet& ref, double timeout_s);

  // One trial of `frames` stream frames on every rank: collective, every rank calls it with the same arguments
  // (buffer_frames is each rank's buffer). `patterns` not empty: rank 0 writes every pattern there (stream order;
  // dropped and failed frames NaN, valid 0) and reads the file back. Rank 0 gets the aggregate trial; the other
  // ranks a trial with the job's verdict only (keeps_up, achieved_hz, invalid_reasons empty when rank 0's are).
  // Throws xrd::Error (on every rank alike) when there are fewer frames than ranks; Interrupted when a rank was.
  Trial run(double rate_hz, size_t frames, size_t buffer_frames, double max_latency_ms,
            const std::filesystem::path& patterns = {}, const std::string& row_id = {});
  // find_max with every probe a collective trial (all ranks follow rank 0's verdicts).
  FindMax find_max(double trial_s, size_t buffer_frames, double max_latency_ms);

  // Rank 0, after run(): {"ranks", "hosts", "distribution": "round-robin", "buffer": "per rank", "patterns",
  // "per_rank": [{rank, host, cpus, threads, device, first_stream_frame, stride, frames, reduced, failed, dropped,
  // keeps_up, reasons, latency_ms, backlog, achieved_hz, wall_s, invalid_reasons, errors}]}.
  const nlohmann::json& mpi_json() const { return mpi_; }

 private:
  Session& s_;
  const mpi::Session& w_;
  const PatternSet& ref_;
  double timeout_;
  nlohmann::json mpi_;
};

}  // namespace xrd::harness::realtime
