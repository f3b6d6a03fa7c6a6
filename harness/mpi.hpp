// MPI ranks (Open MPI): `mpirun -n R xrdbench run|table1` runs each row on R processes, each on a contiguous block of
// the frames. This unit owns MPI's lifetime and the few collectives the runner needs; no MPI type leaves it. Started
// without mpirun, a Session is one rank and calls nothing of MPI (today's single-process behaviour).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace xrd::harness::mpi {

// Whether mpirun started this process: Open MPI's OMPI_COMM_WORLD_SIZE, or PMIX_RANK / PMI_RANK of other launchers.
bool launched_by_mpirun();
// Whether this binary was built with MPI (CMake found libopenmpi-dev).
bool built_with_mpi();
// The Open MPI local rank of this process on its host (OMPI_COMM_WORLD_LOCAL_RANK), 0 when not under mpirun.
int local_rank_from_env();

// Rank r's block of n frames split over `ranks`: [first, first + count), sizes differing by at most one.
struct Block {
  size_t first = 0, count = 0;
};
Block block_of(size_t n, int rank, int ranks);

// This process's place in the job. Construct once per command, before any other work; the destructor finalizes.
class Session {
 public:
  // Under mpirun (and built with MPI): MPI_Init_thread (funneled) and the world's rank, size, local rank and hosts.
  // Otherwise one rank, no MPI call. Throws xrd::Error when mpirun started a binary built without MPI.
  Session(int& argc, char**& argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  bool active() const { return active_; }   // MPI was initialized
  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  int hosts() const { return hosts_; }       // distinct host names in the job
  const std::string& host() const { return host_; }
  bool is_root() const { return rank_ == 0; }

  // Waits until every rank arrived. Polls a non-blocking barrier (sleeping 1 ms between polls, so waiting ranks
  // leave the cores to the working ones); after timeout_s > 0 seconds aborts the job, naming `what`.
  void barrier(const std::string& what, double timeout_s = 0) const;
  // The largest / smallest / the sum of a value over all ranks (every rank gets it). Polled like barrier(): a rank
  // stopped between two collectives ends the job after timeout_s (> 0) instead of hanging the others.
  double max(double v, const std::string& what = "a reduction", double timeout_s = 0) const;
  double min(double v, const std::string& what = "a reduction", double timeout_s = 0) const;
  uint64_t sum(uint64_t v, const std::string& what = "a reduction", double timeout_s = 0) const;
  // Every rank's bytes, on rank 0 in rank order (other ranks get an empty vector). Polls like barrier().
  std::vector<std::vector<uint8_t>> gather(const std::vector<uint8_t>& mine, const std::string& what,
                                           double timeout_s = 0) const;
  // Rank 0's bytes on every rank. Polled like barrier().
  void broadcast(std::vector<uint8_t>& bytes, const std::string& what = "a broadcast", double timeout_s = 0) const;
  // A decision every rank takes together: true when every rank's `my_reason` is empty (a barrier with the time limit
  // first, so a stuck rank ends the job there, then a reduction). When one is not, every rank gets false and rank 0
  // gets each failing rank's "rank K on HOST: reason" appended to `reasons`.
  bool all_ok(const std::string& my_reason, std::vector<std::string>& reasons, const std::string& what,
              double timeout_s = 0) const;

  // Prints "xrdbench: rank R/N on HOST: message" on stderr and aborts the whole job (MPI_Abort): the way out for a
  // rank that cannot go on while the others wait for it in a collective. Without MPI: exits with `code`.
  [[noreturn]] void abort(const std::string& message, int code = 1) const;

  // Runs a command's body. On more than one rank, an exception that escapes it aborts the job with the message
  // (the other ranks may be waiting for this one in a collective: they must not hang); otherwise it propagates.
  int guard(const std::function<int()>& body) const;

 private:
  bool active_ = false;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1, hosts_ = 1;
  std::string host_;
};

// Worker threads of a rank: `requested` when > 0; else, under mpirun, the CPUs the rank may run on (1 when bound to a
// core; unbound: the host's cores / ranks on the host, at least 1); else 0 (every core, as without mpirun).
int threads_per_rank(const Session& s, int requested);

// The number of CPUs this process may run on (sched_getaffinity): 1 when mpirun bound it to a core.
int cpus_allowed();
// "0-3,8" for the CPUs this process may run on.
std::string cpus_allowed_list();

}  // namespace xrd::harness::mpi
