// `xrdbench cache status|warm|evict [--drop-caches] DIR|FILES...`: check or set by hand whether a dataset is cold
// (on disk only) or hot (in the page cache), with the resident fraction before and after.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <atomic>
#include <mutex>
#include <chrono>
#include <thread>

#include <sys/mman.h>
#include <sys/resource.h>

#include <boost/program_options.hpp>

#include "datasets/frame_read.hpp"

#include "harness/cache.hpp"
#include "harness/cli.hpp"
#include "base/error.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace xrd::cli {
namespace {

// A directory stands for its *.cbf files (a dataset), or every regular file with --all; files stand for themselves.
std::vector<fs::path> expand(const std::vector<std::string>& args, bool all) {
  std::vector<fs::path> files;
  for (auto& a : args) {
    const fs::path p(a);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> in_dir;
      for (auto& e : fs::directory_iterator(p)) {
        if (!e.is_regular_file()) continue;
        if (all || e.path().extension() == ".cbf") in_dir.push_back(e.path());
      }
      if (in_dir.empty())
        throw Error(p.string(), "", all ? "the folder holds no regular file" : "the folder holds no *.cbf file (--all takes every file)");
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else if (fs::exists(p, ec)) {
      files.push_back(p);
    } else {
      throw Error(p.string(), "", "no such file or folder");
    }
  }
  return files;
}

double cpu_seconds() {
  rusage u {};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// `cache read`: every file read whole `passes` times by `threads` threads with the method (files taken in turn from
// a shared counter), each thread into its own buffer (mlock'ed with --mlock, as pinned staging is): what the readers
// of a strategy can do at best, without processing. Prints one line: MB/s, files/s, CPU ms per file.
int read_files(const std::vector<fs::path>& files, uintmax_t bytes, io::ReadMethod method, int threads, int passes,
               bool lock) {
  size_t biggest = 0;
  for (auto& f : files) biggest = std::max<size_t>(biggest, fs::file_size(f));
  std::atomic<size_t> next{0};
  std::atomic<int> failed{0};
  std::string fallback;
  std::mutex mu;
  const size_t total = files.size() * static_cast<size_t>(passes);
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      std::vector<uint8_t> buf(biggest + 8192, 1);  // touched: no first-touch faults inside the timing
      if (lock) ::mlock(buf.data(), buf.size());
      for (;;) {
        const size_t i = next.fetch_add(1);
        if (i >= total) break;
        try {
          io::FileReader f(files[i % files.size()].string(), method);
          if (!f.fallback().empty()) {
            std::lock_guard<std::mutex> l(mu);
            fallback = f.fallback();
          }
          f.read({buf.data(), static_cast<size_t>(f.size())}, 0);
        } catch (const std::exception& e) {
          if (failed.fetch_add(1) == 0) std::fprintf(stderr, "  failed: %s\n", e.what());
        }
      }
      if (lock) ::munlock(buf.data(), buf.size());
    });
  for (auto& t : pool) t.join();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  const double mb = static_cast<double>(bytes) * passes / 1e6;
  std::printf("  read %s x%d%s: %.0f MB/s, %.0f files/s, %.3f ms CPU per file, %.3f s wall%s%s\n", io::to_string(method),
              threads, lock ? " (mlock)" : "", mb / wall, static_cast<double>(total) / wall,
              1e3 * cpu / static_cast<double>(total), wall, fallback.empty() ? "" : "; fell back to pread: ",
              fallback.c_str());
  return failed.load() ? 1 : 0;
}

void print_residency(const char* when, const harness::Residency& r) {
  std::printf("  %-7s %6.2f%% resident (%llu of %llu pages)\n", when, 100.0 * r.fraction(),
              static_cast<unsigned long long>(r.resident_pages), static_cast<unsigned long long>(r.total_pages));
}

int cmd_cache(int argc, char** argv) {
  bool drop_caches = false, all = false, per_file = false, lock = false;
  std::string method = "pread";
  int threads = 1, passes = 1;
  std::string action;
  std::vector<std::string> paths;
  const xrd::cli::Help help{
      "xrdbench cache status|warm|evict|read [options] DIR|FILE...",
      "Shows how much of a dataset is in the operating system's page cache (mmap + mincore), and makes it\n"
      "hot or cold by hand, as `xrdbench run --cache hot|cold` does before each run:\n"
      "  status   print the resident fraction\n"
      "  warm     read every byte once, so the files are served from memory (a 'MEM' row)\n"
      "  evict    fdatasync + posix_fadvise(DONTNEED) each file, so the next read goes to disk (an 'SSD' row);\n"
      "           with --drop-caches, as root, also write 3 to /proc/sys/vm/drop_caches\n"
      "  read     read every file whole with --method by --threads threads, --passes times, and print MB/s,\n"
      "           files/s and CPU ms per file (what readers can do without processing; the cache left as it is)\n"
      "A folder stands for its *.cbf files. Pages on tmpfs/ramfs cannot be evicted (they have no disk).\n"
      "Exit status: 0 done; 1 evict left more than 1% of the pages resident (the reason is printed: tmpfs,\n"
      "another user's files) or a file cannot be read; 2 bad usage.",
      {"xrdbench cache evict out/synth && xrdbench cache status out/synth"}};
  po::options_description desc("Options");
  desc.add_options()(
      "drop-caches", po::bool_switch(&drop_caches), "evict: also drop the whole page cache (root only)")(
      "all", po::bool_switch(&all), "a folder stands for every regular file in it, not only *.cbf")(
      "per-file", po::bool_switch(&per_file), "print each file's resident fraction too")(
      "method", po::value(&method)->default_value("pread"), "read: pread, mmap, direct or uring")(
      "threads", po::value(&threads)->default_value(1), "read: reader threads (1 to 1024)")(
      "passes", po::value(&passes)->default_value(1), "read: times every file is read (1 to 1000)")(
      "mlock", po::bool_switch(&lock), "read: lock each thread's buffer in memory (as pinned staging is)");
  po::options_description hidden;
  hidden.add_options()("action", po::value<std::string>(&action))("path", po::value<std::vector<std::string>>(&paths));
  po::positional_options_description pos;
  pos.add("action", 1).add("path", -1);
  po::variables_map vm;
  if (!xrd::cli::parse(argc, argv, help, desc, vm, hidden, pos)) return 0;
  if (action != "status" && action != "warm" && action != "evict" && action != "read")
    xrd::cli::usage_error(action.empty() ? "no action given (expected status, warm, evict or read)"
                                         : "unknown action '" + action + "' (expected status, warm, evict or read)");
  if (paths.empty()) xrd::cli::usage_error("no DIR or FILE given");
  io::ReadMethod m = io::ReadMethod::pread;
  if (action == "read") {
    try {
      m = io::parse_read_method(method, "--method");
    } catch (const Error& e) {
      xrd::cli::usage_error(e.what());
    }
    if (threads < 1 || threads > 1024 || passes < 1 || passes > 1000)
      xrd::cli::usage_error("--threads must be 1 to 1024 and --passes 1 to 1000");
  }
  const auto files = expand(paths, all);
  uintmax_t bytes = 0;
  for (auto& f : files) bytes += fs::file_size(f);
  const std::string fstype = harness::filesystem_type(files.front());
  std::printf("cache %s: %zu file%s, %.1f MB, on %s\n", action.c_str(), files.size(), files.size() == 1 ? "" : "s",
              static_cast<double>(bytes) / 1e6, fstype.c_str());
  const auto before = harness::residency(files);
  print_residency(action == "status" ? "now" : "before", before);
  int rc = 0;
  if (action == "read") {
    rc = read_files(files, bytes, m, threads, passes, lock);
    print_residency("after", harness::residency(files));
  } else if (action == "warm") {
    harness::warm(files);
    print_residency("after", harness::residency(files));
  } else if (action == "evict") {
    const bool dropped = harness::evict(files, drop_caches);
    if (drop_caches && !dropped)
      std::printf("  note: --drop-caches needs root (effective uid 0): not written; only posix_fadvise(DONTNEED) was used\n");
    if (dropped) std::printf("  wrote 3 to /proc/sys/vm/drop_caches\n");
    const auto after = harness::residency(files);
    print_residency("after", after);
    // The same bound a cold row is held to: more resident than that and the files are not cold.
    if (after.fraction() > harness::kEvictMaxResident) {
      std::string why = harness::eviction_obstacle(files);
      if (why.empty()) why = "pages still mapped or being written by another process?";
      std::printf("  NOT evicted: %.2f%% still resident (a cold run allows %.0f%%): %s\n", 100.0 * after.fraction(),
                  100.0 * harness::kEvictMaxResident, why.c_str());
      rc = 1;
    }
  }
  if (per_file)
    for (auto& fr : harness::residency_per_file(files))
      std::printf("  %6.2f%%  %s\n", 100.0 * fr.residency.fraction(), fr.path.string().c_str());
  return rc;
}

CommandRegistrar reg("cache", "page-cache state of a dataset: status, warm (hot) or evict (cold), by hand", cmd_cache);

}  // namespace
}  // namespace xrd::cli
