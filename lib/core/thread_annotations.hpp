// Clang's thread-safety attributes ("Thread Safety Analysis" in clang's manual) as macros:
// they expand to the attribute under clang and to nothing elsewhere (GCC ignores them anyway, with a
// warning). `scripts/build thread-safety` compiles with clang and -Wthread-safety -Werror, so a member
// read or written without the mutex its declaration names is a build error there (docs/style.md,
// "Locks"). The types they go on are in core/mutex.hpp.
#pragma once

#if defined(__clang__)
#define H2R_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define H2R_THREAD_ANNOTATION(x)
#endif

// On a class: it is a lock (a "capability") named `x` in the diagnostics.
#define H2R_CAPABILITY(x) H2R_THREAD_ANNOTATION(capability(x))
// On a class: an RAII object that holds a capability for its lifetime (MutexLock).
#define H2R_SCOPED_CAPABILITY H2R_THREAD_ANNOTATION(scoped_lockable)

// On a member: read or written only with `x` held.
#define H2R_GUARDED_BY(x) H2R_THREAD_ANNOTATION(guarded_by(x))
// On a pointer member (raw or smart): what it points to is read or written only with `x` held.
#define H2R_PT_GUARDED_BY(x) H2R_THREAD_ANNOTATION(pt_guarded_by(x))

// On a function: the caller holds these (exclusively / shared) when calling it.
#define H2R_REQUIRES(...) H2R_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define H2R_REQUIRES_SHARED(...) H2R_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
// On a function: the caller must not hold these (the function takes them itself).
#define H2R_EXCLUDES(...) H2R_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

// On a function: it takes / gives back the capability (none named: `this`, or the scoped object's).
#define H2R_ACQUIRE(...) H2R_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define H2R_ACQUIRE_SHARED(...) H2R_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define H2R_RELEASE(...) H2R_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define H2R_RELEASE_SHARED(...) H2R_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
// On a function returning bool: it took the capability when it returned the first argument.
#define H2R_TRY_ACQUIRE(...) H2R_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// On a function: from its return on, the analysis takes the capability as held (it cannot see who
// took it, e.g. an object that keeps a lock for its lifetime).
#define H2R_ASSERT_CAPABILITY(x) H2R_THREAD_ANNOTATION(assert_capability(x))
// On a function: it returns a reference to this capability.
#define H2R_RETURN_CAPABILITY(x) H2R_THREAD_ANNOTATION(lock_returned(x))

// On a function: not checked. Only where the analysis cannot follow, with a comment saying why.
#define H2R_NO_THREAD_SAFETY_ANALYSIS H2R_THREAD_ANNOTATION(no_thread_safety_analysis)
