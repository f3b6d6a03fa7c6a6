// NeXus writer and reader on the HDF5 C API (see h5_writer.hpp).
#include "harness/h5_writer.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "base/error.hpp"
#include "datasets/hdf5.hpp"

namespace xrd::h5 {

std::string nexus_unit(const std::string& u) {
  if (u == "q_nm^-1") return "1/nm";
  if (u == "q_A^-1") return "1/angstrom";
  if (u == "2th_deg") return "deg";
  if (u == "2th_rad") return "rad";
  if (u == "r_mm") return "mm";
  return u;
}

std::string radial_long_name(const std::string& u) {
  const std::string quantity = u.rfind("2th", 0) == 0 ? "2theta" : u.rfind("q_", 0) == 0 ? "q" : u.rfind("r_", 0) == 0 ? "r" : "radial";
  return quantity + " (" + nexus_unit(u) + ")";
}

namespace {

// A file whose close failed (disk full) stays half-closed in HDF5 1.10's tables, and the library's exit handler
// (H5_term_library, registered at its first call) then crashes on it (SIGSEGV in H5F__close_cb, after our clear
// error). Every file we open is closed by us (RAII), so the handler has nothing to do: turned off before the first
// HDF5 call, by this static initializer.
[[maybe_unused]] const bool kNoExitHandler = [] {
  H5dont_atexit();
  return true;
}();

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

struct NxWriter::Impl {
  std::string path;
  NxLayout layout;
  size_t bins = 0;
  hid_t file = -1, entry = -1, data = -1, intensity = -1, sigma = -1, count = -1, valid = -1, sources = -1;
  hid_t row_space = -1;      // memory space of one row (1 x bins)
  hid_t one_space = -1;      // memory space of one value
  hid_t string_type = -1;    // variable-length UTF-8 string
  std::vector<float> row32;  // float32 conversion buffer (one row, allocated once)
  std::vector<float> block32;  // float32 conversion buffer of write_rows (grows to the largest run)
  std::vector<double> chunk64;  // a whole chunk of float64 rows (write_whole_chunk)
  std::mutex mutex;
  bool closed = false;

  [[noreturn]] void fail(const std::string& where, const std::string& what = "") {
    const int e = errno;
    throw Error(path, where, what.empty() ? hdf5::last_message(e) : what);
  }
  template <class T>
  T check(T id, const std::string& where) {
    if (id < 0) fail(where);
    return id;
  }

  // Variable-length UTF-8 strings, as h5py writes them (read back as str, not bytes).
  void attr_string(hid_t obj, const char* name, const std::string& value) {
    const char* ptr = value.c_str();
    const hdf5::Id sp(H5Screate(H5S_SCALAR));
    const hdf5::Id a(H5Acreate2(obj, name, string_type, sp.get(), H5P_DEFAULT, H5P_DEFAULT));
    if (!a.ok() || H5Awrite(a.get(), string_type, &ptr) < 0) fail("attribute " + std::string(name));
  }
  void attr_strings(hid_t obj, const char* name, const std::vector<std::string>& values) {
    std::vector<const char*> ptrs;
    for (auto& v : values) ptrs.push_back(v.c_str());
    const hsize_t n = values.size();
    const hdf5::Id s(H5Screate_simple(1, &n, nullptr));
    const hdf5::Id a(H5Acreate2(obj, name, string_type, s.get(), H5P_DEFAULT, H5P_DEFAULT));
    if (!a.ok() || H5Awrite(a.get(), string_type, ptrs.data()) < 0) fail("attribute " + std::string(name));
  }
  void attr_int(hid_t obj, const char* name, int value) {
    const hdf5::Id s(H5Screate(H5S_SCALAR));
    const hdf5::Id a(H5Acreate2(obj, name, H5T_NATIVE_INT, s.get(), H5P_DEFAULT, H5P_DEFAULT));
    if (!a.ok() || H5Awrite(a.get(), H5T_NATIVE_INT, &value) < 0) fail("attribute " + std::string(name));
  }
  hid_t group(hid_t parent, const std::string& name, const char* nx_class) {
    const hid_t g =
        check(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "group " + name);
    attr_string(g, "NX_class", nx_class);
    return g;
  }
  // A scalar variable-length string dataset.
  void string_field(hid_t parent, const std::string& name, const std::string& value) {
    const char* ptr = value.c_str();
    const hdf5::Id s(H5Screate(H5S_SCALAR));
    const hdf5::Id d(H5Dcreate2(parent, name.c_str(), string_type, s.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if (!d.ok() || H5Dwrite(d.get(), string_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &ptr) < 0) fail("dataset " + name);
  }
  void number_field(hid_t parent, const std::string& name, double value) {
    const hdf5::Id s(H5Screate(H5S_SCALAR));
    const hdf5::Id d(H5Dcreate2(parent, name.c_str(), H5T_IEEE_F64LE, s.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if (!d.ok() || H5Dwrite(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value) < 0) fail("dataset " + name);
  }
  hid_t vector_field(hid_t parent, const std::string& name, const std::vector<double>& v) {
    const hsize_t n = v.size();
    const hdf5::Id s(H5Screate_simple(1, &n, nullptr));
    const hid_t d = check(H5Dcreate2(parent, name.c_str(), H5T_IEEE_F64LE, s.get(), H5P_DEFAULT, H5P_DEFAULT,
                                     H5P_DEFAULT),
                          "dataset " + name);
    if (n && H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0) fail("dataset " + name);
    return d;
  }

  // The frame dimensions of the signal: {frames} or {rotations, translations}.
  std::vector<hsize_t> frame_dims() const {
    if (layout.scan.active()) return {layout.scan.rotations, layout.scan.translations};
    return {layout.frames};
  }
  // The signal's shape: frame_dims + bins, filled with `fill`; a chunk holds kChunkFrames consecutive frames (of one
  // row of a scan): one chunk per frame made every write an HDF5 chunk lookup and insert per frame and dataset, and a
  // run of frames as many chunks (BM_NxWriterPerRow / BM_NxWriterRuns in harness/bench_h5sink.cpp).
  static constexpr hsize_t kChunkFrames = 32;
  // The last frame dimension (frames, or a scan row's translations) and a chunk's length along it.
  size_t row_frames() const { return layout.scan.active() ? layout.scan.translations : layout.frames; }
  size_t chunk_frames() const { return std::max<size_t>(1, std::min<size_t>(kChunkFrames, row_frames())); }
  // The frames stored in the chunk that holds `frame`: {first, count} (NxWriter::chunk_of).
  std::pair<size_t, size_t> chunk_of(size_t frame) const {
    const size_t c = chunk_frames();
    const size_t row_len = row_frames();
    const size_t row_start = layout.scan.active() ? frame / row_len * row_len : 0;
    const size_t first_in_row = (frame - row_start) / c * c;
    return {row_start + first_in_row, first_in_row < row_len ? std::min(c, row_len - first_in_row) : 1};
  }
  hid_t frame_dataset(const char* name, hid_t type, bool with_bins, double fill) {
    std::vector<hsize_t> dims = frame_dims(), chunk(dims.size(), 1);
    chunk.back() = chunk_frames();
    if (with_bins) dims.push_back(bins), chunk.push_back(bins ? bins : 1);
    bool empty = false;
    for (auto d : dims) empty |= d == 0;
    const hdf5::Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
    const hdf5::Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
    if (!empty && with_bins) H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
    H5Pset_fill_value(dcpl.get(), H5T_NATIVE_DOUBLE, &fill);
    return check(H5Dcreate2(data, name, type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT), std::string("dataset ") + name);
  }

  void write_process() {
    const ProcessInfo& p = layout.process;
    const hid_t proc = group(entry, "process", "NXprocess");
    string_field(proc, "program", p.program);
    string_field(proc, "version", p.version.empty() ? std::string("unknown") : p.version);
    string_field(proc, "date", p.date.empty() ? now_iso8601() : p.date);
    const hid_t par = group(proc, "reduction", "NXparameters");
    // NXprocess has no commit field (nxcheck warns): the source commit goes with the parameters.
    if (!p.commit.empty()) string_field(par, "commit", p.commit);
    string_field(par, "radial_unit", nexus_unit(layout.radial_unit));
    string_field(par, "pyfai_unit", layout.radial_unit);
    number_field(par, "bins", static_cast<double>(bins));
    for (auto& [k, v] : p.text) string_field(par, k, v);
    for (auto& [k, v] : p.numbers) number_field(par, k, v);
    H5Gclose(par);
    if (!p.poni_text.empty()) {
      const hid_t note = group(proc, "geometry", "NXnote");
      string_field(note, "type", "text/plain");
      string_field(note, "description", "pyFAI PONI geometry used for the integration");
      if (!p.poni_file.empty()) string_field(note, "file_name", p.poni_file);
      string_field(note, "data", p.poni_text);
      H5Gclose(note);
    }
    H5Gclose(proc);
  }

  void open(const std::filesystem::path& p) {
    hdf5::Quiet quiet;
    const ScanLayout& scan = layout.scan;
    if (scan.active() && layout.frames > scan.rotations * scan.translations)
      fail("", std::to_string(layout.frames) + " frames do not fit a scan of " + std::to_string(scan.rotations) +
                   " rotations x " + std::to_string(scan.translations) + " translations");
    if (scan.active() && !scan.rotation.empty() && scan.rotation.size() != scan.rotations)
      fail("", "the scan has " + std::to_string(scan.rotations) + " rotations but " +
                   std::to_string(scan.rotation.size()) + " rotation values");
    if (scan.active() && !scan.translation.empty() && scan.translation.size() != scan.translations)
      fail("", "the scan has " + std::to_string(scan.translations) + " translations but " +
                   std::to_string(scan.translation.size()) + " translation values");
    // A previous file of that name (the last run's) is unlinked, not truncated: on ext4, truncating a file to zero
    // makes its close start writing it back (auto_da_alloc), and truncating one whose pages are being written back
    // waits for the disk; a run that rewrites its sinogram every repeat paid that in its wall time (the sink
    // benchmark on the 2-core VM: 32-34 -> 12.6 ms per 1202-pattern file, BM_NxWriterRuns/256). Only a regular file:
    // a symbolic link's target is still truncated, as before.
    std::error_code ec;
    if (std::filesystem::is_regular_file(std::filesystem::symlink_status(p, ec))) std::filesystem::remove(p, ec);
    errno = 0;
    file = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) fail("", "cannot create the HDF5 file (" + hdf5::last_message(errno) + ")");
    string_type = check(H5Tcopy(H5T_C_S1), "string type");
    H5Tset_size(string_type, H5T_VARIABLE);
    H5Tset_cset(string_type, H5T_CSET_UTF8);

    attr_string(file, "default", layout.entry);
    attr_string(file, "creator", layout.program);
    attr_string(file, "NX_class", "NXroot");
    entry = group(file, layout.entry, "NXentry");
    attr_string(entry, "default", layout.data);
    string_field(entry, "program_name", layout.program);
    string_field(entry, "start_time", layout.process.date.empty() ? now_iso8601() : layout.process.date);
    write_process();

    data = group(entry, layout.data, "NXdata");
    attr_string(data, "signal", "intensity");
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const hid_t ftype = layout.float64 ? H5T_IEEE_F64LE : H5T_IEEE_F32LE;
    if (scan.active()) {
      attr_strings(data, "axes", {"rotation", "translation", "radial"});
      attr_int(data, "rotation_indices", 0);
      attr_int(data, "translation_indices", 1);
      attr_int(data, "radial_indices", 2);
    } else {
      attr_strings(data, "axes", {".", "radial"});
      attr_int(data, "radial_indices", 1);
    }

    intensity = frame_dataset("intensity", ftype, true, nan);
    attr_string(intensity, "interpretation", "spectrum");
    attr_string(intensity, "long_name", "intensity");
    if (layout.with_sigma) {
      sigma = frame_dataset("sigma", ftype, true, nan);
      if (H5Lcreate_hard(data, "sigma", data, "intensity_errors", H5P_DEFAULT, H5P_DEFAULT) < 0)
        fail("intensity_errors");
    }
    count = frame_dataset("count", ftype, true, nan);
    attr_string(count, "long_name", "pixels per bin (sum of split fractions)");
    valid = frame_dataset("valid", H5T_STD_U8LE, false, 0);
    attr_string(valid, "long_name", "1: the frame's pattern is written; 0: failed or not reached (rows NaN)");
    {
      const hid_t d = vector_field(data, "radial", layout.radial);
      attr_string(d, "units", nexus_unit(layout.radial_unit));
      attr_string(d, "pyfai_unit", layout.radial_unit);
      attr_string(d, "long_name", radial_long_name(layout.radial_unit));
      H5Dclose(d);
    }
    if (scan.active()) {
      auto axis = [&](const char* name, size_t n, const std::vector<double>& values, const std::string& units,
                      const std::string& label) {
        std::vector<double> v = values;
        if (v.empty())
          for (size_t i = 0; i < n; ++i) v.push_back(static_cast<double>(i));
        const hid_t d = vector_field(data, name, v);
        if (!values.empty() && !units.empty()) attr_string(d, "units", units);
        attr_string(d, "long_name", !label.empty() ? label
                                    : values.empty() ? std::string(name) + " (index)"
                                                     : std::string(name) + (units.empty() ? "" : " (" + units + ")"));
        H5Dclose(d);
      };
      axis("rotation", scan.rotations, scan.rotation, scan.rotation_units, scan.rotation_label);
      axis("translation", scan.translations, scan.translation, scan.translation_units, scan.translation_label);
    }
    {
      const hsize_t n = layout.frames;
      const hdf5::Id s(H5Screate_simple(1, &n, nullptr));
      sources = check(H5Dcreate2(data, "source_files", string_type, s.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                      "dataset source_files");
      if (!layout.source_files.empty()) {
        if (layout.source_files.size() != layout.frames)
          fail("dataset source_files", "source_files has " + std::to_string(layout.source_files.size()) +
                                           " names for " + std::to_string(layout.frames) + " frames");
        std::vector<const char*> ptrs;
        for (auto& v : layout.source_files) ptrs.push_back(v.c_str());
        if (layout.frames && H5Dwrite(sources, string_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
          fail("dataset source_files");
      }
    }
    const hsize_t row[1] = {bins};
    row_space = H5Screate_simple(1, row, nullptr);
    const hsize_t one = 1;
    one_space = H5Screate_simple(1, &one, nullptr);
    if (!layout.float64) row32.resize(bins);
    // The skeleton reaches the disk now: a file cut short later (killed) still has its structure.
    if (H5Fflush(file, H5F_SCOPE_LOCAL) < 0) fail("", "flush failed (" + hdf5::last_message(errno) + ")");
  }

  // Selects frame `frame`'s row (or value, with_bins false) in dataset d's file space.
  hid_t select(hid_t d, size_t frame, bool with_bins) {
    const hid_t fspace = H5Dget_space(d);
    std::vector<hsize_t> start, cnt;
    if (layout.scan.active()) {
      start = {frame / layout.scan.translations, frame % layout.scan.translations};
      cnt = {1, 1};
    } else {
      start = {frame};
      cnt = {1};
    }
    if (with_bins) start.push_back(0), cnt.push_back(bins);
    if (H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr) < 0) {
      H5Sclose(fspace);
      return -1;
    }
    return fspace;
  }

  void write_row(hid_t d, const char* name, size_t frame, std::span<const double> values) {
    errno = 0;
    const hid_t fspace = select(d, frame, true);
    herr_t st = fspace < 0 ? -1 : 0;
    if (st >= 0) {
      if (layout.float64) {
        st = H5Dwrite(d, H5T_NATIVE_DOUBLE, row_space, fspace, H5P_DEFAULT, values.data());
      } else {
        for (size_t i = 0; i < bins; ++i) row32[i] = static_cast<float>(values[i]);
        st = H5Dwrite(d, H5T_NATIVE_FLOAT, row_space, fspace, H5P_DEFAULT, row32.data());
      }
    }
    if (fspace >= 0) H5Sclose(fspace);
    if (st < 0) fail(std::string("dataset ") + name + " row " + std::to_string(frame));
  }
  // Rows first .. first+k-1, inside one row of the scan (or of a plain frame list), from `values` (k x bins).
  void write_run(hid_t d, const char* name, size_t first, size_t k, std::span<const double> values) {
    errno = 0;
    const hid_t fspace = H5Dget_space(d);
    std::vector<hsize_t> start, cnt;
    if (layout.scan.active()) {
      start = {first / layout.scan.translations, first % layout.scan.translations, 0};
      cnt = {1, k, bins};
    } else {
      start = {first, 0};
      cnt = {k, bins};
    }
    const hsize_t mem = k * bins;
    if (write_whole_chunk(d, first, k, values)) {
      if (fspace >= 0) H5Sclose(fspace);
      return;
    }
    // The memory space has the selection's shape (a 1-D one of the same size takes HDF5's general, slower path).
    const hid_t mspace = H5Screate_simple(static_cast<int>(cnt.size()), cnt.data(), nullptr);
    herr_t st = fspace < 0 || mspace < 0 ? -1 : H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr,
                                                                     cnt.data(), nullptr);
    if (st >= 0) {
      if (layout.float64) {
        st = H5Dwrite(d, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, values.data());
      } else {
        block32.resize(mem);
        for (size_t i = 0; i < mem; ++i) block32[i] = static_cast<float>(values[i]);
        st = H5Dwrite(d, H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, block32.data());
      }
    }
    if (mspace >= 0) H5Sclose(mspace);
    if (fspace >= 0) H5Sclose(fspace);
    if (st < 0) fail(std::string("dataset ") + name + " rows " + std::to_string(first) + ".." + std::to_string(first + k - 1));
  }
  // A run that is exactly one file chunk's frames goes to the file as the chunk's bytes (H5Dwrite_chunk: no filter, so
  // the rows as stored, in the file's type), past HDF5's chunk cache and its copies: the write-behind sink collects
  // whole chunks (BM_H5FileSink). Rows of an edge chunk beyond the dataset are padded with NaN. False (nothing
  // written) for any other run, which takes H5Dwrite's path.
  bool write_whole_chunk(hid_t d, size_t first, size_t k, std::span<const double> values) {
    if (!bins || chunk_of(first) != std::pair<size_t, size_t>{first, k}) return false;
    std::vector<hsize_t> offset;
    if (layout.scan.active())
      offset = {first / layout.scan.translations, first % layout.scan.translations, 0};
    else
      offset = {first, 0};
    const size_t n = chunk_frames() * bins;
    const void* buf = nullptr;
    size_t bytes = 0;
    if (layout.float64) {
      chunk64.assign(values.begin(), values.begin() + static_cast<ptrdiff_t>(k * bins));
      chunk64.resize(n, std::numeric_limits<double>::quiet_NaN());
      buf = chunk64.data(), bytes = n * sizeof(double);
    } else {
      block32.resize(n);
      for (size_t i = 0; i < k * bins; ++i) block32[i] = static_cast<float>(values[i]);
      std::fill(block32.begin() + static_cast<ptrdiff_t>(k * bins), block32.end(),
                std::numeric_limits<float>::quiet_NaN());
      buf = block32.data(), bytes = n * sizeof(float);
    }
    errno = 0;
    if (H5Dwrite_chunk(d, H5P_DEFAULT, 0, offset.data(), bytes, buf) < 0) return false;  // H5Dwrite's path says why
    return true;
  }
  void mark_valid_run(size_t first, size_t k) {
    errno = 0;
    const hid_t fspace = H5Dget_space(valid);
    std::vector<hsize_t> start, cnt;
    if (layout.scan.active()) {
      start = {first / layout.scan.translations, first % layout.scan.translations};
      cnt = {1, k};
    } else {
      start = {first};
      cnt = {k};
    }
    const hid_t mspace = H5Screate_simple(static_cast<int>(cnt.size()), cnt.data(), nullptr);
    const std::vector<uint8_t> ones(k, 1);
    herr_t st = fspace < 0 || mspace < 0 ? -1 : H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr,
                                                                     cnt.data(), nullptr);
    if (st >= 0) st = H5Dwrite(valid, H5T_NATIVE_UINT8, mspace, fspace, H5P_DEFAULT, ones.data());
    if (mspace >= 0) H5Sclose(mspace);
    if (fspace >= 0) H5Sclose(fspace);
    if (st < 0) fail("dataset valid rows " + std::to_string(first) + ".." + std::to_string(first + k - 1));
  }
  void mark_valid(size_t frame) {
    errno = 0;
    const hid_t fspace = select(valid, frame, false);
    const uint8_t one = 1;
    herr_t st = fspace < 0 ? -1 : H5Dwrite(valid, H5T_NATIVE_UINT8, one_space, fspace, H5P_DEFAULT, &one);
    if (fspace >= 0) H5Sclose(fspace);
    if (st < 0) fail("dataset valid row " + std::to_string(frame));
  }

  void close_all() {
    for (hid_t* id : {&intensity, &sigma, &count, &valid, &sources})
      if (*id >= 0) H5Dclose(*id), *id = -1;
    for (hid_t* id : {&data, &entry})
      if (*id >= 0) H5Gclose(*id), *id = -1;
    for (hid_t* id : {&row_space, &one_space})
      if (*id >= 0) H5Sclose(*id), *id = -1;
    if (string_type >= 0) H5Tclose(string_type), string_type = -1;
  }

  // Closes the file; on failure (disk full) every object still open in it is closed too, so that nothing is left
  // for HDF5's exit handler. Returns the error text, empty on success.
  std::string close_file() {
    if (file < 0) return "";
    errno = 0;
    const herr_t st = H5Fclose(file);
    const int e = errno;
    std::string why;
    if (st < 0) {
      why = hdf5::last_message(e);
      // HDF5 1.10 keeps the half-closed file in its tables; closing it again crashes (H5F__close), so it is left
      // there, and the library's exit handler, which would close it too, is turned off (kNoExitHandler, above).
    }
    file = -1;
    return why;
  }
};

NxWriter::NxWriter(const std::filesystem::path& path, const NxLayout& layout)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = path.string();
  impl_->layout = layout;
  impl_->bins = layout.radial.size();
  try {
    impl_->open(path);
  } catch (...) {
    hdf5::Quiet quiet;
    impl_->close_all();
    impl_->close_file();
    impl_->closed = true;
    throw;
  }
}

NxWriter::~NxWriter() {
  if (!impl_ || impl_->closed) return;
  try {
    close();
  } catch (...) {
  }
}

size_t NxWriter::frames() const { return impl_->layout.frames; }
size_t NxWriter::bins() const { return impl_->bins; }

std::pair<size_t, size_t> NxWriter::chunk_of(size_t frame) const { return impl_->chunk_of(frame); }
const std::string& NxWriter::path() const { return impl_->path; }

void NxWriter::write(size_t frame, std::span<const double> intensity, std::span<const double> sigma,
                     std::span<const double> count) {
  Impl& m = *impl_;
  std::lock_guard lock(m.mutex);
  if (m.closed) throw Error(m.path, "", "write after close");
  if (frame >= m.layout.frames)
    throw Error(m.path, "dataset intensity",
                "frame " + std::to_string(frame) + " is out of range (" + std::to_string(m.layout.frames) +
                    " frames)");
  if (intensity.size() != m.bins)
    throw Error(
        m.path, "dataset intensity",
        "pattern has " + std::to_string(intensity.size()) + " bins, the file " + std::to_string(m.bins));
  if (!sigma.empty() && sigma.size() != m.bins)
    throw Error(m.path, "dataset sigma",
                "sigma has " + std::to_string(sigma.size()) + " bins, the file " + std::to_string(m.bins));
  if (!count.empty() && count.size() != m.bins)
    throw Error(m.path, "dataset count",
                "count has " + std::to_string(count.size()) + " bins, the file " + std::to_string(m.bins));
  hdf5::Quiet quiet;
  m.write_row(m.intensity, "intensity", frame, intensity);
  if (m.sigma >= 0 && !sigma.empty()) m.write_row(m.sigma, "sigma", frame, sigma);
  if (!count.empty()) m.write_row(m.count, "count", frame, count);
  m.mark_valid(frame);
}

void NxWriter::write_rows(size_t first, size_t n, std::span<const double> intensity, std::span<const double> sigma,
                          std::span<const double> count) {
  Impl& m = *impl_;
  std::lock_guard lock(m.mutex);
  if (m.closed) throw Error(m.path, "", "write after close");
  if (n == 0) return;
  if (first + n > m.layout.frames || first + n < first)
    throw Error(m.path, "dataset intensity",
                "frames " + std::to_string(first) + ".." + std::to_string(first + n - 1) + " are out of range (" +
                    std::to_string(m.layout.frames) + " frames)");
  const size_t values = n * m.bins;
  if (intensity.size() != values)
    throw Error(m.path, "dataset intensity",
                std::to_string(n) + " patterns have " + std::to_string(intensity.size()) + " values, the file " +
                    std::to_string(values) + " (" + std::to_string(m.bins) + " bins)");
  if (!sigma.empty() && sigma.size() != values)
    throw Error(m.path, "dataset sigma", "sigma has " + std::to_string(sigma.size()) + " values, expected " +
                                             std::to_string(values));
  if (!count.empty() && count.size() != values)
    throw Error(m.path, "dataset count", "count has " + std::to_string(count.size()) + " values, expected " +
                                             std::to_string(values));
  hdf5::Quiet quiet;
  // A raster scan's rows are hyperslabs of their own: the run is cut where a row of the scan ends.
  const size_t row = m.layout.scan.active() ? m.layout.scan.translations : m.layout.frames;
  for (size_t done = 0; done < n;) {
    const size_t at = first + done;
    const size_t k = std::min(n - done, row - at % row);
    const size_t off = done * m.bins, len = k * m.bins;
    m.write_run(m.intensity, "intensity", at, k, intensity.subspan(off, len));
    if (m.sigma >= 0 && !sigma.empty()) m.write_run(m.sigma, "sigma", at, k, sigma.subspan(off, len));
    if (!count.empty()) m.write_run(m.count, "count", at, k, count.subspan(off, len));
    m.mark_valid_run(at, k);
    done += k;
  }
}

void NxWriter::set_source(size_t frame, const std::string& name) {
  Impl& m = *impl_;
  std::lock_guard lock(m.mutex);
  if (m.closed) throw Error(m.path, "", "write after close");
  if (frame >= m.layout.frames)
    throw Error(m.path, "dataset source_files", "frame " + std::to_string(frame) + " is out of range");
  hdf5::Quiet quiet;
  const hdf5::Id fspace(H5Dget_space(m.sources));
  const hsize_t start = frame, count = 1;
  const char* ptr = name.c_str();
  herr_t st = H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr);
  if (st >= 0) st = H5Dwrite(m.sources, m.string_type, m.one_space, fspace.get(), H5P_DEFAULT, &ptr);
  if (st < 0) m.fail("dataset source_files row " + std::to_string(frame));
}

void NxWriter::flush() {
  Impl& m = *impl_;
  std::lock_guard lock(m.mutex);
  if (m.closed) throw Error(m.path, "", "flush after close");
  hdf5::Quiet quiet;
  errno = 0;
  if (H5Fflush(m.file, H5F_SCOPE_LOCAL) < 0) m.fail("", "flush failed (" + hdf5::last_message(errno) + ")");
}

void NxWriter::close() {
  Impl& m = *impl_;
  std::lock_guard lock(m.mutex);
  if (m.closed) throw Error(m.path, "", "closed twice");
  m.closed = true;
  hdf5::Quiet quiet;
  m.close_all();
  const std::string why = m.close_file();
  if (!why.empty()) throw Error(m.path, "", "closing the file failed (" + why + ")");
}

NxPatterns read_patterns(const std::filesystem::path& path, const std::string& entry, const std::string& data) {
  const std::string file_name = path.string();
  hdf5::Quiet quiet;
  const hdf5::Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));  // every handle owned: no cleanup
  const hid_t f = file.get();
  if (!file.ok()) throw Error(file_name, "", "cannot open the HDF5 file (" + hdf5::last_message(errno) + ")");
  const std::string group = "/" + entry + "/" + data;
  auto read = [&](const std::string& name, bool required, std::vector<hsize_t>& dims,
                  std::vector<double>& out) -> bool {
    const std::string p = group + "/" + name;
    if (H5Lexists(f, group.c_str(), H5P_DEFAULT) <= 0 || H5Lexists(f, p.c_str(), H5P_DEFAULT) <= 0) {
      if (!required) return false;
      throw Error(file_name, "dataset " + p, "missing");
    }
    const hdf5::Id d(H5Dopen2(f, p.c_str(), H5P_DEFAULT));
    const hdf5::Id s(d.ok() ? H5Dget_space(d.get()) : -1);
    const int rank = s.ok() ? H5Sget_simple_extent_ndims(s.get()) : -1;
    bool ok = rank >= 0;
    if (ok) {
      dims.assign(static_cast<size_t>(rank), 0);
      H5Sget_simple_extent_dims(s.get(), dims.data(), nullptr);
      hsize_t n = 1;
      for (auto x : dims) n *= x;
      out.assign(n, 0.0);
      ok = n == 0 || H5Dread(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0;
    }
    if (!ok) {
      const std::string why = hdf5::last_message(errno);
      throw Error(file_name, "dataset " + p, "unreadable (" + why + ")");
    }
    return true;
  };
  NxPatterns r;
  std::vector<hsize_t> dims, rdims, vdims, other;
  read("intensity", true, dims, r.intensity);
  read("radial", true, rdims, r.radial);
  if (dims.size() < 2 || rdims.size() != 1 || dims.back() != rdims[0]) {
    throw Error(file_name, "dataset " + group + "/intensity",
                "expected frames x bins (or rotations x translations x bins) with bins = radial's length");
  }
  r.bins = rdims[0];
  r.frames = 1;
  for (size_t i = 0; i + 1 < dims.size(); ++i) r.frames *= dims[i];
  for (const char* name : {"sigma", "count"}) {
    std::vector<double>& out = std::string(name) == "sigma" ? r.sigma : r.count;
    if (read(name, false, other, out) && other != dims) {
      throw Error(file_name, std::string("dataset ") + group + "/" + name, "shape differs from intensity's");
    }
  }
  std::vector<double> v;
  if (read("valid", false, vdims, v)) {
    if (v.size() != r.frames) {
      throw Error(file_name, "dataset " + group + "/valid", "expected one flag per frame");
    }
    for (double x : v) r.valid.push_back(x != 0);
  } else {
    r.valid.assign(r.frames, 1);
  }
  // The unit: pyfai_unit, else units.
  const std::string rp = group + "/radial";
  for (const char* a : {"pyfai_unit", "units"}) {
    if (H5Aexists_by_name(f, rp.c_str(), a, H5P_DEFAULT) <= 0) continue;
    const hdf5::Id at(H5Aopen_by_name(f, rp.c_str(), a, H5P_DEFAULT, H5P_DEFAULT));
    const hdf5::Id t(H5Aget_type(at.get()));
    if (H5Tis_variable_str(t.get()) > 0) {
      char* s = nullptr;
      if (H5Aread(at.get(), t.get(), &s) >= 0 && s) r.radial_unit = s;
      if (s) H5free_memory(s);
    }
    if (!r.radial_unit.empty()) break;
  }
  return r;
}


}  // namespace xrd::h5
