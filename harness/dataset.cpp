#include "harness/dataset.hpp"

#include <algorithm>
#include <fstream>

#include "datasets/cbf.hpp"
#include "datasets/mask.hpp"
#include "datasets/nxmx.hpp"
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

std::vector<fs::path> list_nxmx(const fs::path& dir) {
  std::vector<fs::path> masters, singles;
  for (auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() != ".h5") continue;
    const std::string stem = e.path().stem().string();
    const auto data = stem.rfind("_data_");
    if (stem.size() > 7 && stem.ends_with("_master"))
      masters.push_back(e.path());
    else if (!(data != std::string::npos && stem.size() - data == 12 &&
               stem.find_first_not_of("0123456789", data + 6) == std::string::npos))
      singles.push_back(e.path());
  }
  auto& files = masters.empty() ? singles : masters;
  std::sort(files.begin(), files.end());
  return files;
}

DatasetInfo Dataset::info() const {
  DatasetInfo d;
  d.path = dir.string();
  d.frames = frames();
  d.format = format;
  d.codec = frames::to_string(codec);
  d.element = bo::to_string(element);
  d.bytes = bytes;
  d.width = width;
  d.height = height;
  d.manifest = manifest;
  return d;
}

Dataset load_dataset(const DatasetOptions& opt) {
  Dataset ds;
  ds.dir = opt.dir;
  // An NXmx master (or single) file given by its path: the folder around it holds geometry.poni and the rest.
  std::vector<fs::path> nxmx_files;
  if (fs::is_regular_file(ds.dir)) {
    if (!nxmx::is_hdf5(ds.dir))
      throw Error(ds.dir.string(), "", "not a folder and not an HDF5 file (expected a folder of CBF frames or of "
                                       "NXmx files, or an NXmx master file)");
    nxmx_files.push_back(ds.dir);
    ds.dir = ds.dir.parent_path().empty() ? fs::path(".") : ds.dir.parent_path();
  }
  if (!fs::is_directory(ds.dir))
    throw Error(ds.dir.string(), "", "not a folder (expected a folder of CBF frames or NXmx files, or a master file)");
  ds.poni = opt.poni ? *opt.poni : ds.dir / "geometry.poni";
  if (!fs::exists(ds.poni))
    throw Error(ds.dir.string(), "",
                opt.poni ? "the geometry " + ds.poni.string() + " does not exist"
                         : "no geometry.poni in the folder: give the geometry with --poni FILE (a pyFAI PONI file)");
  if (opt.mask) {
    ds.mask = *opt.mask;
    if (!fs::exists(ds.mask)) throw Error(ds.mask.string(), "", "the mask file does not exist");
  } else if (fs::exists(ds.dir / "mask.cbf")) {
    ds.mask = ds.dir / "mask.cbf";
  }
  if (nxmx_files.empty()) ds.files = list_frames(ds.dir, ds.mask);
  if (ds.files.empty() && nxmx_files.empty()) nxmx_files = list_nxmx(ds.dir);
  std::vector<uint8_t> pixel_mask;
  if (!nxmx_files.empty()) {
    // NXmx: frames are chunks of the master's data files; the pixel_mask is the mask unless one is given.
    auto src = std::make_shared<frames::Hdf5FrameSource>(nxmx_files, opt.max_frames);
    ds.files = src->files();
    for (auto& f : ds.files) ds.bytes += fs::file_size(f);
    ds.format = "nxmx";
    if (ds.mask.empty()) {
      pixel_mask = src->pixel_mask();
      if (!pixel_mask.empty()) ds.mask = nxmx_files.front();
    }
    ds.source = std::move(src);
  } else {
    if (ds.files.empty())
      throw Error(ds.dir.string(), "", "no CBF frames (*.cbf) and no NXmx files (*_master.h5, *.h5) in the folder");
    if (opt.max_frames > 0 && ds.files.size() > opt.max_frames) ds.files.resize(opt.max_frames);
    for (auto& f : ds.files) ds.bytes += fs::file_size(f);
    ds.source = std::make_shared<frames::CbfFileSource>(ds.files);
  }

  // The shape, codec and element type come from the first frame.
  frames::EncodedFrame first;
  ds.source->load(0, first);
  ds.width = first.width;
  ds.height = first.height;
  ds.codec = first.codec;
  ds.element = first.element;

  if (fs::exists(ds.dir / "manifest.json")) {
    std::ifstream in(ds.dir / "manifest.json");
    try {
      ds.manifest = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
      throw Error((ds.dir / "manifest.json").string(), "", std::string("not valid JSON: ") + e.what());
    }
  }

  const integ::Geometry g = poni::read(ds.poni);
  std::vector<uint8_t> mask = std::move(pixel_mask);
  if (!ds.mask.empty() && mask.empty()) mask = mask::read(ds.mask, ds.width, ds.height);
  ds.integration = opt.integration;
  try {
    ds.setup = integ::build_setup(g, mask, ds.width, ds.height, opt.integration, {}, {}, opt.threads);
  } catch (const std::invalid_argument& e) {
    throw Error(ds.poni.string(), "", std::string("cannot build the integration matrix: ") + e.what());
  }
  return ds;
}

}  // namespace xrd::harness
