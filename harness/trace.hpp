// Chrome trace event format (JSON) of per-frame stage events: open in https://ui.perfetto.dev or chrome://tracing
// to see where a pipeline waits.
#pragma once
#include <filesystem>
#include <map>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "base/profiler.hpp"

namespace xrd::harness {

// {"traceEvents": [...], "displayTimeUnit": "ms"}: one "X" (complete) event per StageEvent with ts/dur in
// microseconds, pid 1, tid = thread, name = stage name, args {frame}; plus "M" thread_name metadata events.
nlohmann::json chrome_trace(std::span<const StageEvent> events, const std::map<int, std::string>& thread_names);

// Writes chrome_trace() to `path` (write to a temporary file, then rename). Throws xrd::Error naming the file.
void write_chrome_trace(const std::filesystem::path& path, std::span<const StageEvent> events,
                        const std::map<int, std::string>& thread_names);

}  // namespace xrd::harness
