#include "harness/dataset.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "datasets/cbf.hpp"
#include "datasets/image_io.hpp"
#include "datasets/mask.hpp"
#include "datasets/nxmx.hpp"
#include "datasets/poni.hpp"
#include "base/error.hpp"

namespace xrd::harness {

namespace fs = std::filesystem;

std::vector<fs::path> list_frames(const fs::path& dir, const fs::path& mask) {
  std::vector<fs::path> files;
  std::error_code ec;
  const auto mask_abs = mask.empty() ? fs::path() : fs::weakly_canonical(mask, ec);
  for (auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".cbf") continue;
    // A symbolic link counts even when it dangles: the frame is then reported as failed (it cannot be opened)
    // instead of silently vanishing from the dataset.
    if (!e.is_regular_file(ec) && !e.is_symlink(ec)) continue;
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

namespace {

// The frames' shape, read from the headers of the first frames that can be read and parsed (at most
// kShapeVotes of them): the shape most of them have, the earliest on a tie. A single bad frame (unreadable, empty,
// cut, of another detector) then neither aborts the run nor sets the shape: it is skipped here with a note, and
// every run reports it as a failed frame. Throws xrd::Error when no frame at all can be read and parsed.
constexpr size_t kShapeVotes = 5;

void choose_shape(Dataset& ds, bool quiet) {
  std::vector<std::pair<std::pair<size_t, size_t>, size_t>> votes;  // (width, height) -> count, in first-seen order
  std::vector<std::string> bad;
  size_t good = 0;
  frames::EncodedFrame frame;
  for (size_t i = 0; i < ds.source->size() && good < kShapeVotes; ++i) {
    try {
      ds.source->load(i, frame);
      const std::pair<size_t, size_t> shape{frame.width, frame.height};
      auto it = std::find_if(votes.begin(), votes.end(), [&](auto& v) { return v.first == shape; });
      if (it == votes.end())
        votes.push_back({shape, 1});
      else
        ++it->second;
      ++good;
    } catch (const std::exception& e) {
      bad.push_back(e.what());
    }
  }
  if (votes.empty()) {
    std::string first = bad.empty() ? std::string() : "; first: " + bad.front();
    throw Error(ds.dir.string(), "",
                "no good frame: none of the " + std::to_string(ds.source->size()) +
                    " frames could be read and parsed" + first);
  }
  auto best = votes.begin();
  for (auto it = votes.begin(); it != votes.end(); ++it)
    if (it->second > best->second) best = it;
  ds.width = best->first.first;
  ds.height = best->first.second;
  if (quiet) return;
  for (auto& b : bad) std::fprintf(stderr, "warning: %s (the runs will report this frame as failed)\n", b.c_str());
  if (votes.size() > 1)
    std::fprintf(stderr,
                 "warning: the first frames have different shapes; using %zu x %zu (%zu of %zu), frames of another "
                 "shape will be reported as failed\n",
                 ds.width, ds.height, best->second, good);
}

}  // namespace

DatasetInfo Dataset::info() const {
  DatasetInfo d;
  d.path = dir.string();
  d.frames = frames();
  d.format = format;
  d.codec = frames::to_string(codec);
  d.element = byte_offset::to_string(element);
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
    if (!image_io::exists(ds.mask.string())) throw Error(ds.mask.string(), "", "the mask file does not exist");
  } else if (fs::exists(ds.dir / "mask.cbf")) {
    ds.mask = ds.dir / "mask.cbf";
  }
  if (nxmx_files.empty()) ds.files = list_frames(ds.dir, ds.mask);
  if (ds.files.empty() && nxmx_files.empty()) nxmx_files = list_nxmx(ds.dir);
  std::vector<uint8_t> pixel_mask;
  if (!nxmx_files.empty()) {
    // NXmx: frames are chunks of the master's data files, their shape and type the datasets'; the pixel_mask is
    // the mask unless one is given.
    auto src = std::make_shared<frames::Hdf5FrameSource>(nxmx_files, opt.max_frames);
    ds.files = src->files();
    for (auto& f : ds.files) ds.bytes += fs::file_size(f);
    ds.format = "nxmx";
    ds.codec = frames::Codec::bitshuffle_lz4;
    ds.element = src->element();
    ds.width = src->width();
    ds.height = src->height();
    if (ds.mask.empty()) {
      pixel_mask = src->pixel_mask();
      if (!pixel_mask.empty()) ds.mask = nxmx_files.front();
    }
    ds.source = std::move(src);
  } else {
    if (ds.files.empty())
      throw Error(ds.dir.string(), "", "no CBF frames (*.cbf) and no NXmx files (*_master.h5, *.h5) in the folder");
    if (opt.max_frames > 0 && ds.files.size() > opt.max_frames) ds.files.resize(opt.max_frames);
    for (auto& f : ds.files) {
      std::error_code ec;
      const auto n = fs::file_size(f, ec);  // a frame that cannot be read now is reported by the runs, not here
      if (!ec) ds.bytes += n;
    }
    ds.source = std::make_shared<frames::CbfFileSource>(ds.files);
    choose_shape(ds, opt.quiet);
    try {  // the stored type, for results.json (a bad first frame leaves the default)
      frames::EncodedFrame first;
      ds.source->load(0, first);
      ds.element = first.element;
    } catch (const std::exception&) {
    }
  }

  if (fs::exists(ds.dir / "manifest.json")) {
    std::ifstream in(ds.dir / "manifest.json");
    try {
      ds.manifest = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
      throw Error((ds.dir / "manifest.json").string(), "", std::string("not valid JSON: ") + e.what());
    }
  }

  const integration::Geometry g = poni::read(ds.poni);
  std::vector<uint8_t> mask = std::move(pixel_mask);
  if (!ds.mask.empty() && mask.empty()) mask = mask::read(ds.mask, ds.width, ds.height);
  std::vector<float> dark, flat;
  if (opt.dark) ds.dark = *opt.dark, dark = image_io::read_float(ds.dark, ds.width, ds.height, "the dark image");
  if (opt.flat) ds.flat = *opt.flat, flat = image_io::read_float(ds.flat, ds.width, ds.height, "the flat image");
  ds.integration = opt.integration;
  try {
    ds.setup = integration::build_setup(g, mask, ds.width, ds.height, opt.integration, dark, flat, opt.threads);
  } catch (const std::invalid_argument& e) {
    throw Error(ds.poni.string(), "", std::string("cannot build the integration matrix: ") + e.what());
  }
  return ds;
}

}  // namespace xrd::harness
