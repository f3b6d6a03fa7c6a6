#include "harness/table1.hpp"

#include "harness/environment.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace xrd::harness {
namespace {

std::string fmt(double v, int prec = 1) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

std::string fps_text(double v) { return v >= 100 ? fmt(v, 0) : fmt(v, 1); }

}  // namespace

std::vector<Table1Row> table1_rows(const std::vector<PaperRow>& paper, int threads) {
  std::vector<Table1Row> rows;
  for (auto& p : paper) {
    Table1Row r;
    r.spec.strategy = p.strategy;
    r.spec.opt.integrator = strategies::parse_integrator(p.integrator);
    if (p.readers) r.spec.opt.readers = *p.readers;
    r.spec.opt.threads = threads;
    r.spec.cache = p.source == "SSD" ? CacheMode::cold : CacheMode::hot;
    r.spec.id = p.id;
    r.spec.label = p.label;
    r.paper = &p;
    rows.push_back(r);
  }
  auto ours = [&](const char* strategy, strategies::Integrator integ, CacheMode cache, int readers,
                  const std::string& label) {
    Table1Row r;
    r.spec.strategy = strategy;
    r.spec.opt.integrator = integ;
    r.spec.opt.readers = readers;
    r.spec.opt.threads = threads;
    r.spec.cache = cache;
    r.spec.label = label;
    rows.push_back(r);
  };
  using strategies::Integrator;
  ours("pipeline", Integrator::cpu, CacheMode::hot, 0, "oneTBB pipeline, fast CPU engine, MEM (hot)");
  ours("fused", Integrator::cpu, CacheMode::hot, 0, "oneTBB pipeline, fused decode+integrate, MEM (hot)");
  ours("fused", Integrator::cpu, CacheMode::cold, 0, "oneTBB pipeline, fused decode+integrate, SSD (cold)");
  const int readers = strategies::default_readers();
  ours("opencl-batched", Integrator::gpu, CacheMode::hot, readers,
       "Batched device chain, " + std::to_string(readers) + " readers into pinned memory, MEM (hot)");
  // Cold, the device does the work and the readers only read, asking the disk for the files ahead of them
  // (Options::cold): 4 readers (more requests of their own did not read faster on the H200 machine's disk:
  // reports/results/h200/s24/NOTES.md).
  ours("opencl-batched", Integrator::gpu, CacheMode::cold, strategies::kColdDeviceReaders,
       "Batched device chain, " + std::to_string(strategies::kColdDeviceReaders) +
           " readers into pinned memory, files asked of the disk ahead, SSD (cold)");
  rows.back().spec.id = "opencl-batched-gpu-SSD";
  return rows;
}

std::string table1_markdown(const ResultsFile& f, const std::vector<std::string>& notes) {
  std::ostringstream o;
  const auto& m = f.machine;
  auto str = [&](const char* k) { return m.is_object() && m.contains(k) && m[k].is_string() ? m[k].get<std::string>() : std::string("?"); };
  auto num = [&](const char* k) { return m.is_object() && m.contains(k) && m[k].is_number() ? m[k].get<double>() : 0.0; };

  o << "# Table 1: " << f.dataset.frames << " frames of " << f.dataset.width << " x " << f.dataset.height << "\n\n";
  o << "Kieffer, Petitdemange & Vincent, *J. Synchrotron Rad.* 25 (2018) 612-617, Table 1 (1202 Pilatus3 2M frames, "
       "2 x Xeon E5-2643 v3, Titan-X), beside this machine.\n\n";
  o << "- Machine: " << str("cpu_model") << ", " << num("cores") << " cores, " << str("os") << ", " << str("compiler")
    << ", " << str("build_type") << ", decoder " << str("simd") << ", commit " << str("commit") << "\n";
  o << "- Dataset: `" << f.dataset.path << "`, " << f.dataset.frames << " frames, "
    << fmt(static_cast<double>(f.dataset.bytes) / 1e6, 1) << " MB ("
    << fmt(f.dataset.frames ? static_cast<double>(f.dataset.bytes) / 1e6 / static_cast<double>(f.dataset.frames) : 0, 2)
    << " MB/frame)\n";
  o << "- Settings: " << f.settings.repeats << " timed runs after " << f.settings.warmup << " warm-up, "
    << f.settings.bins << " bins of " << f.settings.unit << ", " << f.settings.split << " splitting, MD5 "
    << (f.settings.verify_md5 ? "verified" : "not verified") << ", patterns "
    << (f.settings.write ? "written to HDF5 (patterns/ROW.h5, timed as the write stage; each row's last run read back "
                           "and compared with the reference)"
                         : "not written (--no-write: no HDF5 file, the write stage is not measured)")
    << ", device `" << f.settings.device << "`\n";
  o << "- fps = frames per second, median of the runs; MAD = median absolute deviation; SSD = cold page cache "
       "(files evicted before each run), MEM = hot page cache. The detector streams 250 frames/s.\n\n";

  o << "| Row | Strategy | Source | Integration on | fps (median) | MAD | Paper fps | Paper MAD | Ours / paper | "
       "Real time (250 Hz) | Valid |\n";
  o << "|---|---|---|---|---:|---:|---:|---:|---:|---|---|\n";
  bool any_cpu_gpu = false, any_invalid = false;
  for (auto& r : f.rows) {
    const bool ran = !r.fps.runs.empty();
    std::string dev = r.integrator == "gpu" ? r.device + (r.device_is_cpu_opencl ? " (OpenCL CPU device)" : "") : "CPU";
    any_cpu_gpu |= r.integrator == "gpu" && r.device_is_cpu_opencl;
    any_invalid |= !r.valid;
    o << "| `" << r.id << "` | " << r.label << " | " << r.source << " | " << dev << " | "
      << (ran ? "**" + fps_text(r.fps.median) + "**" : "-") << " | " << (ran ? fps_text(r.fps.mad) : "-") << " | ";
    if (r.paper)
      o << fps_text(r.paper->median_fps) << " | " << fps_text(r.paper->mad_fps) << " | "
        << (ran && r.paper->median_fps > 0 ? fmt(r.fps.median / r.paper->median_fps, 2) + "x" : "-");
    else
      o << "- | - | -";
    o << " | " << (ran ? (r.fps.median >= 250 ? "yes" : "no") : "-") << " | "
      << (r.valid ? "yes" : "**NO**") << " |\n";
  }
  if (f.interrupted) o << "\n**Interrupted (Ctrl-C)**: the rows above are complete; the others were not run.\n";

  if (any_invalid) {
    o << "\n## Invalid rows\n\nA row is valid when its patterns match the reference (CPU, same matrix) within 1e-5 "
         "relative, no frame failed, and the page cache was as announced (cold <= 1% resident, hot >= 99%).\n\n";
    for (auto& r : f.rows) {
      if (r.valid) continue;
      o << "- `" << r.id << "`: ";
      for (size_t i = 0; i < r.invalid_reasons.size(); ++i) o << (i ? "; " : "") << r.invalid_reasons[i];
      o << "\n";
    }
  }

  // Noise (hyperfine-style warnings): same rules as the console and the report (environment.hpp noise_warnings()).
  const int cpus = m.is_object() && m.contains("cpus_online") && m["cpus_online"].is_number_integer()
                       ? m["cpus_online"].get<int>()
                       : static_cast<int>(num("cores"));
  bool noise_header = false;
  for (auto& r : f.rows) {
    const auto warnings = noise_warnings(r, cpus);
    if (warnings.empty()) continue;
    if (!noise_header)
      o << "\n## Warning: noisy rows\n\nThese rows may not be repeatable: a MAD above "
        << fmt(100 * kNoiseMadRatio, 0) << "% of the median, or a 1-minute load average above the " << cpus
        << " CPUs before or after the row (other work was running). Measure them again on a quiet machine before "
           "quoting them.\n\n";
    noise_header = true;
    o << "- `" << r.id << "`: ";
    for (size_t i = 0; i < warnings.size(); ++i) o << (i ? "; " : "") << warnings[i];
    o << "\n";
  }

  o << "\n## Per-stage time (ms per frame, median over runs; parallel stages: CPU time summed over threads)\n\n";
  o << "| Row | read | md5 | decode | integrate | write | wait | residency before | max rel. diff |\n";
  o << "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (auto& r : f.rows) {
    if (r.fps.runs.empty()) continue;
    o << "| `" << r.id << "`";
    for (const char* s : {"read", "md5", "decode", "integrate", "write", "wait"}) {
      auto it = r.stages_ms.find(s);
      o << " | " << (it == r.stages_ms.end() ? "-" : fmt(it->second, 3));
    }
    char diff[32];
    std::snprintf(diff, sizeof diff, "%.1e", r.max_rel_diff.value_or(0.0));
    o << " | " << fmt(r.residency_before * 100, 1) << "% | " << (r.max_rel_diff ? diff : "-") << " |\n";
  }

  if (any_cpu_gpu)
    o << "\nThis machine has no GPU: the \"GPU\" rows ran on an OpenCL CPU device (PoCL), which shares the cores "
         "with the host threads. Compare them with the paper's Titan-X figures with that in mind.\n";
  const ResultRow* best = nullptr;
  for (auto& r : f.rows)
    if (r.valid && r.source == "MEM" && (!best || r.fps.median > best->fps.median)) best = &r;
  if (best)
    o << "\nBest valid hot row: `" << best->id << "` at " << fps_text(best->fps.median) << " frames/s ("
      << fmt(best->fps.median / 250.0, 2) << "x the detector's 250 Hz).\n";
  for (auto& n : notes) o << "\n" << n << "\n";
  return o.str();
}

}  // namespace xrd::harness
