// Machine description and calibration for results.json's "machine" object.
#include "harness/environment.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cctype>
#include <fstream>
#include <sstream>
#include <thread>

#include <time.h>

#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "harness/stats.hpp"
#include "kernels/byte_offset.hpp"
#include "base/error.hpp"
#include "kernels/ocl_device.hpp"

#ifndef XRD_SOURCE_DIR
#define XRD_SOURCE_DIR ""
#endif
#ifndef XRD_VERSION
#define XRD_VERSION "unknown"
#endif

namespace xrd::harness {
namespace {

using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n\"");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n\"");
  return s.substr(b, e - b + 1);
}

// The value of the first "key<sep>value" line of a text file, or "".
std::string file_value(const char* path, const std::string& key, char sep) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const auto p = line.find(sep);
    if (p != std::string::npos && trim(line.substr(0, p)) == key) return trim(line.substr(p + 1));
  }
  return "";
}

std::string cpu_model() {
  for (const char* key : {"model name", "Model", "Hardware", "cpu model", "cpu"}) {
    std::string v = file_value("/proc/cpuinfo", key, ':');
    if (!v.empty()) return v;
  }
  return "unknown";
}

uint64_t memory_bytes() {
  const std::string v = file_value("/proc/meminfo", "MemTotal", ':');  // "16384256 kB"
  return v.empty() ? 0 : std::strtoull(v.c_str(), nullptr, 10) * 1024;
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::string run_capture(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "";
  std::string out;
  char buf[256];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  return ::pclose(p) == 0 ? trim(out) : "";
}

}  // namespace

std::string git_commit() {
  if (const char* env = std::getenv("XRD_COMMIT"); env && *env) return env;  // bundles without .git
  const std::string dir = XRD_SOURCE_DIR;
  if (dir.empty()) return "unknown";
  std::string c = run_capture("git -C '" + dir + "' rev-parse --short=12 HEAD 2>/dev/null");
  return c.empty() ? "unknown" : c;
}

namespace {

bool git_dirty() {
  const std::string dir = XRD_SOURCE_DIR;
  if (dir.empty() || std::getenv("XRD_COMMIT")) return false;
  return !run_capture("git -C '" + dir + "' status --porcelain --untracked-files=no 2>/dev/null").empty();
}

std::string compiler() {
#if defined(__clang__)
  return std::string("Clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("GNU ") + __VERSION__;
#else
  return "unknown";
#endif
}

bool built_with_asan() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

std::string inferred_build_type() {
#ifdef XRD_BUILD_TYPE
  std::string t = XRD_BUILD_TYPE;
#else
#if defined(NDEBUG) && defined(__OPTIMIZE__)
  std::string t = "Release";
#elif defined(__OPTIMIZE__)
  std::string t = "Debug (optimized)";
#else
  std::string t = "Debug";
#endif
#endif
  if (built_with_asan()) t += " +ASan/UBSan";
  return t;
}

double thread_cpu_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

// Keeps the compiler from dropping a copy whose destination is never read.
inline void clobber(void* p) { asm volatile("" : : "r"(p) : "memory"); }

// The whole first line of a small text file (sysfs), trimmed; "" when unreadable.
std::string first_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  return trim(line);
}

// A sysfs number ("3000000"), or nothing.
std::optional<double> file_number(const std::filesystem::path& p) {
  const std::string s = first_line(p);
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || !std::isfinite(v)) return std::nullopt;
  return v;
}

json number_or_null(std::optional<double> v, double scale = 1.0) { return v ? json(*v * scale) : json(nullptr); }
json text_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

// "32K", "1024K", "32M" (sysfs cache sizes) -> bytes.
std::optional<uint64_t> size_with_suffix(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (end == s.c_str()) return std::nullopt;
  const char u = *end;
  const uint64_t mult = u == 'K' ? 1024ull : u == 'M' ? 1024ull * 1024 : u == 'G' ? 1024ull * 1024 * 1024 : 1;
  return v * mult;
}

// "0-3,8,10-11" -> 7.
int cpu_list_count(const std::string& s) {
  int n = 0;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');) {
    if (part.empty()) continue;
    const auto dash = part.find('-');
    if (dash == std::string::npos) {
      ++n;
    } else {
      const int a = std::atoi(part.substr(0, dash).c_str()), b = std::atoi(part.substr(dash + 1).c_str());
      n += b >= a ? b - a + 1 : 0;
    }
  }
  return n;
}

// /proc/self/mountinfo escapes blanks as \040 and so on.
std::string unescape_mount(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      out += static_cast<char>(std::strtol(s.substr(i + 1, 3).c_str(), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::optional<std::array<double, 3>> read_load_average() {
  std::ifstream in("/proc/loadavg");
  std::array<double, 3> a{};
  if (!(in >> a[0] >> a[1] >> a[2])) return std::nullopt;
  return a;
}

json row_load_average_json(const std::optional<std::array<double, 3>>& before,
                           const std::optional<std::array<double, 3>>& after) {
  auto arr = [](const std::optional<std::array<double, 3>>& v) {
    return v ? json::array({(*v)[0], (*v)[1], (*v)[2]}) : json(nullptr);
  };
  return {{"before", arr(before)}, {"after", arr(after)}};
}

json cpu_frequency_json() {
  const std::filesystem::path d = "/sys/devices/system/cpu/cpu0/cpufreq";
  std::error_code ec;
  if (std::filesystem::is_directory(d, ec)) {
    auto cur = file_number(d / "scaling_cur_freq");
    if (!cur) cur = file_number(d / "cpuinfo_cur_freq");
    return {{"cur_mhz", number_or_null(cur, 1e-3)},  // sysfs is in kHz
            {"min_mhz", number_or_null(file_number(d / "cpuinfo_min_freq"), 1e-3)},
            {"max_mhz", number_or_null(file_number(d / "cpuinfo_max_freq"), 1e-3)},
            {"governor", text_or_null(first_line(d / "scaling_governor"))},
            {"driver", text_or_null(first_line(d / "scaling_driver"))},
            {"source", "cpufreq"}};
  }
  // No cpufreq (virtual machines, containers): the kernel's "cpu MHz" of the first CPU, no governor to read.
  const std::string mhz = file_value("/proc/cpuinfo", "cpu MHz", ':');
  json cur = nullptr;
  if (!mhz.empty()) {
    char* end = nullptr;
    const double v = std::strtod(mhz.c_str(), &end);
    if (end != mhz.c_str() && std::isfinite(v)) cur = v;
  }
  return {{"cur_mhz", cur}, {"min_mhz", nullptr}, {"max_mhz", nullptr}, {"governor", nullptr},
          {"driver", nullptr}, {"source", cur.is_null() ? "none" : "/proc/cpuinfo"}};
}

json cpu_caches_json() {
  json out = json::array();
  const std::filesystem::path base = "/sys/devices/system/cpu/cpu0/cache";
  for (int i = 0; i < 16; ++i) {
    const auto d = base / ("index" + std::to_string(i));
    std::error_code ec;
    if (!std::filesystem::is_directory(d, ec)) break;
    const auto level = file_number(d / "level");
    const auto size = size_with_suffix(first_line(d / "size"));
    const std::string shared = first_line(d / "shared_cpu_list");
    out.push_back({{"level", level ? json(static_cast<int>(*level)) : json(nullptr)},
                   {"type", text_or_null(first_line(d / "type"))},
                   {"size_bytes", size ? json(*size) : json(nullptr)},
                   {"shared_by_cpus", shared.empty() ? json(nullptr) : json(cpu_list_count(shared))}});
  }
  return out;
}

json storage_json(const std::filesystem::path& dir) {
  std::error_code ec;
  const std::filesystem::path path = std::filesystem::weakly_canonical(std::filesystem::absolute(dir, ec), ec);
  json out = {{"path", path.string()}, {"mount", nullptr},        {"fs_type", nullptr}, {"source", nullptr},
              {"block_device", nullptr}, {"disk", nullptr},      {"model", nullptr},   {"rotational", nullptr}};
  // The mount whose mount point is the longest prefix of the path (mountinfo: id parent maj:min root mountpoint
  // options [optional fields] - fstype source superoptions).
  std::ifstream in("/proc/self/mountinfo");
  std::string best_mount, best_majmin, best_type, best_source;
  const std::string p = path.string();
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, majmin, root, mount;
    if (!(f >> id >> parent >> majmin >> root >> mount)) continue;
    mount = unescape_mount(mount);
    const bool under = p == mount || mount == "/" ||
                       (p.size() > mount.size() && p.compare(0, mount.size(), mount) == 0 && p[mount.size()] == '/');
    if (!under || mount.size() < best_mount.size()) continue;
    std::string tok;
    while (f >> tok && tok != "-") {
    }
    std::string type, source;
    f >> type >> source;
    best_mount = mount;
    best_majmin = majmin;
    best_type = type;
    best_source = unescape_mount(source);
  }
  if (best_mount.empty()) return out;
  out["mount"] = best_mount;
  out["fs_type"] = text_or_null(best_type);
  out["source"] = text_or_null(best_source);
  // The block device (a partition's disk holds the model and the rotational flag); none for tmpfs, overlay, NFS.
  const std::filesystem::path sys = std::filesystem::path("/sys/dev/block") / best_majmin;
  if (best_majmin.rfind("0:", 0) == 0 || !std::filesystem::exists(sys, ec)) return out;
  std::filesystem::path dev = std::filesystem::canonical(sys, ec);
  if (ec) return out;
  out["block_device"] = dev.filename().string();
  if (std::filesystem::exists(dev / "partition", ec)) dev = dev.parent_path();
  out["disk"] = dev.filename().string();
  std::string model = first_line(dev / "device" / "model");
  out["model"] = text_or_null(model);
  if (const auto rot = file_number(dev / "queue" / "rotational")) out["rotational"] = *rot != 0;
  return out;
}

std::vector<std::string> noise_warnings(const ResultRow& row, int cpus) {
  std::vector<std::string> out;
  char b[160];
  if (!row.fps.runs.empty() && row.fps.median > 0 && row.fps.mad > kNoiseMadRatio * row.fps.median) {
    std::snprintf(b, sizeof b, "spread: MAD is %.1f%% of the median (> %g%%)", 100.0 * row.fps.mad / row.fps.median,
                  100 * kNoiseMadRatio);
    out.push_back(b);
  }
  double load = -1;
  if (row.load_average.is_object())
    for (const char* k : {"before", "after"}) {
      const auto it = row.load_average.find(k);
      if (it != row.load_average.end() && it->is_array() && !it->empty() && (*it)[0].is_number())
        load = std::max(load, (*it)[0].get<double>());
    }
  if (cpus > 0 && load > cpus) {
    std::snprintf(b, sizeof b, "machine busy: 1-minute load average %.2f on %d CPUs", load, cpus);
    out.push_back(b);
  }
  return out;
}

json opencl_device_json(const ocl::DeviceInfo& d) {
  return {{"id", d.id()},
          {"platform", d.platform},
          {"platform_version", d.platform_version},
          {"device", d.name},
          {"vendor", d.vendor},
          {"type", d.type},
          {"driver", d.driver},
          {"version", d.version},
          {"compute_units", d.compute_units},
          {"clock_mhz", d.clock_mhz},
          {"global_mem_bytes", d.global_mem_bytes},
          {"max_alloc_bytes", d.max_alloc_bytes},
          {"local_mem_bytes", d.local_mem_bytes},
          {"max_work_group_size", d.max_work_group_size},
          {"fp64", d.fp64}};
}

json opencl_devices_json() {
  json out = json::array();
  for (const auto& d : ocl::list_devices())  // empty, never throws, without an ICD or platform
    out.push_back(opencl_device_json(d));
  return out;
}

std::vector<int32_t> calibration_frame() {
  constexpr int W = 1475, H = 1679;
  std::vector<int32_t> img(static_cast<size_t>(W) * H);
  // splitmix64: the same numbers with every compiler and standard library (std distributions are not).
  uint64_t state = 0x2018'0612'0617'5eedULL;
  auto next = [&state] {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  constexpr double cx = 700.5, cy = 905.0;
  constexpr std::array<double, 6> ring_r = {160, 290, 410, 560, 720, 880};
  constexpr std::array<double, 6> ring_a = {4000, 2500, 1800, 1200, 700, 400};
  for (int y = 0; y < H; ++y) {
    for (int x = 0; x < W; ++x) {
      const double r = std::hypot(x - cx, y - cy);
      double mean = 30.0 + 200.0 * std::exp(-r / 300.0);
      for (size_t k = 0; k < ring_r.size(); ++k) {
        const double d = (r - ring_r[k]) / 2.5;
        if (d > -8 && d < 8) mean += ring_a[k] * std::exp(-0.5 * d * d);
      }
      // Approximately Poisson: mean + sqrt(mean) * (sum of 4 uniforms, centred, unit variance).
      const uint64_t u = next();
      const double g = ((u & 0xFFFF) + ((u >> 16) & 0xFFFF) + ((u >> 32) & 0xFFFF) + (u >> 48) - 131070.0) / 37837.2;
      img[static_cast<size_t>(y) * W + x] = std::max(0, static_cast<int32_t>(std::lround(mean + std::sqrt(mean) * g)));
    }
  }
  // Module gaps (-1), as on a Pilatus3 2M: 3 x 487 px columns with 7 px gaps, 8 x 195 px rows with 17 px gaps.
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const bool gap_x = x % 494 >= 487, gap_y = y % 212 >= 195;
      if (gap_x || gap_y) img[static_cast<size_t>(y) * W + x] = -1;
    }
  return img;
}

std::vector<uint8_t> calibration_stream() {
  std::vector<uint8_t> s;
  byte_offset::encode(calibration_frame(), s);
  return s;
}

Calibration measure_calibration(size_t memcpy_bytes, int repeats) {
  if (repeats < 1) repeats = 1;
  Calibration c;
  {
    std::vector<char> src(memcpy_bytes), dst(memcpy_bytes);
    // Touch both buffers first so page faults are not timed.
    std::memset(src.data(), 1, memcpy_bytes);
    std::memset(dst.data(), 0, memcpy_bytes);
    std::vector<double> gbps;
    for (int i = 0; i < repeats; ++i) {
      const auto t0 = clock_type::now();
      std::memcpy(dst.data(), src.data(), memcpy_bytes);
      clobber(dst.data());
      const double s = std::chrono::duration<double>(clock_type::now() - t0).count();
      gbps.push_back(static_cast<double>(memcpy_bytes) / s / 1e9);
    }
    c.memcpy_GBps = median(gbps);
  }
  {
    const std::vector<int32_t> ref = calibration_frame();
    std::vector<uint8_t> stream;
    byte_offset::encode(ref, stream);
    std::vector<int32_t> out(ref.size());
    std::vector<double> ms, cpu_ms;
    for (int i = 0; i < repeats; ++i) {
      const double c0 = thread_cpu_ms();
      const auto t0 = clock_type::now();
      const auto r = byte_offset::decode_scalar(stream, out);
      const double t = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
      cpu_ms.push_back(thread_cpu_ms() - c0);
      if (!r.ok()) throw Error("", "calibration", "the scalar decoder failed on the calibration frame: " + r.message());
      ms.push_back(t);
    }
    c.scalar_decode_cpu_ms = median(cpu_ms);
    if (out != ref) throw Error("", "calibration", "the scalar decoder did not reproduce the calibration frame");
    c.scalar_decode_ms = median(ms);
  }
  return c;
}

json capture_machine(const MachineOptions& opt) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  struct utsname u {};
  ::uname(&u);
  const int cores = available_cores();
  json m = {
      {"hostname", host},
      {"cpu_model", cpu_model()},
      {"cores", cores},
      {"cpus_online", static_cast<int>(std::thread::hardware_concurrency())},
      {"threads_used", opt.threads_used > 0 ? opt.threads_used : cores},
      {"memory_bytes", memory_bytes()},
      {"kernel", std::string(u.sysname) + " " + u.release},
      {"os", [] {
         std::string os = file_value("/etc/os-release", "PRETTY_NAME", '=');
         return os.empty() ? std::string("unknown") : os;
       }()},
      {"compiler", compiler()},
      {"build_type", opt.build_type.empty() ? inferred_build_type() : opt.build_type},
      {"commit", git_commit()},
      {"commit_dirty", git_dirty()},
      {"xrdbench_version", XRD_VERSION},
      {"simd", byte_offset::fast_decoder_name()},
      {"opencl", opt.opencl ? opencl_devices_json() : json::array()},
      {"calibration", nullptr},
      {"cpu_frequency", cpu_frequency_json()},
      {"caches", cpu_caches_json()},
      {"load_average", [] {
         const auto l = read_load_average();
         return l ? json::array({(*l)[0], (*l)[1], (*l)[2]}) : json(nullptr);
       }()},
      {"storage", opt.dataset_dir.empty() ? json(nullptr) : storage_json(opt.dataset_dir)},
  };
  if (opt.calibrate) {
    const Calibration c = measure_calibration(opt.memcpy_bytes, opt.calibration_repeats);
    m["calibration"] = {{"memcpy_GBps", c.memcpy_GBps},
                        {"scalar_decode_ms", c.scalar_decode_ms},
                        {"scalar_decode_cpu_ms", c.scalar_decode_cpu_ms},
                        {"memcpy_bytes", opt.memcpy_bytes},
                        {"repeats", opt.calibration_repeats}};
  }
  return m;
}

}  // namespace xrd::harness
