// MPI's lifetime and the runner's collectives (see mpi.hpp). Collectives are non-blocking ones polled with a 1 ms
// sleep: a rank waiting for a slower one does not spin on a core the others need (ranks are often bound one per
// core, or oversubscribed in CI), and a wait can end in a clear abort instead of a hang.
#include "harness/mpi.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <set>
#include <thread>

#include "base/error.hpp"

#ifdef XRD_HAVE_MPI
#define OMPI_SKIP_MPICXX 1  // the C API only (the deprecated C++ bindings need libmpi_cxx)
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace xrd::harness::mpi {

namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}
std::string hostname() {
  char h[256] = {};
  if (gethostname(h, sizeof h - 1) != 0) return "unknown";
  return h;
}
}  // namespace

bool launched_by_mpirun() {
  return !env("OMPI_COMM_WORLD_SIZE").empty() || !env("PMIX_RANK").empty() || !env("PMI_RANK").empty();
}

bool built_with_mpi() {
#ifdef XRD_HAVE_MPI
  return true;
#else
  return false;
#endif
}

int local_rank_from_env() {
  const std::string v = env("OMPI_COMM_WORLD_LOCAL_RANK");
  return v.empty() ? 0 : std::max(0, std::atoi(v.c_str()));
}

Block block_of(size_t n, int rank, int ranks) {
  const size_t r = static_cast<size_t>(rank), R = static_cast<size_t>(std::max(1, ranks));
  Block b;
  b.first = n * r / R;
  b.count = n * (r + 1) / R - b.first;
  return b;
}

int cpus_allowed() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, CPU_COUNT(&set));
}

std::string cpus_allowed_list() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return "";
  std::string out;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (!CPU_ISSET(c, &set)) continue;
    int e = c;
    while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, &set)) ++e;
    // Appends only: GCC 12 warns falsely (-Wrestrict) on `"-" + std::to_string(n)` at -O3.
    if (!out.empty()) out.append(",");
    out.append(std::to_string(c));
    if (e > c) out.append("-").append(std::to_string(e));
    c = e;
  }
  return out;
}

Session::Session(int& argc, char**& argv) : host_(hostname()) {
  if (!launched_by_mpirun()) return;
#ifdef XRD_HAVE_MPI
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  active_ = true;
  // A failing MPI call ends the whole job (the default, said explicitly: no rank goes on alone).
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
  MPI_Comm_rank(local, &local_rank_);
  MPI_Comm_size(local, &local_size_);
  // Hosts: the local leaders (local rank 0) count them.
  int leader = local_rank_ == 0 ? 1 : 0;
  MPI_Allreduce(&leader, &hosts_, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Comm_free(&local);
#else
  throw Error("", "mpirun",
              "this xrdbench was built without MPI (CMake did not find libopenmpi-dev), so under mpirun every rank "
              "would run the whole job: install libopenmpi-dev and rebuild, or run without mpirun");
#endif
}

Session::~Session() {
#ifdef XRD_HAVE_MPI
  // Unwinding from an error: MPI_Finalize would wait for ranks that wait for this one; end the job instead.
  if (active_ && size_ > 1 && std::uncaught_exceptions() > 0) abort("stopped by an error (see above)");
  if (active_) MPI_Finalize();
#endif
}

int Session::guard(const std::function<int()>& body) const {
  if (size_ <= 1) return body();
  try {
    return body();
  } catch (const std::exception& e) {
    abort(std::string("error: ") + e.what() + " (the job is aborted: the other ranks would wait for this one)", 1);
  }
}

int threads_per_rank(const Session& s, int requested) {
  if (requested > 0 || s.size() <= 1) return requested;
  const int allowed = cpus_allowed();
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (allowed < hw) return allowed;  // mpirun bound the rank (--bind-to core: 1; --map-by ...:PE=n: n)
  return std::max(1, hw / std::max(1, s.local_size()));
}

#ifdef XRD_HAVE_MPI
namespace {
// Polls a request until it completes; aborts the job after timeout_s (> 0).
void wait_for(MPI_Request& req, const Session& s, const std::string& what, double timeout_s) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int spins = 0;; ++spins) {
    int done = 0;
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (done) return;
    if (timeout_s > 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > timeout_s) {
      char text[64];
      std::snprintf(text, sizeof text, "%.0f s", timeout_s);
      s.abort("waited more than " + std::string(text) + " for the other ranks at " + what +
              " (--mpi-timeout): a rank is stuck; aborting the job");
    }
    // The first polls are quick (collectives after a barrier finish in microseconds), then 1 ms sleeps.
    if (spins > 100) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}
}  // namespace
#endif

void Session::barrier(const std::string& what, double timeout_s) const {
#ifdef XRD_HAVE_MPI
  if (!active_) return;
  MPI_Request req;
  MPI_Ibarrier(MPI_COMM_WORLD, &req);
  wait_for(req, *this, what, timeout_s);
#endif
}

#ifdef XRD_HAVE_MPI
namespace {
template <class T>
T reduce(const Session& s, T v, MPI_Datatype type, MPI_Op op, const std::string& what, double timeout_s) {
  T out = v;
  MPI_Request req;
  MPI_Iallreduce(&v, &out, 1, type, op, MPI_COMM_WORLD, &req);
  wait_for(req, s, what, timeout_s);
  return out;
}
}  // namespace
#endif

double Session::max(double v, const std::string& what, double timeout_s) const {
#ifdef XRD_HAVE_MPI
  if (active_) return reduce(*this, v, MPI_DOUBLE, MPI_MAX, what, timeout_s);
#endif
  return v;
}

double Session::min(double v, const std::string& what, double timeout_s) const {
#ifdef XRD_HAVE_MPI
  if (active_) return reduce(*this, v, MPI_DOUBLE, MPI_MIN, what, timeout_s);
#endif
  return v;
}

uint64_t Session::sum(uint64_t v, const std::string& what, double timeout_s) const {
#ifdef XRD_HAVE_MPI
  if (active_) return reduce(*this, v, MPI_UINT64_T, MPI_SUM, what, timeout_s);
#endif
  return v;
}

std::vector<std::vector<uint8_t>> Session::gather(const std::vector<uint8_t>& mine, const std::string& what,
                                                  double timeout_s) const {
  std::vector<std::vector<uint8_t>> out;
#ifdef XRD_HAVE_MPI
  if (active_) {
    // Sizes first (64-bit), then the bytes in chunks below 2 GiB (MPI counts are int).
    uint64_t n = mine.size();
    std::vector<uint64_t> sizes(is_root() ? static_cast<size_t>(size_) : 0);
    MPI_Request req;
    MPI_Igather(&n, 1, MPI_UINT64_T, sizes.data(), 1, MPI_UINT64_T, 0, MPI_COMM_WORLD, &req);
    wait_for(req, *this, what, timeout_s);
    const uint64_t chunk = uint64_t(1) << 30;
    uint64_t longest = n;
    longest = static_cast<uint64_t>(max(static_cast<double>(longest), what, timeout_s));
    if (is_root()) {
      out.resize(static_cast<size_t>(size_));
      for (int r = 0; r < size_; ++r) out[static_cast<size_t>(r)].resize(sizes[static_cast<size_t>(r)]);
    }
    std::vector<uint8_t> recv;
    for (uint64_t off = 0; off < longest; off += chunk) {
      const int count = static_cast<int>(std::min(chunk, n > off ? n - off : 0));
      std::vector<int> counts(is_root() ? static_cast<size_t>(size_) : 0), displs(counts.size());
      int total = 0;
      for (size_t r = 0; r < counts.size(); ++r) {
        counts[r] = static_cast<int>(std::min(chunk, sizes[r] > off ? sizes[r] - off : 0));
        displs[r] = total;
        total += counts[r];
      }
      recv.resize(static_cast<size_t>(total));
      MPI_Igatherv(mine.data() + std::min<uint64_t>(off, n), count, MPI_BYTE, recv.data(), counts.data(),
                   displs.data(), MPI_BYTE, 0, MPI_COMM_WORLD, &req);
      wait_for(req, *this, what, timeout_s);
      for (size_t r = 0; r < counts.size(); ++r)
        std::copy_n(recv.data() + displs[r], counts[r], out[r].data() + off);
    }
    return out;
  }
#endif
  out.push_back(mine);
  return out;
}

void Session::broadcast(std::vector<uint8_t>& bytes, const std::string& what, double timeout_s) const {
#ifdef XRD_HAVE_MPI
  if (!active_) return;
  uint64_t n = bytes.size();
  MPI_Request req;
  MPI_Ibcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD, &req);
  wait_for(req, *this, what, timeout_s);
  bytes.resize(n);
  const uint64_t chunk = uint64_t(1) << 30;
  for (uint64_t off = 0; off < n; off += chunk) {
    MPI_Ibcast(bytes.data() + off, static_cast<int>(std::min(chunk, n - off)), MPI_BYTE, 0, MPI_COMM_WORLD, &req);
    wait_for(req, *this, what, timeout_s);
  }
#endif
}

bool Session::all_ok(const std::string& my_reason, std::vector<std::string>& reasons, const std::string& what,
                     double timeout_s) const {
  barrier(what, timeout_s);  // polled, with the time limit: a stuck rank ends the job here, not in the reduction
  if (min(my_reason.empty() ? 1.0 : 0.0, what, timeout_s) > 0.5) return true;
  // "rank K on HOST: reason" of every failing rank, gathered to rank 0 in rank order.
  std::string mine;
  if (!my_reason.empty()) mine = "rank " + std::to_string(rank_) + " on " + host_ + ": " + my_reason;
  for (auto& b : gather(std::vector<uint8_t>(mine.begin(), mine.end()), what, timeout_s))
    if (!b.empty()) reasons.emplace_back(b.begin(), b.end());
  return false;
}

void Session::abort(const std::string& message, int code) const {
  std::fprintf(stderr, "xrdbench: rank %d/%d on %s: %s\n", rank_, size_, host_.c_str(), message.c_str());
  std::fflush(stderr);
#ifdef XRD_HAVE_MPI
  if (active_) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::_Exit(code);
}

}  // namespace xrd::harness::mpi
