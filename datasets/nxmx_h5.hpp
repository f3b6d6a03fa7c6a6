// Small HDF5 helpers shared by the NXmx reader and writer (datasets/nxmx_*.cpp only): an owning handle, quiet
// error stacks, the innermost HDF5 message.
#pragma once
#include <hdf5.h>

#include <string>

namespace xrd::nxmx::h5 {

// Closes an HDF5 id of any kind (file, group, dataset, dataspace, type, property list) when it goes out of scope.
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

// Silences HDF5's error stack printing while alive (errors are reported by us, with the file named).
struct Quiet {
  H5E_auto2_t func = nullptr;
  void* data = nullptr;
  Quiet() {
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~Quiet() { H5Eset_auto2(H5E_DEFAULT, func, data); }
};

inline std::string last_message() {
  std::string msg;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* e, void* out) -> herr_t {
        if (n == 0 && e->desc) *static_cast<std::string*>(out) = e->desc;
        return 0;
      },
      &msg);
  return msg.empty() ? "HDF5 error" : "HDF5: " + msg;
}

}  // namespace xrd::nxmx::h5
