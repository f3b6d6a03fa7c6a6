// The HDF5 helpers every HDF5 user shares (NXmx frames, FILE.h5::/path images, the NeXus output writer): an owning
// handle of any kind, a file handle that lets go even of a corrupt file, quiet error stacks, HDF5's innermost message.
#pragma once
#include <hdf5.h>

#include <cstring>
#include <string>
#include <vector>

namespace xrd::hdf5 {

// Closes an HDF5 id of any kind (file, group, dataset, dataspace, type, property list, attribute) when it goes out
// of scope. A negative id (a failed call) holds nothing: ok() says which.
class Id {
 public:
  Id() = default;
  explicit Id(hid_t id) : id_(id) {}
  ~Id() { reset(); }
  Id(Id&& o) noexcept : id_(o.id_) { o.id_ = -1; }
  Id& operator=(Id&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      o.id_ = -1;
    }
    return *this;
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }
  void reset() {
    if (id_ >= 0) {
      switch (H5Iget_type(id_)) {
        case H5I_FILE: H5Fclose(id_); break;
        case H5I_GROUP: H5Gclose(id_); break;
        case H5I_DATASET: H5Dclose(id_); break;
        case H5I_DATASPACE: H5Sclose(id_); break;
        case H5I_DATATYPE: H5Tclose(id_); break;
        case H5I_GENPROP_LST: H5Pclose(id_); break;
        case H5I_ATTR: H5Aclose(id_); break;
        default: break;
      }
    }
    id_ = -1;
  }

 private:
  hid_t id_ = -1;
};

// A file opened for reading that may be corrupt: on close, whatever is still open in the file is closed too, and a
// handle the file would not let go of is released (otherwise HDF5 loops at exit, "infinite loop closing library",
// status 1). Open it with a file access list of H5F_CLOSE_STRONG.
class ReadFile {
 public:
  explicit ReadFile(hid_t id) : id_(id) {}
  ~ReadFile() {
    if (id_ < 0) return;
    const unsigned kinds = H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR | H5F_OBJ_LOCAL;
    const ssize_t n = H5Fget_obj_count(id_, kinds);
    if (n > 0) {
      std::vector<hid_t> ids(static_cast<size_t>(n));
      const ssize_t got = H5Fget_obj_ids(id_, kinds, ids.size(), ids.data());
      for (ssize_t k = 0; k < got; ++k)
        while (H5Iis_valid(ids[k]) > 0 && H5Idec_ref(ids[k]) >= 0) {
        }
    }
    if (H5Fclose(id_) < 0)
      while (H5Iis_valid(id_) > 0 && H5Idec_ref(id_) >= 0) {
      }
  }
  ReadFile(const ReadFile&) = delete;
  ReadFile& operator=(const ReadFile&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
};

// Silences HDF5's error stack printing while alive (errors are reported by us, with the file named).
struct Quiet {
  H5E_auto2_t func = nullptr;
  void* data = nullptr;
  Quiet() {
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~Quiet() { H5Eset_auto2(H5E_DEFAULT, func, data); }
  Quiet(const Quiet&) = delete;
  Quiet& operator=(const Quiet&) = delete;
};

// The innermost message of HDF5's error stack, for our own error text ("HDF5: <message>"), with the system's reason
// when HDF5 recorded one (e.g. "No space left on device": HDF5 1.10 keeps it in the text of the write that failed),
// else strerror(saved_errno) when given.
inline std::string last_message(int saved_errno = 0) {
  struct Walk {
    std::string inner, system;
  } w;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* e, void* out) -> herr_t {
        auto* w = static_cast<Walk*>(out);
        if (n == 0 && e->desc) w->inner = e->desc;
        if (e->desc && w->system.empty()) {
          const std::string d = e->desc;
          const auto p = d.find("error message = '");
          if (p != std::string::npos) {
            const auto b = p + 17, end = d.find('\'', b);
            w->system = d.substr(b, end == std::string::npos ? std::string::npos : end - b);
          }
        }
        return 0;
      },
      &w);
  // HDF5's text of a failed system call is long ("file write failed: time = ..., errno = 28, error message = '...',
  // buf = ..."): its head and the system's reason are what a user needs.
  if (!w.system.empty() && w.inner.find("error message = '") != std::string::npos)
    w.inner = w.inner.substr(0, w.inner.find(':'));
  std::string msg = w.inner.empty() ? "HDF5 error" : "HDF5: " + w.inner;
  if (!w.system.empty() && msg.find(w.system) == std::string::npos)
    msg += ": " + w.system;
  else if (w.system.empty() && saved_errno != 0 && msg.find(std::strerror(saved_errno)) == std::string::npos)
    msg += ": " + std::string(std::strerror(saved_errno));
  return msg;
}

}  // namespace xrd::hdf5
