// oneTBB helpers of the integration kernels. Internal to kernels/.
#pragma once
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <cstddef>

namespace xrd::integration {

// Runs f() in an arena of `threads` threads, or in the caller's arena when threads <= 0.
template <class F>
void in_arena(int threads, F&& f) {
  if (threads > 0) {
    tbb::task_arena arena(threads);
    arena.execute(f);
  } else {
    f();
  }
}

// body(row_begin, row_end) over [0, rows) in parallel, in an arena of `threads` threads (0: the caller's).
template <class F>
void for_rows(size_t rows, int threads, F&& body) {
  in_arena(threads, [&] {
    tbb::parallel_for(tbb::blocked_range<size_t>(0, rows, 8),
                      [&](const tbb::blocked_range<size_t>& r) { body(r.begin(), r.end()); });
  });
}

}  // namespace xrd::integration
