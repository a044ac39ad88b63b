// Which mutex guards what, written where the compiler can read it (clang's thread-safety
// attributes, as abseil's and LevelDB's GUARDED_BY): a field marked CV_GUARDED_BY(mu_) is read
// and written only with mu_ held; a function marked CV_REQUIRES(mu_) is called only with mu_ held.
//
// On GCC, which builds the project, they expand to nothing. Clang checks that the named mutex
// exists (a renamed or mistyped one fails the build); it checks the locking itself
// (-Wthread-safety) only for mutex types annotated as capabilities, which libstdc++'s std::mutex
// is not, so for now they say what the locking is meant to be and keep it next to the field.
#pragma once

#if defined(__clang__)
#define CV_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define CV_THREAD_ANNOTATION(x)
#endif

// The field is read and written only with `mu` held.
#define CV_GUARDED_BY(mu) CV_THREAD_ANNOTATION(guarded_by(mu))
// The function is called only with `mu` held (it does not take it itself).
#define CV_REQUIRES(...) CV_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
