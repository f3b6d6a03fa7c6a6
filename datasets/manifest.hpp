// manifest.json of a dataset folder (format "xrdbench-dataset/1"): what each file is (name, size, MD5 of its
// bytes), how the dataset was made (generator, seed, parameters, phases) and totals. Read, written, verified.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace xrd::manifest {

inline constexpr const char* kFormat = "xrdbench-dataset/1";
inline constexpr const char* kFileName = "manifest.json";

struct FileEntry {
  std::string name;       // relative to the dataset folder
  uint64_t size = 0;      // bytes
  std::string md5;        // hex MD5 of the whole file
  nlohmann::json extra = nlohmann::json::object();  // more fields of this entry (frames: scan position, ...)
};

struct Manifest {
  std::string format = kFormat;
  std::string generator;            // "xrdbench-synth"
  int generator_version = 0;        // the same (generator, version, seed, parameters) give the same bytes
  std::string xrdbench_version;
  uint64_t seed = 0;
  size_t frames = 0, width = 0, height = 0;
  std::string dtype = "int32";
  std::string layout = "cbf";       // "cbf": files are the frames; "nxmx": files are the NXmx master + data files
  std::vector<FileEntry> files;     // the frames, in order (files.size() == frames); NXmx: the HDF5 files
  FileEntry geometry;               // geometry.poni
  FileEntry mask;                   // mask.cbf
  uint64_t total_bytes = 0;         // sum of the frame files' sizes
  nlohmann::json phases = nlohmann::json::array();
  nlohmann::json parameters = nlohmann::json::object();  // creation parameters
  nlohmann::json statistics = nlohmann::json::object();  // sizes, compression, byte-offset fractions, speed
  nlohmann::json scan = nullptr;    // the sample scan the frames follow (see Scan), or null
};

// An XRD-CT scan: frame i is at rotation i / translations, translation i % translations (rotation-major). In
// manifest.json: "scan": {"layout": "rotation-major", "rotations": R, "translations": T, "rotation_deg": [R values],
// "translation": [T values], "translation_units": "sample radii"}.
struct Scan {
  size_t rotations = 0, translations = 0;
  std::vector<double> rotation_deg, translation;
  std::string translation_units;
};
nlohmann::json to_json(const Scan& s);
// Throws xrd::Error naming `path` and the field when the object is malformed (sizes, types).
Scan scan_from_json(const nlohmann::json& j, const std::string& path = "");

nlohmann::json to_json(const Manifest& m);
// Throws xrd::Error naming `path` and the field when something is missing or of the wrong type.
Manifest from_json(const nlohmann::json& j, const std::string& path = "");

// Writes atomically (a temporary file renamed over the target). Throws xrd::Error naming the file.
void write(const std::filesystem::path& p, const Manifest& m);
Manifest read(const std::filesystem::path& p);

// Checks every listed file (frames, geometry, mask) exists with the listed size and, if check_md5, MD5.
// Returns one line per problem ("frame_00003.cbf: size 12 != 2541234"); empty when all is well.
std::vector<std::string> verify(const std::filesystem::path& dir, const Manifest& m, bool check_md5 = true);

// Hex MD5 of a file's bytes (throws xrd::Error naming the file).
std::string file_md5(const std::filesystem::path& p);

}  // namespace xrd::manifest
