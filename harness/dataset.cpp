#include "harness/dataset.hpp"

#include <algorithm>
#include <fstream>

#include "datasets/cbf.hpp"
#include "datasets/image_io.hpp"
#include "datasets/mask.hpp"
#include "datasets/poni.hpp"
#include "kernels/error.hpp"

namespace xrd::harness {

namespace fs = std::filesystem;

std::vector<fs::path> list_frames(const fs::path& dir, const fs::path& mask) {
  std::vector<fs::path> files;
  std::error_code ec;
  const auto mask_abs = mask.empty() ? fs::path() : fs::weakly_canonical(mask, ec);
  for (auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() != ".cbf") continue;
    if (e.path().filename() == "mask.cbf") continue;
    if (!mask_abs.empty() && fs::weakly_canonical(e.path(), ec) == mask_abs) continue;
    files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

DatasetInfo Dataset::info() const {
  DatasetInfo d;
  d.path = dir.string();
  d.frames = files.size();
  d.bytes = bytes;
  d.width = width;
  d.height = height;
  d.manifest = manifest;
  return d;
}

Dataset load_dataset(const DatasetOptions& opt) {
  Dataset ds;
  ds.dir = opt.dir;
  if (!fs::is_directory(ds.dir)) throw Error(ds.dir.string(), "", "not a folder (expected a folder of CBF frames)");
  ds.poni = opt.poni ? *opt.poni : ds.dir / "geometry.poni";
  if (!fs::exists(ds.poni))
    throw Error(ds.dir.string(), "",
                opt.poni ? "the geometry " + ds.poni.string() + " does not exist"
                         : "no geometry.poni in the folder: give the geometry with --poni FILE (a pyFAI PONI file)");
  if (opt.mask) {
    ds.mask = *opt.mask;
    if (!image_io::exists(ds.mask.string())) throw Error(ds.mask.string(), "", "the mask file does not exist");
  } else if (fs::exists(ds.dir / "mask.cbf")) {
    ds.mask = ds.dir / "mask.cbf";
  }
  ds.files = list_frames(ds.dir, ds.mask);
  if (ds.files.empty()) throw Error(ds.dir.string(), "", "no CBF frames (*.cbf) in the folder");
  if (opt.max_frames > 0 && ds.files.size() > opt.max_frames) ds.files.resize(opt.max_frames);
  for (auto& f : ds.files) ds.bytes += fs::file_size(f);
  ds.source = std::make_shared<frames::CbfFileSource>(ds.files);

  // The shape comes from the first frame's header.
  frames::EncodedFrame first;
  ds.source->load(0, first);
  ds.width = first.width;
  ds.height = first.height;

  if (fs::exists(ds.dir / "manifest.json")) {
    std::ifstream in(ds.dir / "manifest.json");
    try {
      ds.manifest = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
      throw Error((ds.dir / "manifest.json").string(), "", std::string("not valid JSON: ") + e.what());
    }
  }

  const integ::Geometry g = poni::read(ds.poni);
  std::vector<uint8_t> mask;
  if (!ds.mask.empty()) mask = mask::read(ds.mask, ds.width, ds.height);
  ds.integration = opt.integration;
  try {
    ds.setup = integ::build_setup(g, mask, ds.width, ds.height, opt.integration, {}, {}, opt.threads);
  } catch (const std::invalid_argument& e) {
    throw Error(ds.poni.string(), "", std::string("cannot build the integration matrix: ") + e.what());
  }
  return ds;
}

}  // namespace xrd::harness
