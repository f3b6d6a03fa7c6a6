// results.json (xrdbench-results/1): JSON conversion, validation, atomic write, read.
#include "harness/results.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "harness/stats.hpp"
#include "base/atomic_file.hpp"
#include "base/error.hpp"

namespace xrd::harness {
namespace {

using json = nlohmann::json;

// JSON has no NaN/Inf: write null so the reader's type check names the key instead of reading garbage.
json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
json nums(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(num(x));
  return a;
}

// Validation helpers: `ctx` is the JSON path ("rows[3].fps") used in messages.
struct Checker {
  std::string source;
  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw Error(source, where, what);
  }
  const json& get(const json& j, const char* key, const std::string& ctx) const {
    if (!j.is_object()) fail(ctx, "expected an object");
    auto it = j.find(key);
    if (it == j.end()) fail(ctx.empty() ? std::string(key) : ctx + "." + key, "missing (required by " +
                                                                     std::string(kResultsSchema) + ")");
    return *it;
  }
  std::string path(const std::string& ctx, const char* key) const { return ctx.empty() ? key : ctx + "." + key; }
  void object(const json& j, const char* key, const std::string& ctx) const {
    if (!get(j, key, ctx).is_object()) fail(path(ctx, key), "expected an object");
  }
  void string(const json& j, const char* key, const std::string& ctx) const {
    if (!get(j, key, ctx).is_string()) fail(path(ctx, key), "expected a string");
  }
  void boolean(const json& j, const char* key, const std::string& ctx) const {
    if (!get(j, key, ctx).is_boolean()) fail(path(ctx, key), "expected true or false");
  }
  void number(const json& j, const char* key, const std::string& ctx, bool nullable = false) const {
    const json& v = get(j, key, ctx);
    if (nullable && v.is_null()) return;
    if (!v.is_number()) fail(path(ctx, key), nullable ? "expected a number or null" : "expected a number");
  }
  void count(const json& j, const char* key, const std::string& ctx, bool nullable = false) const {
    const json& v = get(j, key, ctx);
    if (nullable && v.is_null()) return;
    if (!v.is_number_integer() || v.get<int64_t>() < 0)
      fail(path(ctx, key), nullable ? "expected a non-negative integer or null" : "expected a non-negative integer");
  }
  void numbers(const json& j, const char* key, const std::string& ctx) const {
    const json& v = get(j, key, ctx);
    if (!v.is_array()) fail(path(ctx, key), "expected an array of numbers");
    for (size_t i = 0; i < v.size(); ++i)
      if (!v[i].is_number()) fail(path(ctx, key) + "[" + std::to_string(i) + "]", "expected a number");
  }
  void one_of(const json& j, const char* key, const std::string& ctx, std::initializer_list<const char*> allowed) const {
    string(j, key, ctx);
    const auto s = j[key].get<std::string>();
    std::string list;
    for (const char* a : allowed) {
      if (s == a) return;
      list += (list.empty() ? "\"" : ", \"") + std::string(a) + "\"";
    }
    fail(path(ctx, key), "\"" + s + "\" is not one of " + list);
  }
};

void check_row(const Checker& c, const json& r, const std::string& ctx) {
  if (!r.is_object()) c.fail(ctx, "expected an object (a row)");
  c.string(r, "id", ctx);
  c.string(r, "strategy", ctx);
  c.string(r, "label", ctx);
  c.count(r, "readers", ctx, true);
  c.one_of(r, "integrator", ctx, {"cpu", "gpu"});
  c.string(r, "device", ctx);
  c.boolean(r, "device_is_cpu_opencl", ctx);
  c.one_of(r, "source", ctx, {"SSD", "MEM"});
  c.object(r, "fps", ctx);
  c.number(r["fps"], "median", ctx + ".fps");
  c.number(r["fps"], "mad", ctx + ".fps");
  c.numbers(r["fps"], "runs", ctx + ".fps");
  c.object(r, "wall_s", ctx);
  c.number(r["wall_s"], "median", ctx + ".wall_s");
  c.numbers(r["wall_s"], "runs", ctx + ".wall_s");
  c.count(r, "frames", ctx);
  c.count(r, "failed_frames", ctx);
  const json& errs = c.get(r, "errors", ctx);
  if (!errs.is_array()) c.fail(ctx + ".errors", "expected an array of {file, reason}");
  for (size_t i = 0; i < errs.size(); ++i) {
    const std::string e = ctx + ".errors[" + std::to_string(i) + "]";
    c.string(errs[i], "file", e);
    c.string(errs[i], "reason", e);
  }
  c.number(r, "residency_before", ctx);
  c.numbers(r, "residency_runs", ctx);
  c.boolean(r, "validated", ctx);
  c.number(r, "max_rel_diff", ctx, true);
  c.boolean(r, "valid", ctx);
  const json& reasons = c.get(r, "invalid_reasons", ctx);
  if (!reasons.is_array()) c.fail(ctx + ".invalid_reasons", "expected an array of strings");
  for (auto& s : reasons)
    if (!s.is_string()) c.fail(ctx + ".invalid_reasons", "expected an array of strings");
  c.object(r, "stages_ms", ctx);
  for (auto& [k, v] : r["stages_ms"].items())
    if (!v.is_number()) c.fail(ctx + ".stages_ms." + k, "expected a number (ms per frame)");
  const json& paper = c.get(r, "paper", ctx);
  if (!paper.is_null()) {
    c.object(r, "paper", ctx);
    c.number(paper, "median_fps", ctx + ".paper");
    c.number(paper, "mad_fps", ctx + ".paper");
  }
  if (r.contains("mpi") && !r["mpi"].is_null()) {  // optional: rows run by mpirun
    c.object(r, "mpi", ctx);
    c.count(r["mpi"], "ranks", ctx + ".mpi");
    if (!r["mpi"].contains("per_rank") || !r["mpi"]["per_rank"].is_array())
      c.fail(ctx + ".mpi.per_rank", "expected an array with one object per rank");
  }
  if (r.contains("sink") && !r["sink"].is_null()) {  // optional: rows that wrote their sinogram
    c.object(r, "sink", ctx);
    for (const char* k : {"create_ms", "waited_ms", "writer_ms", "drain_ms", "close_ms"})
      c.number(r["sink"], k, ctx + ".sink");
    c.count(r["sink"], "max_queued", ctx + ".sink");
  }
}

}  // namespace

FpsStats summarize_fps(std::vector<double> runs) {
  FpsStats s;
  s.median = median(runs);
  s.mad = mad(runs);
  s.runs = std::move(runs);
  return s;
}

std::string row_id(const std::string& strategy, std::optional<int> readers, const std::string& integrator,
                   const std::string& source) {
  // Appends only: GCC 12 warns falsely (-Wrestrict) on `"-" + std::to_string(n)` at -O3.
  std::string id = strategy;
  if (readers) id.append("-").append(std::to_string(*readers));
  id.append("-").append(integrator).append("-").append(source);
  return id;
}

json to_json(const ResultRow& r) {
  json errors = json::array();
  for (size_t i = 0; i < r.errors.size() && i < kMaxListedErrors; ++i)
    errors.push_back({{"file", r.errors[i].file}, {"reason", r.errors[i].reason}});
  json stages = json::object();
  for (auto& [k, v] : r.stages_ms) stages[k] = num(v);
  json j = {
      {"id", r.id},
      {"strategy", r.strategy},
      {"label", r.label},
      {"readers", r.readers ? json(*r.readers) : json(nullptr)},
      {"integrator", r.integrator},
      {"device", r.device},
      {"device_is_cpu_opencl", r.device_is_cpu_opencl},
      {"source", r.source},
      {"codec", r.codec},
      {"read_method", r.read_method},
      {"read_ahead", r.read_ahead},
      {"threads", r.threads},
      {"decoder", r.decoder},
      {"engine", r.engine},
      {"engine_variant", r.engine_variant},
      {"fps", {{"median", num(r.fps.median)}, {"mad", num(r.fps.mad)}, {"runs", nums(r.fps.runs)}}},
      {"wall_s", {{"median", num(r.wall_s.median)}, {"runs", nums(r.wall_s.runs)}}},
      {"frames", r.frames},
      {"failed_frames", r.failed_frames},
      {"errors", std::move(errors)},
      {"residency_before", num(r.residency_before)},
      {"residency_runs", nums(r.residency_runs)},
      {"validated", r.validated},
      {"max_rel_diff", r.max_rel_diff && std::isfinite(*r.max_rel_diff) ? json(*r.max_rel_diff) : json(nullptr)},
      {"valid", r.valid},
      {"invalid_reasons", r.invalid_reasons},
      {"stages_ms", std::move(stages)},
      {"paper", r.paper ? json{{"median_fps", r.paper->median_fps}, {"mad_fps", r.paper->mad_fps}} : json(nullptr)},
      {"load_average", r.load_average},
  };
  if (!r.mpi.is_null()) j["mpi"] = r.mpi;
  if (!r.sink.is_null()) j["sink"] = r.sink;
  return j;
}

json to_json(const DatasetInfo& d) {
  return {{"path", d.path},   {"frames", d.frames}, {"bytes", d.bytes},
          {"width", d.width}, {"height", d.height}, {"format", d.format},
          {"codec", d.codec}, {"element", d.element}, {"manifest", d.manifest}};
}

json to_json(const Settings& s) {
  return {{"repeats", s.repeats}, {"warmup", s.warmup},         {"bins", s.bins},     {"unit", s.unit},
          {"split", s.split},     {"verify_md5", s.verify_md5}, {"write", s.write},   {"device", s.device},
          {"drop_caches", s.drop_caches}};
}

json to_json(const ResultsFile& f) {
  json rows = json::array();
  for (auto& r : f.rows) rows.push_back(to_json(r));
  json j = {{"schema", f.schema},
          {"created", f.created},
          {"command", f.command},
          {"machine", f.machine.is_null() ? json::object() : f.machine},
          {"dataset", to_json(f.dataset)},
          {"settings", to_json(f.settings)},
          {"rows", std::move(rows)},
          {"interrupted", f.interrupted},
          {"read_bound", f.read_bound},
          {"h2d_bound", f.h2d_bound},
          {"previous_runs", [&] {
             json a = json::array();
             for (auto& p : f.previous_runs) a.push_back({{"created", p.created}, {"command", p.command}});
             return a;
           }()}};
  if (!f.realtime.is_null()) j["realtime"] = f.realtime;
  return j;
}

void check_results_json(const json& j, const std::string& source) {
  Checker c{source};
  if (!j.is_object()) c.fail("", "not a results file (expected a JSON object with \"schema\": \"" +
                                      std::string(kResultsSchema) + "\")");
  auto it = j.find("schema");
  if (it == j.end() || !it->is_string())
    c.fail("schema", "missing: not an xrdbench results file (expected \"schema\": \"" + std::string(kResultsSchema) + "\")");
  if (*it != kResultsSchema)
    c.fail("schema", "\"" + it->get<std::string>() + "\" is not supported (this xrdbench reads \"" +
                         std::string(kResultsSchema) + "\"; see docs/results-schema.md)");
  c.string(j, "created", "");
  c.string(j, "command", "");
  c.object(j, "machine", "");
  c.object(j, "dataset", "");
  c.string(j["dataset"], "path", "dataset");
  c.count(j["dataset"], "frames", "dataset");
  c.object(j, "settings", "");
  c.count(j["settings"], "repeats", "settings");
  c.boolean(j, "interrupted", "");
  const json& rows = c.get(j, "rows", "");
  if (!rows.is_array()) c.fail("rows", "expected an array of rows");
  std::set<std::string> ids;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string ctx = "rows[" + std::to_string(i) + "]";
    check_row(c, rows[i], ctx);
    if (!ids.insert(rows[i]["id"].get<std::string>()).second)
      c.fail(ctx + ".id", "\"" + rows[i]["id"].get<std::string>() + "\" appears twice (row ids must be unique)");
  }
  // The realtime block (optional) is versioned on its own: docs/realtime.md.
  if (auto rt = j.find("realtime"); rt != j.end() && !rt->is_null()) {
    if (!rt->is_object() || !rt->contains("schema") || (*rt)["schema"] != "xrdbench-realtime/1")
      c.fail("realtime.schema", "expected \"xrdbench-realtime/1\" (docs/realtime.md)");
    if (!rt->contains("runs") || !(*rt)["runs"].is_array()) c.fail("realtime.runs", "expected an array of runs");
  }
}

ResultRow row_from_json(const json& j) {
  check_row(Checker{""}, j, "row");
  ResultRow r;
  r.id = j["id"];
  r.strategy = j["strategy"];
  r.label = j["label"];
  if (!j["readers"].is_null()) r.readers = j["readers"].get<int>();
  r.integrator = j["integrator"];
  r.device = j["device"];
  r.device_is_cpu_opencl = j["device_is_cpu_opencl"];
  r.source = j["source"];
  r.codec = j.value("codec", std::string("byte-offset"));
  r.read_method = j.value("read_method", std::string("pread"));
  r.read_ahead = j.value("read_ahead", 0);  // absent in files written before it was recorded
  r.threads = j.value("threads", 0);        // (the same)
  r.decoder = j.value("decoder", std::string());  // optional: absent in files written before they were recorded
  r.engine = j.value("engine", std::string());
  r.engine_variant = j.value("engine_variant", std::string());
  r.fps.median = j["fps"]["median"];
  r.fps.mad = j["fps"]["mad"];
  r.fps.runs = j["fps"]["runs"].get<std::vector<double>>();
  r.wall_s.median = j["wall_s"]["median"];
  r.wall_s.runs = j["wall_s"]["runs"].get<std::vector<double>>();
  r.frames = j["frames"];
  r.failed_frames = j["failed_frames"];
  for (auto& e : j["errors"]) r.errors.push_back({e["file"], e["reason"]});
  r.residency_before = j["residency_before"];
  r.residency_runs = j["residency_runs"].get<std::vector<double>>();
  r.validated = j["validated"];
  if (!j["max_rel_diff"].is_null()) r.max_rel_diff = j["max_rel_diff"].get<double>();
  r.valid = j["valid"];
  r.invalid_reasons = j["invalid_reasons"].get<std::vector<std::string>>();
  for (auto& [k, v] : j["stages_ms"].items()) r.stages_ms[k] = v.get<double>();
  if (!j["paper"].is_null()) r.paper = PaperValue{j["paper"]["median_fps"], j["paper"]["mad_fps"]};
  if (auto it = j.find("load_average"); it != j.end() && it->is_object()) r.load_average = *it;  // optional
  if (j.contains("mpi") && j["mpi"].is_object()) r.mpi = j["mpi"];
  if (j.contains("sink") && j["sink"].is_object()) r.sink = j["sink"];
  return r;
}

ResultsFile results_from_json(const json& j, const std::string& source) {
  check_results_json(j, source);
  ResultsFile f;
  f.schema = j["schema"];
  f.created = j["created"];
  f.command = j["command"];
  f.machine = j["machine"];
  const json& d = j["dataset"];
  f.dataset.path = d["path"];
  f.dataset.frames = d["frames"];
  f.dataset.bytes = d.value("bytes", uint64_t{0});
  f.dataset.width = d.value("width", uint64_t{0});
  f.dataset.height = d.value("height", uint64_t{0});
  f.dataset.format = d.value("format", std::string("cbf"));
  f.dataset.codec = d.value("codec", std::string("byte-offset"));
  f.dataset.element = d.value("element", std::string());
  f.dataset.manifest = d.value("manifest", json(nullptr));
  const json& s = j["settings"];
  Settings def;
  f.settings.repeats = s["repeats"];
  f.settings.warmup = s.value("warmup", def.warmup);
  f.settings.bins = s.value("bins", def.bins);
  f.settings.unit = s.value("unit", def.unit);
  f.settings.split = s.value("split", def.split);
  f.settings.verify_md5 = s.value("verify_md5", def.verify_md5);
  f.settings.write = s.value("write", def.write);
  f.settings.device = s.value("device", def.device);
  f.settings.drop_caches = s.value("drop_caches", def.drop_caches);
  for (auto& r : j["rows"]) f.rows.push_back(row_from_json(r));
  f.interrupted = j["interrupted"];
  if (j.contains("read_bound")) f.read_bound = j["read_bound"];
  if (j.contains("h2d_bound")) f.h2d_bound = j["h2d_bound"];
  if (auto p = j.find("previous_runs"); p != j.end() && p->is_array())
    for (auto& e : *p)
      if (e.is_object()) f.previous_runs.push_back({e.value("created", ""), e.value("command", "")});
  f.realtime = j.value("realtime", json(nullptr));
  return f;
}

std::string command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (i) s += ' ';
    const bool plain = !a.empty() && a.find_first_of(" \t\"'\\$`") == std::string::npos;
    if (plain || i == 0) {
      s += a;
    } else {
      s += '\'';
      for (char ch : a) s += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
      s += '\'';
    }
  }
  return s;
}

std::string utc_now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

void write_results(const std::filesystem::path& path, const ResultsFile& f) {
  ResultsFile copy = f;
  if (copy.created.empty()) copy.created = utc_now_iso8601();
  const json j = to_json(copy);
  check_results_json(j, path.string());  // never write a file our own reader would refuse
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);  // a failure shows at open, with its errno
  }
  write_file_atomic(path, j.dump(2) + '\n');
}

ResultsFile read_results(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(path.string(), "open", std::string("cannot read: ") + std::strerror(errno));
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    throw Error(path.string(), "byte " + std::to_string(e.byte), std::string("not valid JSON: ") + e.what());
  }
  return results_from_json(j, path.string());
}

}  // namespace xrd::harness

namespace xrd::harness {

std::string merge_conflict(const ResultsFile& a, const ResultsFile& b) {
  auto differ = [](const std::string& key, const auto& x, const auto& y) -> std::string {
    if (x == y) return "";
    std::ostringstream o;
    o << std::boolalpha << key << ": " << x << " in the file, " << y << " now";
    return o.str();
  };
  for (const std::string& why :
       {differ("dataset.path", a.dataset.path, b.dataset.path), differ("dataset.frames", a.dataset.frames, b.dataset.frames),
        differ("dataset.width", a.dataset.width, b.dataset.width), differ("dataset.height", a.dataset.height, b.dataset.height),
        differ("settings.bins", a.settings.bins, b.settings.bins), differ("settings.unit", a.settings.unit, b.settings.unit),
        differ("settings.split", a.settings.split, b.settings.split),
        differ("settings.repeats", a.settings.repeats, b.settings.repeats),
        differ("settings.warmup", a.settings.warmup, b.settings.warmup),
        differ("settings.verify_md5", a.settings.verify_md5, b.settings.verify_md5)})
    if (!why.empty()) return why;
  return "";
}

ResultsFile merge_results(const ResultsFile& earlier, const ResultsFile& now, std::vector<std::string>* replaced) {
  ResultsFile m = now;
  m.previous_runs = earlier.previous_runs;
  m.previous_runs.push_back({earlier.created, earlier.command});
  m.rows = earlier.rows;
  for (auto& r : now.rows) {
    auto it = std::find_if(m.rows.begin(), m.rows.end(), [&](const ResultRow& e) { return e.id == r.id; });
    if (it == m.rows.end()) {
      m.rows.push_back(r);
    } else {
      *it = r;
      if (replaced) replaced->push_back(r.id);
    }
  }
  // What the file says about every row: patterns written only when every invocation wrote them; drop_caches when
  // any did (it is per invocation, the rows' residency says what each cold row had); a device when any used one.
  m.settings.write = earlier.settings.write && now.settings.write;
  m.settings.drop_caches = earlier.settings.drop_caches || now.settings.drop_caches;
  if (m.settings.device == "cpu") m.settings.device = earlier.settings.device;
  return m;
}

FolderLock FolderLock::acquire(const std::filesystem::path& dir) {
  const auto path = dir / ".xrdbench.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(path.string(), "open", std::string("cannot create the lock file: ") + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    char pid[32] = {0};
    const ssize_t n = ::pread(fd, pid, sizeof pid - 1, 0);
    ::close(fd);
    std::string who = n > 0 ? std::string(pid, static_cast<size_t>(n)) : std::string();
    while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
    if (e == EWOULDBLOCK)
      throw Error(dir.string(), "",
                  "another xrdbench" + (who.empty() ? std::string() : " (pid " + who + ")") +
                      " is writing results into this folder: wait for it to finish, or use another --out");
    throw Error(path.string(), "flock", std::strerror(e));
  }
  const std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] const ssize_t w = ::pwrite(fd, me.data(), me.size(), 0);
  }
  return FolderLock(fd);
}

FolderLock& FolderLock::operator=(FolderLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

}  // namespace xrd::harness
