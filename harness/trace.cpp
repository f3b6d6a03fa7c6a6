// Chrome trace event JSON writer (the "X" complete-event form Perfetto and chrome://tracing load).
#include "harness/trace.hpp"

#include <set>

#include "base/atomic_file.hpp"

namespace xrd::harness {

nlohmann::json chrome_trace(std::span<const StageEvent> events, const std::map<int, std::string>& thread_names) {
  nlohmann::json ev = nlohmann::json::array();
  ev.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", 1}, {"tid", 0}, {"args", {{"name", "xrdbench"}}}});
  std::set<int> tids;
  for (auto& e : events) tids.insert(e.thread);
  for (auto& [t, n] : thread_names) tids.insert(t);
  for (int t : tids) {
    auto it = thread_names.find(t);
    const std::string name = it != thread_names.end() ? it->second : "thread " + std::to_string(t);
    ev.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", t}, {"args", {{"name", name}}}});
    // Sort threads in the viewer by their index, not by first appearance.
    ev.push_back({{"name", "thread_sort_index"}, {"ph", "M"}, {"pid", 1}, {"tid", t}, {"args", {{"sort_index", t}}}});
  }
  for (auto& e : events) {
    ev.push_back({{"name", stage_name(e.stage)},
                  {"cat", "stage"},
                  {"ph", "X"},
                  {"ts", e.t0 * 1e6},
                  {"dur", (e.t1 - e.t0) * 1e6},
                  {"pid", 1},
                  {"tid", e.thread},
                  {"args", {{"frame", e.frame}}}});
  }
  return {{"traceEvents", std::move(ev)}, {"displayTimeUnit", "ms"}};
}

void write_chrome_trace(const std::filesystem::path& path, std::span<const StageEvent> events,
                        const std::map<int, std::string>& thread_names) {
  write_file_atomic(path, chrome_trace(events, thread_names).dump() + '\n');
}

}  // namespace xrd::harness
