// The cost of writing one decoded Pilatus 2M frame (1475 x 1679 int32 = 9.9 MB), with ordinary stores (through the
// caches, as the byte-offset kernels write) and with non-temporal stores (_mm256_stream_si256 + sfence), alone and
// followed by a read of the whole frame (what integration does next in the fused path). Thread CPU time, median and
// 10th-90th percentiles of 200 passes over the same buffer (as the decode benchmarks reuse theirs).
//   g++ -O2 -mavx2 -o store_floor store_floor.cpp && ./store_floor
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

static double cpu_ms() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

int main() {
  const size_t n = size_t(1475) * 1679;
  auto* o = static_cast<int32_t*>(aligned_alloc(64, (n * 4 + 63) / 64 * 64));
  memset(o, 1, n * 4);
  auto write = [&](bool nt) {
    __m256i x = _mm256_set1_epi32(3);
    for (size_t i = 0; i + 8 <= n; i += 8) {
      if (nt) _mm256_stream_si256(reinterpret_cast<__m256i*>(o + i), x);
      else _mm256_store_si256(reinterpret_cast<__m256i*>(o + i), x);
      x = _mm256_add_epi32(x, x);
    }
    if (nt) _mm_sfence();
  };
  auto read = [&] {
    __m256i s = _mm256_setzero_si256();
    for (size_t i = 0; i + 8 <= n; i += 8) s = _mm256_add_epi32(s, _mm256_load_si256(reinterpret_cast<__m256i*>(o + i)));
    asm volatile("" ::"x"(s) : "memory");
  };
  auto run = [&](const char* name, auto f) {
    std::vector<double> v;
    for (int r = 0; r < 200; ++r) {
      const double t = cpu_ms();
      f();
      asm volatile("" ::"r"(o) : "memory");
      v.push_back(cpu_ms() - t);
    }
    std::sort(v.begin(), v.end());
    printf("| %s | %.3f | %.3f-%.3f |\n", name, v[100], v[20], v[180]);
  };
  printf("| 9.9 MB int32 frame | CPU ms (median) | p10-p90 |\n| --- | ---: | ---: |\n");
  run("write, ordinary stores", [&] { write(false); });
  run("write, non-temporal stores", [&] { write(true); });
  run("write (ordinary) then read", [&] { write(false); read(); });
  run("write (non-temporal) then read", [&] { write(true); read(); });
}
