// Atomic file writes: every file xrdbench writes whole (results.json, table1.md, the Chrome trace, manifests) goes
// through here, so a reader (or an interrupted run) sees the old file or the new one, never half of one.
#pragma once
#include <filesystem>
#include <string_view>

namespace xrd {

// Writes `bytes` to a temporary file beside `path` (path + ".tmp.<pid>"), flushes it and renames it over `path`.
// The folder must exist (a missing one is an "open" error naming the file). On failure removes the temporary file and throws xrd::Error naming `path`,
// the step ("open", "write", "rename") and the real errno.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

}  // namespace xrd
