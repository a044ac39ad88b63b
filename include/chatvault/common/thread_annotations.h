// Which mutex guards what, written where the compiler can read it (clang's thread-safety
// attributes, as abseil's and LevelDB's GUARDED_BY): a field marked CV_GUARDED_BY(mu_) is read
// and written only with mu_ held; a function marked CV_REQUIRES(mu_) is called only with mu_ held.
//
// On GCC, which builds the project, they expand to nothing. Clang checks them (-Wthread-safety)
// for mutexes declared as capabilities: chatvault::Mutex and MutexLock in common/mutex.h are,
// libstdc++'s std::mutex is not, so shared state is guarded by a chatvault::Mutex.
// tools/check-thread-safety.sh runs that analysis over every file that includes this header.
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
// The function is called only without `mu` held (it takes it, or calls what does).
#define CV_EXCLUDES(...) CV_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

// For the lock types themselves (common/mutex.h).
// The class is a lock: what CV_GUARDED_BY and CV_REQUIRES name.
#define CV_CAPABILITY(name) CV_THREAD_ANNOTATION(capability(name))
// The class holds a lock for its lifetime (RAII).
#define CV_SCOPED_CAPABILITY CV_THREAD_ANNOTATION(scoped_lockable)
// The function takes the lock (its argument, or `this` without one) and returns holding it.
#define CV_ACQUIRE(...) CV_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
// The function returns with the lock (its argument, or `this`) released.
#define CV_RELEASE(...) CV_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
